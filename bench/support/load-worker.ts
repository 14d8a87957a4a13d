import autocannon from 'autocannon';

/**
 * Fires the load from a child process: in the server's event loop the client would compete with
 * the server and the figures would measure both. Not a worker thread: autocannon takes any
 * non-main thread for one of its own workers and then answers with raw histograms.
 */
export interface LoadJob {
  url: string;
  body: string;
  token: string;
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  totalRequests: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  transportErrors: number;
  timeouts: number;
  non2xx: number;
  graphqlErrors: number;
  /** SQL statements per request, from `extensions.sqlQueries`: value → number of responses. */
  sqlQueries: Record<string, number>;
}

async function run(job: LoadJob): Promise<LoadResult> {
  let graphqlErrors = 0;
  const sqlQueries: Record<string, number> = {};
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.durationSeconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${job.token}` },
        body: job.body,
        onResponse: (status: number, body: string) => {
          if (status !== 200) return;
          const json = JSON.parse(body) as { errors?: unknown[]; extensions?: { sqlQueries?: number } };
          if (json.errors?.length) graphqlErrors++;
          const n = String(json.extensions?.sqlQueries ?? 'missing');
          sqlQueries[n] = (sqlQueries[n] ?? 0) + 1;
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    totalRequests: result.requests.total,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
    transportErrors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors,
    sqlQueries,
  };
}

process.once('message', (job: LoadJob) => {
  run(job).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (err: unknown) => process.send!({ ok: false, error: String(err) }, () => process.exit(1)),
  );
});

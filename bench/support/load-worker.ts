import autocannon from 'autocannon';

/**
 * Fires the load from a child process: in the server's event loop the client would compete with
 * the server and the figures would measure both. Not a worker thread: autocannon takes any
 * non-main thread for one of its own workers and then answers with raw histograms.
 *
 * Every 200 response is checked for GraphQL errors: an error page is cheap to serve and would
 * flatter whichever server sent it.
 */
export interface LoadJob {
  url: string;
  body: string;
  /** Bearer token; none for servers without accounts (the peer bench). */
  token?: string;
  connections: number;
  durationSeconds: number;
  /**
   * Parse each response to count `extensions.sqlQueries` (Colloquy outside production mode).
   * Otherwise responses are only checked for `errors` as text, which costs the load generator
   * less CPU on the machine it shares with the server.
   */
  countSql?: boolean;
}

export interface LoadResult {
  requestsPerSecond: number;
  totalRequests: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  transportErrors: number;
  timeouts: number;
  non2xx: number;
  graphqlErrors: number;
  /** Transport errors, timeouts, non-2xx answers and bodies with `errors`. */
  failures: number;
  /** SQL statements per request, from `extensions.sqlQueries`: value → number of responses (with `countSql`). */
  sqlQueries: Record<string, number>;
}

async function run(job: LoadJob): Promise<LoadResult> {
  let graphqlErrors = 0;
  const sqlQueries: Record<string, number> = {};
  const onResponse = job.countSql
    ? (status: number, body: string) => {
        if (status !== 200) return;
        const json = JSON.parse(body) as { errors?: unknown[]; extensions?: { sqlQueries?: number } };
        if (json.errors?.length) graphqlErrors++;
        const n = String(json.extensions?.sqlQueries ?? 'missing');
        sqlQueries[n] = (sqlQueries[n] ?? 0) + 1;
      }
    : (status: number, body: string) => {
        if (status === 200 && (!body.startsWith('{"data":{') || body.includes('"errors":'))) graphqlErrors++;
      };
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.durationSeconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(job.token ? { authorization: `Bearer ${job.token}` } : {}) },
        body: job.body,
        onResponse,
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
    failures: result.errors + result.timeouts + result.non2xx + graphqlErrors,
    sqlQueries,
  };
}

process.once('message', (job: LoadJob) => {
  run(job).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (err: unknown) => process.send!({ ok: false, error: String(err) }, () => process.exit(1)),
  );
});

import autocannon from 'autocannon';

/**
 * autocannon in a child process of its own, so the load generator never shares an event loop with
 * a server. Every 200 response is checked for GraphQL errors: an error page is cheap to serve and
 * would flatter whichever server sent it.
 */
export interface PeerLoadJob {
  url: string;
  body: string;
  connections: number;
  durationSeconds: number;
}

export interface PeerLoadResult {
  requestsPerSecond: number;
  totalRequests: number;
  latencyMs: { p50: number; p99: number; mean: number; max: number };
  /** Transport errors, timeouts, non-2xx answers and bodies with `errors`. */
  failures: number;
}

async function run(job: PeerLoadJob): Promise<PeerLoadResult> {
  let graphqlErrors = 0;
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.durationSeconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: job.body,
        onResponse: (status: number, body: string) => {
          if (status === 200 && (!body.startsWith('{"data":{') || body.includes('"errors":'))) graphqlErrors++;
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    totalRequests: result.requests.total,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average, max: result.latency.max },
    failures: result.errors + result.timeouts + result.non2xx + graphqlErrors,
  };
}

process.once('message', (job: PeerLoadJob) => {
  run(job).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (err: unknown) => process.send!({ ok: false, error: String(err) }, () => process.exit(1)),
  );
});

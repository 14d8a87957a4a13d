import http from 'node:http';

/**
 * Closed-loop load for the feed benchmark, from a child process (in the server's event loop the
 * client would compete with the server). Unlike autocannon it rotates the bearer token over many
 * members and labels each request: a member's first request in the run meets a cold per-member
 * cache, the later ones a warm one, and the two are reported apart.
 */
export interface FeedLoadJob {
  url: string;
  body: string;
  tokens: string[];
  connections: number;
  durationSeconds: number;
  /** Stop after this many requests (e.g. one per member), if sooner than the duration. */
  maxRequests?: number;
}

export interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface FeedLoadResult {
  requestsPerSecond: number;
  all: Percentiles;
  /** Each member's first request in the run. */
  cold: Percentiles;
  /** Every later request of the same member. */
  warm: Percentiles;
  errors: number;
  /** CPU time this load generator spent per request: it shares the machine with the server. */
  clientCpuMsPerRequest: number;
}

function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN);
  const r = (v: number) => Math.round(v * 10) / 10;
  return { n: s.length, p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(s[s.length - 1] ?? NaN) };
}

function post(agent: http.Agent, url: URL, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run(job: FeedLoadJob): Promise<FeedLoadResult> {
  const url = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.connections });
  const cold: number[] = [];
  const warm: number[] = [];
  const seen = new Set<number>();
  let next = 0;
  let errors = 0;
  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  const until = started + job.durationSeconds * 1000;
  const loop = async () => {
    while (Date.now() < until && next < (job.maxRequests ?? Infinity)) {
      const member = next++ % job.tokens.length;
      const first = !seen.has(member);
      seen.add(member);
      const t = process.hrtime.bigint();
      try {
        const res = await post(agent, url, job.tokens[member], job.body);
        const ms = Number(process.hrtime.bigint() - t) / 1e6;
        const json = JSON.parse(res.text) as { errors?: unknown[] };
        if (res.status !== 200 || json.errors?.length) errors++;
        (first ? cold : warm).push(ms);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: job.connections }, loop));
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  const cpu = process.cpuUsage(cpuBefore);
  const n = cold.length + warm.length;
  return {
    requestsPerSecond: Math.round(((cold.length + warm.length) / elapsed) * 10) / 10,
    all: percentiles([...cold, ...warm]), cold: percentiles(cold), warm: percentiles(warm),
    errors, clientCpuMsPerRequest: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, n)) * 100) / 100,
  };
}

process.once('message', (job: FeedLoadJob) => {
  run(job).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (err: unknown) => process.send!({ ok: false, error: String(err) }, () => process.exit(1)),
  );
});

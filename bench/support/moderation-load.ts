import http from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';

/**
 * The load generator of bench:moderation, in a child process so its event loop is not the
 * server's. One moderator dashboard subscribed to AUTOMATED verdicts, and several keep-alive HTTP
 * connections creating posts at a steady offered rate (open loop: sends are scheduled by the
 * clock, not by responses, so a slow server shows up as latency and backlog, not as a lower rate).
 * Both ends of each measurement are taken here, on one clock.
 */

export interface LoadSetup {
  url: string;
  dashboardToken: string;
  authorTokens: string[];
}

export interface PhaseJob {
  rate: number;
  seconds: number;
  connections: number;
  /** How long to wait after the last send for outstanding verdicts. */
  drainSeconds: number;
}

export interface PhaseResult {
  offeredRate: number;
  sent: number;
  created: number;
  achievedRate: number;
  /** createPost answered with errors / non-200 / transport failures; sends skipped because too many were outstanding. */
  errors: { graphql: number; http: number; transport: number; skipped: number };
  createMs: Percentiles;
  /** createPost returned → its AUTOMATED verdict arrived on the dashboard. */
  verdictMs: Percentiles;
  /** Verdicts that arrived before the createPost response did (counted as 0 ms above). */
  verdictBeforeResponse: number;
  missingVerdicts: number;
  firstErrors: string[];
}

export interface Percentiles { n: number; p50: number; p90: number; p99: number; max: number; mean: number }

export function percentiles(values: number[]): Percentiles {
  if (!values.length) return { n: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

const CREATE = `mutation($input: CreatePostInput!) { createPost(input: $input) { id } }`;
const VERDICTS = `subscription { moderationVerdicts(filter: { types: [AUTOMATED] }) { sequence subjectId type action newStatus } }`;

const WORDS = (
  'python rust typescript postgres index query latency cache thread async await borrow checker closure ' +
  'compile error stack trace deploy container kubernetes memory leak garbage collector benchmark profile ' +
  'function module package version upgrade migration schema column transaction lock deadlock retry timeout'
).split(' ');
const TOXIC = 'You are a stupid idiot and nobody wants your garbage answers here, shut up';
const SPAM = 'WINNER!! Claim your FREE prize of 1000 cash now, call 09061701461, text STOP to opt out';

/** Deterministic text, mostly benign with some toxic and spam, so the model does its usual work. */
function postInput(i: number) {
  let x = (i * 2654435761) >>> 0;
  const next = () => (x = (x * 1103515245 + 12345) >>> 0) % WORDS.length;
  const words = Array.from({ length: 30 + (i % 40) }, () => WORDS[next()]).join(' ');
  const body = i % 20 === 7 ? `${words}. ${TOXIC}` : i % 20 === 13 ? `${SPAM} ${words}` : words;
  return { kind: 'QUESTION', title: `Bench question ${i}: ${WORDS[next()]} and ${WORDS[next()]}`, body, tags: ['bench', WORDS[next()]] };
}

const now = () => performance.now();

async function main(setup: LoadSetup) {
  const verdictAt = new Map<string, number>();
  let dashboardError: string | undefined;
  const client: Client = createClient({
    url: setup.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${setup.dashboardToken}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: (e) => (dashboardError = String(e)),
  });
  const subscribed = new Promise<void>((resolve) => {
    client.on('connected', () => setTimeout(resolve, 300)); // let the server attach the subscription
  });
  client.subscribe({ query: VERDICTS }, {
    next: (v: any) => {
      const e = v.data?.moderationVerdicts;
      if (e) verdictAt.set(e.subjectId, now());
      else dashboardError ??= JSON.stringify(v.errors);
    },
    error: (e) => (dashboardError = JSON.stringify(e)),
    complete: () => (dashboardError ??= 'dashboard subscription completed'),
  });
  await subscribed;

  let counter = 0;
  async function phase(job: PhaseJob): Promise<PhaseResult> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: job.connections });
    const target = new URL(setup.url);
    const returnedAt = new Map<string, number>();
    const createMs: number[] = [];
    const errors = { graphql: 0, http: 0, transport: 0, skipped: 0 };
    const firstErrors: string[] = [];
    const note = (e: string) => firstErrors.length < 5 && firstErrors.push(e.slice(0, 300));
    let sent = 0;
    let inFlight = 0;
    // Bounded: never more outstanding requests than 2 s of the offered rate.
    const maxInFlight = Math.max(job.connections, job.rate * 2);

    const send = (i: number) => {
      const body = JSON.stringify({ query: CREATE, variables: { input: postInput(i) } });
      const token = setup.authorTokens[i % setup.authorTokens.length];
      const started = now();
      inFlight++;
      const req = http.request({
        agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const t = now();
          inFlight--;
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            errors.http++;
            return note(`HTTP ${res.statusCode}: ${text}`);
          }
          const json = JSON.parse(text) as { data?: { createPost?: { id: string } }; errors?: unknown[] };
          const id = json.data?.createPost?.id;
          if (json.errors?.length || !id) {
            errors.graphql++;
            return note(JSON.stringify(json.errors));
          }
          returnedAt.set(id, t);
          createMs.push(t - started);
        });
      });
      req.on('error', (e) => {
        inFlight--;
        errors.transport++;
        note(String(e));
      });
      req.end(body);
    };

    const start = now();
    const total = Math.round(job.rate * job.seconds);
    await new Promise<void>((resolve) => {
      // 1 ms ticks; each sends what the clock says is due, so timer jitter does not lower the rate.
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((now() - start) / 1000) * job.rate));
        while (sent < due) {
          sent++;
          if (inFlight >= maxInFlight) errors.skipped++;
          else send(counter++);
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    const sendEnd = now();
    // Drain: bounded by drainSeconds; responses first, then verdicts of the posts created.
    const deadline = sendEnd + job.drainSeconds * 1000;
    while (now() < deadline && (inFlight > 0 || [...returnedAt.keys()].some((id) => !verdictAt.has(id)))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const wallSeconds = Math.max(job.seconds, (sendEnd - start) / 1000);
    const lat: number[] = [];
    let early = 0;
    let missing = 0;
    for (const [id, t] of returnedAt) {
      const v = verdictAt.get(id);
      if (v === undefined) missing++;
      else {
        if (v < t) early++;
        lat.push(Math.max(0, v - t));
        verdictAt.delete(id);
      }
    }
    agent.destroy();
    if (dashboardError) note(`dashboard: ${dashboardError}`);
    return {
      offeredRate: job.rate, sent, created: returnedAt.size, achievedRate: returnedAt.size / wallSeconds,
      errors, createMs: percentiles(createMs), verdictMs: percentiles(lat), verdictBeforeResponse: early,
      missingVerdicts: missing, firstErrors,
    };
  }

  process.send!({ type: 'ready' });
  process.on('message', (m: { type: 'phase'; job: PhaseJob } | { type: 'stop' }) => {
    if (m.type === 'stop') {
      void Promise.resolve(client.dispose()).finally(() => process.exit(0));
      return;
    }
    phase(m.job).then(
      (result) => process.send!({ type: 'result', result }),
      (err: unknown) => process.send!({ type: 'error', error: String((err as Error).stack ?? err) }),
    );
  });
}

if (require.main === module) {
  process.once('message', (setup: LoadSetup) => {
    main(setup).catch((err) => {
      process.send!({ type: 'error', error: String((err as Error).stack ?? err) });
      process.exit(1);
    });
  });
  // The orchestrator went away: nothing else will stop us.
  process.once('disconnect', () => process.exit(0));
}

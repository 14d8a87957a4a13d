import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnBenchServer, type BenchServer } from './support/bench-server';
import type { LoadSetup, PhaseJob, PhaseResult } from './support/moderation-load';

/**
 * `npm run bench:moderation`: end-to-end moderation latency. Posts are created at a steady offered
 * rate by several HTTP connections while one moderator dashboard is subscribed to
 * `moderationVerdicts`; for each post, the time from `createPost` returning to its AUTOMATED verdict
 * arriving on the dashboard. Then a short step search for the highest rate the dispatcher sustains
 * without the pending backlog growing.
 *
 * Three processes: this one (orchestration and backlog sampling only), the server (with the
 * dispatcher and the inference pool), and the load generator (dashboard and posters).
 */

const USAGE = `Usage: npm run bench:moderation -- [--rates 50,200,500] [--seconds 10] [--warmup 3] [--connections 8]
  [--search-steps 4] [--search-seconds 6] [--max-rate 2000] [--workers 1] [--batch-size 128]`;

interface Trial {
  label: string;
  result: PhaseResult;
  backlog: Array<[number, number]>;
  slope: number;
  sustained: boolean;
}

function startLoad(setup: LoadSetup) {
  const child: ChildProcess = fork(path.join(__dirname, 'support', 'moderation-load.js'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiter: { resolve(v: any): void; reject(e: Error): void } | undefined;
  child.on('message', (m: { type: string; result?: PhaseResult; error?: string }) => {
    const w = waiter;
    waiter = undefined;
    if (m.type === 'error') w?.reject(new Error(m.error));
    else w?.resolve(m.result);
  });
  child.once('exit', (code) => waiter?.reject(new Error(`load generator exited with ${code}`)));
  const next = <T>() => new Promise<T>((resolve, reject) => (waiter = { resolve, reject }));
  const ready = next<void>();
  child.send(setup);
  return {
    ready,
    phase(job: PhaseJob) {
      const r = next<PhaseResult>();
      child.send({ type: 'phase', job });
      return r;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Least-squares slope of the backlog (jobs per second) over the samples. */
function slopeOf(samples: Array<[number, number]>): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const mx = samples.reduce((a, [x]) => a + x, 0) / n;
  const my = samples.reduce((a, [, y]) => a + y, 0) / n;
  const num = samples.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = samples.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den ? num / den : 0;
}

/** Waits (bounded) until the dispatcher has caught up, so one trial does not inherit another's backlog. */
async function drainBacklog(server: BenchServer, maxSeconds: number): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  let n = await server.backlog();
  while (n > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    n = await server.backlog();
  }
  return n;
}

async function trial(server: BenchServer, load: ReturnType<typeof startLoad>, label: string, job: PhaseJob): Promise<Trial> {
  const backlog: Array<[number, number]> = [];
  const started = Date.now();
  let sampling = true;
  // Sampled for the sending window only: the drain that follows would bias the slope downwards.
  const sampler = (async () => {
    for (let i = 0; sampling && i < job.seconds * 4 + 8; i++) {
      await new Promise((r) => setTimeout(r, 250));
      if (!sampling) break;
      backlog.push([(Date.now() - started) / 1000, await server.backlog()]);
    }
  })();
  const stopSampling = setTimeout(() => (sampling = false), job.seconds * 1000);
  const result = await load.phase(job);
  clearTimeout(stopSampling);
  sampling = false;
  await sampler;
  const slope = slopeOf(backlog);
  const last = backlog.at(-1)?.[1] ?? 0;
  // Sustained: the rate was really offered and served, every verdict came, and the backlog stayed
  // flat (a batch-sized sawtooth is normal; a trend above 5% of the rate, or more than a second's
  // worth of jobs left at the end, is not).
  const sustained =
    result.achievedRate >= 0.95 * job.rate &&
    result.missingVerdicts === 0 &&
    result.errors.graphql + result.errors.http + result.errors.transport + result.errors.skipped === 0 &&
    slope <= 0.05 * job.rate &&
    last <= Math.max(20, job.rate);
  return { label, result, backlog, slope, sustained };
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

function printTrials(title: string, trials: Trial[]) {
  console.log(`\n${title}`);
  console.log('| phase | offered/s | achieved/s | created | verdict p50 ms | p90 | p99 | max | createPost p50 ms | p99 | errors (gql/http/net/skip) | missing | backlog slope/s | backlog max | sustained |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const t of trials) {
    const r = t.result;
    console.log(`| ${t.label} | ${r.offeredRate} | ${f(r.achievedRate)} | ${r.created} | ${f(r.verdictMs.p50)} | ${f(r.verdictMs.p90)} | ${f(r.verdictMs.p99)} | ${f(r.verdictMs.max)} | ` +
      `${f(r.createMs.p50)} | ${f(r.createMs.p99)} | ${r.errors.graphql}/${r.errors.http}/${r.errors.transport}/${r.errors.skipped} | ${r.missingVerdicts} | ` +
      `${f(t.slope)} | ${Math.max(0, ...t.backlog.map(([, n]) => n))} | ${t.sustained ? 'yes' : 'NO'} |`);
  }
  for (const t of trials) {
    // One sample a second is enough to see a trend.
    const perSecond = t.backlog.filter((_, i) => i % 4 === 3).map(([s, n]) => `${Math.round(s)}s:${n}`);
    console.log(`  backlog ${t.label}: ${perSecond.join(' ')}`);
    for (const e of t.result.firstErrors) console.log(`  error ${t.label}: ${e}`);
  }
}

async function main(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string', default: '50,200,500' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '8' },
      'search-steps': { type: 'string', default: '4' },
      'search-seconds': { type: 'string', default: '6' },
      'max-rate': { type: 'string', default: '2000' },
      workers: { type: 'string', default: '1' },
      'batch-size': { type: 'string', default: '128' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const rates = values.rates.split(',').map(Number);
  const [seconds, warmup, connections, steps, searchSeconds, maxRate, workers, batchSize] = [
    values.seconds, values.warmup, values.connections, values['search-steps'], values['search-seconds'], values['max-rate'], values.workers, values['batch-size'],
  ].map(Number);
  if (values.help || !rates.every((r) => Number.isInteger(r) && r > 0) || ![seconds, connections, searchSeconds, maxRate, workers, batchSize].every((n) => Number.isInteger(n) && n > 0) ||
      !Number.isInteger(warmup) || warmup < 0 || !Number.isInteger(steps) || steps < 0 || steps > 10) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }

  const server = await spawnBenchServer({
    env: { ML_ENABLED: 'true', ML_WORKERS: String(workers), MODERATION_BATCH_SIZE: String(batchSize) },
    accounts: { MODERATOR: 1, MEMBER: connections },
  });
  let load: ReturnType<typeof startLoad> | undefined;
  try {
    load = startLoad({ url: server.url, dashboardToken: server.tokens.MODERATOR![0], authorTokens: server.tokens.MEMBER! });
    await load.ready;
    console.log(JSON.stringify({
      bench: 'moderation-latency', database: server.database, cpus: os.cpus().length, mlWorkers: workers, batchSize,
      connections, rates, secondsPerRate: seconds, warmupSeconds: warmup, node: process.version,
    }));
    const drainSeconds = 15;
    if (warmup > 0) await load.phase({ rate: rates[0], seconds: warmup, connections, drainSeconds });

    const fixed: Trial[] = [];
    for (const rate of rates) {
      const left = await drainBacklog(server, 60);
      if (left > 0) console.log(`  (backlog still ${left} after 60 s before ${rate}/s)`);
      fixed.push(await trial(server, load, `${rate}/s`, { rate, seconds, connections, drainSeconds }));
    }
    printTrials(`Fixed rates (${seconds} s each, ${connections} connections):`, fixed);

    // Step search: between the best sustained and the first unsustained rate (doubling upwards
    // first when every fixed rate held), halving the interval each step.
    const search: Trial[] = [];
    let lo = Math.max(0, ...fixed.filter((t) => t.sustained).map((t) => t.result.offeredRate));
    let hi = Math.min(maxRate * 2, ...fixed.filter((t) => !t.sustained).map((t) => t.result.offeredRate));
    for (let i = 0; i < steps; i++) {
      const rate = hi > maxRate ? Math.min(maxRate, Math.max(50, lo * 2)) : Math.round((lo + hi) / 2);
      if (rate <= lo || rate >= hi || hi - lo <= Math.max(10, lo * 0.05)) break;
      await drainBacklog(server, 60);
      const t = await trial(server, load, `search ${rate}/s`, { rate, seconds: searchSeconds, connections, drainSeconds });
      search.push(t);
      if (t.sustained) lo = rate;
      else hi = rate;
    }
    if (search.length) printTrials(`Step search (${searchSeconds} s each):`, search);
    const target = fixed.find((t) => t.result.offeredRate === 200);
    console.log(`\nHighest rate sustained without the backlog growing: ${lo ? `${lo} posts/s` : 'none of those tried'}` +
      (hi <= maxRate ? ` (${hi} posts/s was not)` : ` (search capped at ${maxRate})`));
    if (target) console.log(`Target p99 < 100 ms at 200 posts/s: p99 ${f(target.result.verdictMs.p99)} ms → ${target.result.verdictMs.p99 < 100 ? 'met' : 'MISSED'}`);
  } finally {
    await load?.stop();
    await server.stop();
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * `npm run bench:inference [-- --workers N --seconds S]`: moderation throughput and latency
 * through the real pool (worker threads, committed model, default backend).
 *
 * - closed loop, one caller, batch sizes 1–512 (batch 1 is the unbatched rate);
 * - 64 concurrent callers of one text each (the pool's dynamic batching does the grouping);
 * - open loop at 1,000 texts/s offered, one text per call;
 * - the same 64 callers through a second pool whose batches hold one text (`maxBatchSize` 1):
 *   the gain from dynamic batching itself at equal concurrency, where the one-caller batch-1 rate
 *   is also bounded by each call's round trip.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InferencePool } from '../ml-runtime/pool';
import { defaultDataRoot } from '../ml-runtime/paths';
import { defaultWorkerCount, type PoolLogger } from '../ml-runtime/options';

interface Row {
  scenario: string;
  calls: number;
  texts: number;
  textsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

function corpus(): string[] {
  const file = join(defaultDataRoot(), 'moderation', 'tweeteval', 'offensive', 'val_text.txt');
  if (existsSync(file)) return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const words = 'the a answer question thanks why how code error build fails you idiot great post free prize'.split(' ');
  return Array.from({ length: 2000 }, (_, i) => Array.from({ length: 20 }, (_, j) => words[(i * 7 + j * 13) % words.length]).join(' '));
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

function row(scenario: string, latencies: number[], texts: number, seconds: number): Row {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { scenario, calls: latencies.length, texts, textsPerSec: Math.round(texts / seconds), p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) };
}

async function closedLoop(pool: InferencePool, texts: string[], callers: number, batch: number, seconds: number): Promise<Row> {
  const latencies: number[] = [];
  let done = 0;
  let cursor = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const start = (cursor = (cursor + batch) % (texts.length - batch));
        const t0 = performance.now();
        await pool.moderate(texts.slice(start, start + batch));
        latencies.push(performance.now() - t0);
        done += batch;
      }
    }),
  );
  const label = callers === 1 ? `1 caller, batch ${batch}` : `${callers} callers, batch ${batch}`;
  return row(label, latencies, done, (performance.now() - started) / 1000);
}

async function openLoop(pool: InferencePool, texts: string[], perSecond: number, seconds: number): Promise<Row> {
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const started = performance.now();
  const total = perSecond * seconds;
  // Timers fire about once a millisecond at best, so each tick sends what is due by then.
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * perSecond));
    for (; sent < due; sent++) {
      const t0 = performance.now();
      pending.push(pool.moderate([texts[sent % texts.length]]).then(() => void latencies.push(performance.now() - t0)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  return row(`offered ${perSecond} texts/s, 1 per call`, latencies, total, (performance.now() - started) / 1000);
}

function print(rows: Row[]): void {
  const header = ['scenario', 'calls', 'texts', 'texts/s', 'p50 ms', 'p99 ms'];
  const cells = rows.map((r) => [r.scenario, String(r.calls), String(r.texts), String(r.textsPerSec), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { workers: { type: 'string' }, seconds: { type: 'string' } } });
  const seconds = Number(values.seconds ?? 3);
  const quiet: PoolLogger = { info: () => undefined, warn: (o, m) => console.error(m, o), error: (o, m) => console.error(m, o) };
  const pool = new InferencePool({ workers: values.workers ? Number(values.workers) : undefined, logger: quiet });
  await pool.ready();
  const wanted = values.workers ? Number(values.workers) : defaultWorkerCount();
  while (pool.health().workers < wanted) await new Promise((r) => setTimeout(r, 10));
  const texts = corpus();
  const health = pool.health();
  console.log(`backend ${health.backend} (${health.backendReason}); ${health.workers} worker(s); ${texts.length} texts, mean ${Math.round(texts.reduce((s, t) => s + t.length, 0) / texts.length)} chars`);

  await closedLoop(pool, texts, 4, 64, 1); // warm-up
  const rows: Row[] = [];
  for (const batch of [1, 8, 32, 128, 512]) rows.push(await closedLoop(pool, texts, 1, batch, seconds));
  rows.push(await closedLoop(pool, texts, 64, 1, seconds));
  rows.push(await openLoop(pool, texts, 1000, seconds));
  await pool.close();
  const single = new InferencePool({ workers: values.workers ? Number(values.workers) : undefined, logger: quiet, maxBatchSize: 1 });
  await single.ready();
  while (single.health().workers < wanted) await new Promise((r) => setTimeout(r, 10));
  await closedLoop(single, texts, 4, 1, 1); // warm-up
  const perText = await closedLoop(single, texts, 64, 1, seconds);
  perText.scenario += ', max batch 1';
  rows.push(perText);
  await single.close();
  print(rows);
  const unbatched = rows[0].textsPerSec;
  const best = Math.max(...rows.slice(1, 6).map((r) => r.textsPerSec));
  console.log(`\nbatched/unbatched: ${(best / unbatched).toFixed(1)}× (best closed-loop rate ${best} texts/s vs batch 1 at ${unbatched} texts/s)`);
  console.log(`64 concurrent single-text callers: ${(rows[5].textsPerSec / unbatched).toFixed(1)}× the unbatched rate`);
  console.log(`64 concurrent single-text callers, dynamic batching vs batches of one: ${(rows[5].textsPerSec / perText.textsPerSec).toFixed(1)}× (${rows[5].textsPerSec} vs ${perText.textsPerSec} texts/s)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * `npm run bench:recommender [-- --dim 256 --k 20 --repeats 20 --backend wasm]`: the cost of one
 * ranking, top-k of one user vector against 10k, 100k and 1M candidate items, as a matrix product
 * plus top-k on the tfjs backend present and as plain-JS dot products plus a k-slot selection.
 * A last column ranks `--batch` (64) users in one matMul + topk and divides by the batch size.
 * Random data: only the shape matters for the cost. Prints a Markdown table (median and p90 ms).
 *
 * With `--train F` (LightGCN format) it first trains GF-CF on F and times fold-in: a user's
 * interactions plus one new item → userVector → top-k, what a bookmark costs before the next feed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { selectBackend, parseBackendName } from '../ml-runtime/backends';
import { randomNormal } from '../ml-runtime/recommender/random-normal';
import { topK } from '../ml-runtime/recommender/topk';
import { Recommender } from '../ml-runtime/recommender/recommender';
import { itemsOf, fromLists, readLightGCN } from '../ml-runtime/recommender/interactions';
import { mulberry32 } from '../ml-runtime/training/random';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

function plainScores(items: Float32Array, user: Float32Array, n: number, d: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * d;
    for (let c = 0; c < d; c++) s += items[o + c] * user[c];
    out[i] = s;
  }
}

async function foldIn(file: string, k: number): Promise<void> {
  const x = fromLists(readLightGCN(file));
  const model = await Recommender.train(x);
  const rand = mulberry32(7);
  const ms: number[] = [];
  for (let r = 0; r < 200; r++) {
    const u = Math.floor(rand() * x.numUsers);
    const items = [...itemsOf(x, u), Math.floor(rand() * x.numItems)];
    const t = performance.now();
    model.recommend(items, k);
    ms.push(performance.now() - t);
  }
  process.stdout.write(
    `GF-CF on ${file}: trained in ${model.trainSeconds.toFixed(1)} s; fold-in (userVector + top-${k} of ${x.numItems} items, 200 users): ` +
      `p50 ${quantile(ms, 0.5).toFixed(2)} ms, p90 ${quantile(ms, 0.9).toFixed(2)} ms\n\n`,
  );
  model.dispose();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dim: { type: 'string' }, k: { type: 'string' }, repeats: { type: 'string' }, backend: { type: 'string' }, train: { type: 'string' }, batch: { type: 'string' } } });
  const d = Number(values.dim ?? 256);
  // Users per matMul in the batched column: the pool batches concurrent feed requests.
  const batch = Number(values.batch ?? 64);
  const k = Number(values.k ?? 20);
  const repeats = Number(values.repeats ?? 20);
  const choice = await selectBackend(values.backend ? parseBackendName(values.backend) : undefined);
  process.stderr.write(`backend: ${choice.reason}\n`);
  if (values.train) await foldIn(values.train, k);
  const rows: string[] = [];
  for (const n of [10_000, 100_000, 1_000_000]) {
    const items = randomNormal(n * d, n);
    // The backend keeps the item matrix as d × n: with n × d, matMul's transposeB is 5–10× slower on WASM.
    const itemT = tf.tensor2d(transpose(items, n, d), [d, n]);
    const tfMs: number[] = [];
    const jsMs: number[] = [];
    const batchMs: number[] = [];
    const batchRepeats = 5;
    const scores = new Float32Array(n);
    for (let r = 0; r < repeats + 2; r++) {
      const user = randomNormal(d, r + 1);
      let t = performance.now();
      const { values: best, indices } = tf.tidy(() => {
        const s = tf.reshape(tf.matMul(tf.tensor2d(user, [1, d]), itemT), [n]);
        return tf.topk(s, k);
      });
      const ids = indices.dataSync();
      best.dispose();
      indices.dispose();
      const tfTime = performance.now() - t;
      t = performance.now();
      plainScores(items, user, n, d, scores);
      const js = topK(scores, k).items;
      const jsTime = performance.now() - t;
      if (r < batchRepeats) {
        const users = randomNormal(batch * d, 1000 + r);
        t = performance.now();
        const { values: bv, indices: bi } = tf.tidy(() => tf.topk(tf.matMul(tf.tensor2d(users, [batch, d]), itemT), k));
        bi.dataSync();
        bv.dispose();
        bi.dispose();
        batchMs.push((performance.now() - t) / batch);
      }
      if (ids[0] !== js[0]) process.stderr.write(`warning: backends disagree on the best item (${ids[0]} vs ${js[0]})\n`);
      if (r >= 2) {
        tfMs.push(tfTime);
        jsMs.push(jsTime);
      }
    }
    itemT.dispose();
    const f = (x: number) => x.toFixed(2);
    rows.push(`| ${n.toLocaleString('en-US')} | ${f(quantile(tfMs, 0.5))} | ${f(quantile(tfMs, 0.9))} | ${f(quantile(jsMs, 0.5))} | ${f(quantile(jsMs, 0.9))} | ${f(quantile(batchMs, 0.5))} |`);
  }
  process.stdout.write(`top-${k} of one ${d}-dim user vector; tfjs backend: ${tf.getBackend()}; ${repeats} rankings each\n\n`);
  process.stdout.write(`| candidates | ${tf.getBackend()} matMul+topk p50 ms | p90 ms | plain JS p50 ms | p90 ms | ${tf.getBackend()} ${batch} users per matMul, ms per user (p50) |\n|---|---|---|---|---|---|\n`);
  process.stdout.write(rows.join('\n') + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});

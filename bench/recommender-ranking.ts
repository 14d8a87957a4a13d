/**
 * `npm run bench:recommender [-- --dim 256 --k 20 --repeats 20 --backend wasm]`: the cost of one
 * ranking, top-k of one user vector against 10k, 100k and 1M candidate items, as a matrix product
 * plus top-k on the tfjs backend present and as plain-JS dot products plus a k-slot selection.
 * Random data: only the shape matters for the cost. Prints a Markdown table (median and p90 ms).
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { selectBackend, parseBackendName } from '../ml-runtime/backends';
import { randomNormal } from '../ml-runtime/recommender/random-normal';
import { topK } from '../ml-runtime/recommender/topk';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function plainScores(items: Float32Array, user: Float32Array, n: number, d: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * d;
    for (let c = 0; c < d; c++) s += items[o + c] * user[c];
    out[i] = s;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dim: { type: 'string' }, k: { type: 'string' }, repeats: { type: 'string' }, backend: { type: 'string' } } });
  const d = Number(values.dim ?? 256);
  const k = Number(values.k ?? 20);
  const repeats = Number(values.repeats ?? 20);
  const choice = await selectBackend(values.backend ? parseBackendName(values.backend) : undefined);
  process.stderr.write(`backend: ${choice.reason}\n`);
  const rows: string[] = [];
  for (const n of [10_000, 100_000, 1_000_000]) {
    const items = randomNormal(n * d, n);
    const itemT = tf.tensor2d(items, [n, d]);
    const tfMs: number[] = [];
    const jsMs: number[] = [];
    const scores = new Float32Array(n);
    for (let r = 0; r < repeats + 2; r++) {
      const user = randomNormal(d, r + 1);
      let t = performance.now();
      const { values: best, indices } = tf.tidy(() => {
        const s = tf.reshape(tf.matMul(itemT, tf.tensor2d(user, [1, d]), false, true), [n]);
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
      if (ids[0] !== js[0]) process.stderr.write(`warning: backends disagree on the best item (${ids[0]} vs ${js[0]})\n`);
      if (r >= 2) {
        tfMs.push(tfTime);
        jsMs.push(jsTime);
      }
    }
    itemT.dispose();
    const f = (x: number) => x.toFixed(2);
    rows.push(`| ${n.toLocaleString('en-US')} | ${f(quantile(tfMs, 0.5))} | ${f(quantile(tfMs, 0.9))} | ${f(quantile(jsMs, 0.5))} | ${f(quantile(jsMs, 0.9))} |`);
  }
  process.stdout.write(`top-${k} of one ${d}-dim user vector; tfjs backend: ${tf.getBackend()}; ${repeats} rankings each\n\n`);
  process.stdout.write(`| candidates | ${tf.getBackend()} matMul+topk p50 ms | p90 ms | plain JS p50 ms | p90 ms |\n|---|---|---|---|---|\n`);
  process.stdout.write(rows.join('\n') + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});

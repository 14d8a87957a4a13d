/**
 * The recommender as a worker serves it: requests in, ranked items out, with the guards a shared
 * worker needs (a request must not be able to poison the batch it shares with other users' feeds,
 * nor allocate without bound).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecommendRequest, RecommendResult } from './inference-client';
import { Recommender } from './recommender/recommender';

/** Largest score matrix (rows × numItems floats) built at once: 32 MB, whatever the item count. */
const SCORE_BUFFER_FLOATS = 1 << 23;

export interface ServedRecommender {
  version: string;
  numItems: number;
  run(requests: RecommendRequest[]): RecommendResult[];
  dispose(): void;
}

/**
 * The saved `version` (written by Recommender.save), or for a model saved before versions
 * existed the same content hash computed from its files.
 */
export function recommenderVersion(dir: string): string {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as {
    version?: string;
    rank: number;
    lowPassWeight: number;
    linearWeight: number;
  };
  if (meta.version) return meta.version;
  const hash = createHash('sha256').update(JSON.stringify([meta.rank, meta.lowPassWeight, meta.linearWeight]));
  for (const f of ['indptr.i32', 'indices.i32', 'v.f32', 'sigma.f32']) hash.update(readFileSync(join(dir, f)));
  return `gf-cf@${hash.digest('hex').slice(0, 12)}`;
}

/** Integer ids in [0, n), each once, in their given order. */
function validIds(ids: readonly number[], n: number): number[] {
  const seen = new Set<number>();
  for (const i of ids) if (Number.isInteger(i) && i >= 0 && i < n) seen.add(i);
  return [...seen];
}

export function serveRecommender(dir: string): ServedRecommender {
  const version = recommenderVersion(dir);
  const model = Recommender.load(dir);
  const n = model.numItems;
  const rowsAtOnce = Math.max(1, Math.floor(SCORE_BUFFER_FLOATS / Math.max(1, n)));

  const run = (requests: RecommendRequest[]): RecommendResult[] => {
    const out: RecommendResult[] = [];
    for (let start = 0; start < requests.length; start += rowsAtOnce) {
      const part = requests.slice(start, start + rowsAtOnce);
      const own = part.map((r) => validIds(r.items, n));
      // One matMul for the low-pass term of every user in the part (see recommender/README.md).
      const scores = model.scoreBatch(own);
      part.forEach((r, b) => {
        const ranked = model.topK(scores.subarray(b * n, (b + 1) * n), Math.min(r.k, n), {
          exclude: new Set(own[b]),
          candidates: r.candidates && validIds(r.candidates, n),
        });
        out.push({ items: Array.from(ranked.items), scores: Array.from(ranked.scores), modelVersion: version });
      });
    }
    return out;
  };

  // The first call uploads the item matrix to the backend and compiles kernels; pay for it before
  // the model is reported loaded.
  run([{ items: [0], k: 1 }]);
  return { version, numItems: n, run, dispose: () => model.dispose() };
}

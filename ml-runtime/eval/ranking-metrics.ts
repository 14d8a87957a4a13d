/**
 * Top-k ranking metrics as the LightGCN paper computes them (its `RecallPrecision_ATk` and
 * `NDCGatK_r`): recall = hits in the top k / |relevant|; NDCG with binary relevance, DCG =
 * Σ 1/log2(rank + 1) over hits, ideal DCG over the first min(k, |relevant|) ranks.
 */

function relevantSet(relevant: ReadonlySet<number> | ArrayLike<number>): ReadonlySet<number> {
  return 'has' in relevant ? relevant : new Set(Array.from(relevant));
}

export function recallAtK(ranked: ArrayLike<number>, relevant: ReadonlySet<number> | ArrayLike<number>, k: number): number {
  const rel = relevantSet(relevant);
  if (rel.size === 0) return NaN;
  let hits = 0;
  for (let r = 0; r < Math.min(k, ranked.length); r++) if (rel.has(ranked[r])) hits++;
  return hits / rel.size;
}

export function ndcgAtK(ranked: ArrayLike<number>, relevant: ReadonlySet<number> | ArrayLike<number>, k: number): number {
  const rel = relevantSet(relevant);
  if (rel.size === 0) return NaN;
  let dcg = 0;
  for (let r = 0; r < Math.min(k, ranked.length); r++) if (rel.has(ranked[r])) dcg += 1 / Math.log2(r + 2);
  let idcg = 0;
  for (let r = 0; r < Math.min(k, rel.size); r++) idcg += 1 / Math.log2(r + 2);
  return dcg / idcg;
}

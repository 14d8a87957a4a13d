/**
 * Top-k selection over a score vector in plain JS: one pass with a k-slot insertion buffer, which
 * beats a full sort by far for k ≪ n (k = 20 against 40k–1M items).
 */
export interface Ranked {
  items: Int32Array;
  scores: Float32Array;
}

export interface TopKOptions {
  /** Items never returned (e.g. what the user already has). */
  exclude?: ReadonlySet<number> | ArrayLike<number>;
  /** Rank only these item ids (scores indexed by item id); default all. */
  candidates?: ArrayLike<number>;
}

/** Highest-scoring k items, best first; ties go to the lower item id. NaN scores are skipped. */
export function topK(scores: ArrayLike<number>, k: number, opts: TopKOptions = {}): Ranked {
  const ex = opts.exclude;
  const excluded: ReadonlySet<number> | undefined = ex === undefined ? undefined : 'has' in ex ? ex : new Set(Array.from(ex));
  const items = new Int32Array(k).fill(-1);
  const best = new Float64Array(k).fill(-Infinity);
  let filled = 0;
  const cand = opts.candidates;
  const n = cand ? cand.length : scores.length;
  for (let c = 0; c < n; c++) {
    const i = cand ? cand[c] : c;
    const s = scores[i];
    if (!(s > best[k - 1]) && !(filled < k && s === s)) continue;
    if (s !== s || (excluded && excluded.has(i))) continue;
    // Equal scores keep the earlier (lower-id when scanning in order) item first.
    let p = Math.min(filled, k - 1);
    while (p > 0 && s > best[p - 1]) {
      best[p] = best[p - 1];
      items[p] = items[p - 1];
      p--;
    }
    best[p] = s;
    items[p] = i;
    if (filled < k) filled++;
  }
  return { items: items.slice(0, filled), scores: Float32Array.from(best.subarray(0, filled)) };
}

/**
 * Top-k selection over a score vector in plain JS: one pass with a bounded binary heap of the k best
 * so far, which beats a full sort by far for k ≪ n (k = 20–200 against 40k–1M items). Once the heap
 * is full an item costs one comparison against the worst kept score; only the ~k·ln(n/k) items
 * that enter pay log k, where a sorted insertion buffer paid up to k shifts each.
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

/**
 * Highest-scoring k items, best first; ties go to the item scanned first (the lower id, or the
 * earlier candidate). NaN scores, and candidates with no score, are skipped.
 */
export function topK(scores: ArrayLike<number>, k: number, opts: TopKOptions = {}): Ranked {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`topK: k must be a non-negative integer, got ${k}`);
  const ex = opts.exclude;
  const excluded: ReadonlySet<number> | undefined = ex === undefined ? undefined : 'has' in ex ? ex : new Set(Array.from(ex));
  const cand = opts.candidates;
  const n = cand ? cand.length : scores.length;
  const cap = Math.min(k, n);
  // The heap orders by (score, scan position): its root is the worst kept item, the lowest score
  // and, among equal scores, the one scanned last. A later item with an equal score is worse than
  // every kept one, so only a strictly higher score enters once the heap is full.
  const hs = new Float64Array(cap);
  const hp = new Int32Array(cap);
  let size = 0;
  let c = 0;
  // Filling: every scored, non-excluded item enters.
  for (; c < n && size < cap; c++) {
    const i = cand ? cand[c] : c;
    const s = scores[i];
    if (s === undefined || s !== s || (excluded && excluded.has(i))) continue;
    siftUp(hs, hp, size++, s, c);
  }
  if (size === cap && cap > 0) {
    let worst = hs[0];
    for (; c < n; c++) {
      const i = cand ? cand[c] : c;
      const s = scores[i];
      // Also false for NaN and for a missing score.
      if (!(s > worst)) continue;
      if (excluded && excluded.has(i)) continue;
      siftDown(hs, hp, cap, s, c);
      worst = hs[0];
    }
  }
  const items = new Int32Array(size);
  const best = new Float32Array(size);
  // Popping the worst each time fills the result from the back.
  for (let r = size - 1; r >= 0; r--) {
    const p = hp[0];
    items[r] = cand ? cand[p] : p;
    best[r] = hs[0];
    if (r > 0) siftDown(hs, hp, r, hs[r], hp[r]);
  }
  return { items, scores: best };
}

/** True when (sa, pa) ranks below (sb, pb): lower score, or equal score and scanned later. */
function worse(sa: number, pa: number, sb: number, pb: number): boolean {
  return sa < sb || (sa === sb && pa > pb);
}

/** Places (s, p) in the free slot at index `at` and moves it up to its place. */
function siftUp(hs: Float64Array, hp: Int32Array, at: number, s: number, p: number): void {
  let j = at;
  while (j > 0) {
    const parent = (j - 1) >> 1;
    if (!worse(s, p, hs[parent], hp[parent])) break;
    hs[j] = hs[parent];
    hp[j] = hp[parent];
    j = parent;
  }
  hs[j] = s;
  hp[j] = p;
}

/** Replaces the root of the heap of `size` entries with (s, p) and moves it down to its place. */
function siftDown(hs: Float64Array, hp: Int32Array, size: number, s: number, p: number): void {
  let j = 0;
  for (;;) {
    let child = 2 * j + 1;
    if (child >= size) break;
    const right = child + 1;
    if (right < size && worse(hs[right], hp[right], hs[child], hp[child])) child = right;
    if (!worse(hs[child], hp[child], s, p)) break;
    hs[j] = hs[child];
    hp[j] = hp[child];
    j = child;
  }
  hs[j] = s;
  hp[j] = p;
}

import { byItem, fromLists, itemDegrees, type Interactions } from '../../../ml-runtime/recommender/interactions';
import { GfcfScorer } from '../../../ml-runtime/recommender/gfcf';
import { topK, type Ranked, type TopKOptions } from '../../../ml-runtime/recommender/topk';
import { mulberry32 } from '../../../ml-runtime/training/random';

/** The k-slot insertion buffer topK used before the heap, kept verbatim as the reference. */
function insertionTopK(scores: ArrayLike<number>, k: number, opts: TopKOptions = {}): Ranked {
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

/** The same selection as a stable full sort: best score first, equal scores in scan order. */
function sortedTopK(scores: ArrayLike<number>, k: number, opts: TopKOptions = {}): Ranked {
  const ex = opts.exclude;
  const excluded = ex === undefined ? new Set<number>() : new Set(Array.from(ex as Iterable<number>));
  const order = opts.candidates ? Array.from(opts.candidates) : Array.from({ length: scores.length }, (_, i) => i);
  const kept = order.filter((i) => !Number.isNaN(scores[i]) && !excluded.has(i));
  const top = kept.sort((a, b) => (scores[a] === scores[b] ? 0 : scores[b] > scores[a] ? 1 : -1)).slice(0, k);
  return { items: Int32Array.from(top), scores: Float32Array.from(top, (i) => scores[i]) };
}

function bytes(r: Ranked): [number[], number[]] {
  return [Array.from(new Uint8Array(r.items.buffer, r.items.byteOffset, r.items.byteLength)), Array.from(new Uint8Array(r.scores.buffer, r.scores.byteOffset, r.scores.byteLength))];
}

/** Scores from a few values so that ties are common, with NaN, infinities and both zeros. */
function randomScores(rand: () => number, n: number): number[] {
  const special = [NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30];
  return Array.from({ length: n }, () => {
    const r = rand();
    if (r < 0.1) return special[Math.floor(rand() * special.length)];
    if (r < 0.6) return Math.floor(rand() * 6) / 4;
    return rand() * 4 - 2;
  });
}

function randomOptions(rand: () => number, n: number): TopKOptions {
  const opts: TopKOptions = {};
  if (rand() < 0.6) {
    const ex = Array.from({ length: Math.floor(rand() * (n + 1)) }, () => Math.floor(rand() * n));
    opts.exclude = rand() < 0.5 ? new Set(ex) : ex;
  }
  // Candidates in any order, sometimes repeated, as the function does not require them distinct.
  if (n > 0 && rand() < 0.5) opts.candidates = Int32Array.from({ length: Math.floor(rand() * (n + 3)) }, () => Math.floor(rand() * n));
  return opts;
}

describe('top-k selection with a bounded heap', () => {
  it('returns the same items and scores in the same order as the insertion buffer on random inputs', () => {
    const rand = mulberry32(11);
    for (let trial = 0; trial < 3000; trial++) {
      const n = Math.floor(rand() * (trial < 2000 ? 40 : 600));
      const raw = randomScores(rand, n);
      const scores = rand() < 0.5 ? Float32Array.from(raw) : raw;
      // k from 0 past n, so that k ≥ n and k = 0 both come up.
      const k = rand() < 0.3 ? Math.floor(rand() * (n + 4)) : Math.floor(rand() * Math.min(n + 1, 25));
      const opts = randomOptions(rand, n);
      const got = topK(scores, k, opts);
      expect(bytes(got)).toEqual(bytes(insertionTopK(scores, k, opts)));
      expect(bytes(got)).toEqual(bytes(sortedTopK(scores, k, opts)));
    }
  });

  it('keeps the earlier scanned item first among equal scores, by id or by candidate order', () => {
    const s = Float32Array.from([1, 2, 2, 1, 2, 1]);
    expect(Array.from(topK(s, 4).items)).toEqual([1, 2, 4, 0]);
    expect(Array.from(topK(s, 4, { candidates: [5, 4, 3, 2, 1, 0] }).items)).toEqual([4, 2, 1, 5]);
  });

  it('returns nothing for k = 0 and every scored item for k beyond the item count', () => {
    const s = [0.5, NaN, -Infinity, 0.5];
    expect(topK(s, 0).items).toHaveLength(0);
    expect(Array.from(topK(s, 10).items)).toEqual([0, 3, 2]);
    expect(Array.from(topK(s, 10, { exclude: [0] }).scores)).toEqual([0.5, -Infinity]);
  });

  it('skips candidates with no score instead of returning them with NaN', () => {
    // The insertion buffer let such a candidate in while it was filling; ids are validated upstream.
    expect(Array.from(topK([0.5, 0.25], 3, { candidates: [1, 7, 0] }).items)).toEqual([0, 1]);
  });

  it('finds the top of a large ascending input, where every item enters the full heap', () => {
    const n = 200_000;
    const s = Float32Array.from({ length: n }, (_, i) => i);
    const r = topK(s, 200);
    expect(r.items[0]).toBe(n - 1);
    expect(r.items[199]).toBe(n - 200);
  });
});

/** GfcfScorer.addLinear as it was, with a fresh per-item buffer and a scan of every item. */
function referenceAddLinear(x: Interactions, weight: number, items: ArrayLike<number>, out: Float32Array): void {
  if (weight === 0) return;
  const { ptr, users } = byItem(x);
  const invSqrtItem = Float32Array.from(itemDegrees(x), (d) => (d > 0 ? 1 / Math.sqrt(d) : 0));
  const invSqrtUser = new Float32Array(x.numUsers);
  for (let u = 0; u < x.numUsers; u++) {
    const d = x.indptr[u + 1] - x.indptr[u];
    invSqrtUser[u] = d > 0 ? 1 / Math.sqrt(d) : 0;
  }
  const acc = new Float64Array(x.numUsers);
  const touched: number[] = [];
  for (let t = 0; t < items.length; t++) {
    const i = items[t];
    if (i < 0 || i >= x.numItems) continue;
    const w = invSqrtItem[i];
    for (let p = ptr[i]; p < ptr[i + 1]; p++) {
      const v = users[p];
      if (acc[v] === 0) touched.push(v);
      acc[v] += w;
    }
  }
  const tmp = new Float64Array(x.numItems);
  for (const v of touched) {
    const a = invSqrtUser[v];
    const c = acc[v] * a * a;
    acc[v] = 0;
    for (let p = x.indptr[v]; p < x.indptr[v + 1]; p++) tmp[x.indices[p]] += c;
  }
  for (let j = 0; j < x.numItems; j++) if (tmp[j] !== 0) out[j] += weight * tmp[j] * invSqrtItem[j];
}

describe('the GF-CF linear term', () => {
  it('adds bit-identical scores to the full-scan version across many calls on one scorer', () => {
    const rand = mulberry32(5);
    for (let g = 0; g < 12; g++) {
      const numUsers = 1 + Math.floor(rand() * 80);
      // Some items nobody has: their 1/√d is 0 and they must stay untouched.
      const numItems = 1 + Math.floor(rand() * 150);
      const lists = Array.from({ length: numUsers }, () => Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * numItems)));
      const x = fromLists(lists, numItems);
      const rank = 2;
      const linearWeight = g % 4 === 3 ? 0 : [1, 0.7, 2.5][g % 3];
      const scorer = new GfcfScorer({ interactions: x, rank, lowPassWeight: 0.3, linearWeight, v: new Float32Array(numItems * rank), sigma: new Float32Array(rank) });
      for (let call = 0; call < 40; call++) {
        // Out-of-range and repeated ids as well as real ones, and sometimes none at all.
        const items = Array.from({ length: Math.floor(rand() * 15) }, () => Math.floor(rand() * (numItems + 4)) - 2);
        const base = Float32Array.from({ length: numItems }, () => (rand() < 0.2 ? 0 : rand() * 2 - 1));
        const got = base.slice();
        const want = base.slice();
        scorer.addLinear(items, got);
        referenceAddLinear(x, linearWeight, items, want);
        expect(Array.from(new Uint8Array(got.buffer))).toEqual(Array.from(new Uint8Array(want.buffer)));
      }
    }
  });
});

/**
 * GF-CF (Shen et al., "How Powerful is Graph Convolution for Recommendation?", CIKM 2021): a user's
 * scores are a fixed graph filter applied to their interaction row r_u, with no learned weights:
 *
 *   s_u = r_u · R̃ᵀR̃  +  α · r_u · D^{-1/2} V Vᵀ D^{1/2}
 *
 * R̃ = D_U^{-1/2} R D_I^{-1/2} is the degree-normalised interaction matrix, the first term its
 * normalised item–item linear filter, the second the ideal low-pass filter onto the top `rank`
 * right singular vectors V of R̃. Training is only V: randomized subspace iteration on R̃ᵀR̃, using
 * sparse products in typed arrays and the dense products on the tfjs backend.
 *
 * R̃ᵀR̃ (41k × 41k for Gowalla, 6.7 GB dense) is never formed: the linear term is computed per user
 * through the graph, items → users → items. A new interaction set is scored the same way with no
 * retraining (fold-in); only the graph of the other users and V stay as trained.
 */
import * as tf from '@tensorflow/tfjs-core';
import { byItem, itemDegrees, type Interactions } from './interactions';
import { spmm, spmmT, gram, orthonormalize, symmetricEigen, denseTimesSmall, readAndDispose, type Csr } from './linalg';
import { randomNormal } from './random-normal';

export interface GfcfOptions {
  /** Number of singular vectors in the ideal low-pass filter (the paper uses 256 on Gowalla). */
  rank?: number;
  /** Weight α of the low-pass term (paper: 0.3). */
  lowPassWeight?: number;
  /** Weight of the linear term (1 in the paper; 0 gives the low-pass filter alone). */
  linearWeight?: number;
  /** Extra subspace dimensions and power iterations of the randomized eigensolver. */
  oversample?: number;
  powerIterations?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface GfcfState {
  interactions: Interactions;
  rank: number;
  lowPassWeight: number;
  linearWeight: number;
  /** Top right singular vectors of R̃, numItems × rank, row-major. */
  v: Float32Array;
  /** Their singular values. */
  sigma: Float32Array;
}

/** Top right singular vectors of R̃ by subspace iteration on R̃ᵀR̃ with a Rayleigh–Ritz finish. */
export function topRightSingularVectors(
  r: Csr,
  rank: number,
  oversample: number,
  iterations: number,
  seed: number,
  log: (line: string) => void = () => undefined,
): { v: Float32Array; sigma: Float32Array } {
  const n = r.cols;
  // More columns than R̃ has rank would make the basis degenerate.
  const l = Math.min(rank + oversample, n, r.rows);
  let q = orthonormalize(randomNormal(n * l, seed), n, l);
  for (let it = 0; it < iterations; it++) {
    q = orthonormalize(spmmT(r, spmm(r, q, l), l), n, l);
    log(`subspace iteration ${it + 1}/${iterations}`);
  }
  const h = gram(spmm(r, q, l), r.rows, l);
  const { values, vectors } = symmetricEigen(h, l);
  const k = Math.min(rank, l);
  const w = new Float64Array(l * k);
  for (let i = 0; i < l; i++) for (let c = 0; c < k; c++) w[i * k + c] = vectors[i * l + c];
  const v = denseTimesSmall(q, n, l, w, k);
  return { v, sigma: Float32Array.from(values.subarray(0, k), (x) => Math.sqrt(Math.max(0, x))) };
}

export function trainGfcf(x: Interactions, opts: GfcfOptions = {}): GfcfState {
  const rank = Math.min(opts.rank ?? 256, x.numItems, x.numUsers);
  const r = normalisedMatrix(x);
  const { v, sigma } = topRightSingularVectors(r, rank, opts.oversample ?? 64, opts.powerIterations ?? 3, opts.seed ?? 1, opts.log);
  return { interactions: x, rank, lowPassWeight: opts.lowPassWeight ?? 0.3, linearWeight: opts.linearWeight ?? 1, v, sigma };
}

export function normalisedMatrix(x: Interactions): Csr {
  const di = itemDegrees(x);
  const val = new Float32Array(x.indices.length);
  for (let u = 0; u < x.numUsers; u++) {
    const du = x.indptr[u + 1] - x.indptr[u];
    for (let p = x.indptr[u]; p < x.indptr[u + 1]; p++) val[p] = 1 / Math.sqrt(du * di[x.indices[p]]);
  }
  return { rows: x.numUsers, cols: x.numItems, ptr: x.indptr, idx: x.indices, val };
}

/** Scores item sets with a trained filter; holds the graph indexes and scratch space. */
export class GfcfScorer {
  readonly numItems: number;
  readonly rank: number;
  private readonly itemUsers: { ptr: Int32Array; users: Int32Array };
  /** 1/√d_i (0 for items nobody has), and 1/√d_u. */
  private readonly invSqrtItem: Float32Array;
  private readonly invSqrtUser: Float32Array;
  /** √d_i · V[i, :]: the item side of the low-pass term, numItems × rank. */
  readonly itemFactors: Float32Array;
  private readonly userAcc: Float64Array;
  private readonly touched: Int32Array;
  /** Linear-term scratch per item, and a bit per item a call has added to; both zero between calls. */
  private readonly itemAcc: Float64Array;
  private readonly touchedItems: Int32Array;
  private itemFactorsT?: tf.Tensor2D;

  constructor(readonly state: GfcfState) {
    const x = state.interactions;
    this.numItems = x.numItems;
    this.rank = state.rank;
    this.itemUsers = byItem(x);
    const di = itemDegrees(x);
    this.invSqrtItem = Float32Array.from(di, (d) => (d > 0 ? 1 / Math.sqrt(d) : 0));
    this.invSqrtUser = new Float32Array(x.numUsers);
    for (let u = 0; u < x.numUsers; u++) {
      const d = x.indptr[u + 1] - x.indptr[u];
      this.invSqrtUser[u] = d > 0 ? 1 / Math.sqrt(d) : 0;
    }
    this.itemFactors = new Float32Array(state.v.length);
    for (let i = 0; i < this.numItems; i++) {
      const s = Math.sqrt(di[i]);
      for (let c = 0; c < this.rank; c++) this.itemFactors[i * this.rank + c] = s * state.v[i * this.rank + c];
    }
    this.userAcc = new Float64Array(x.numUsers);
    this.touched = new Int32Array(x.numUsers);
    this.itemAcc = new Float64Array(this.numItems);
    this.touchedItems = new Int32Array((this.numItems + 31) >>> 5);
  }

  /** The user side of the low-pass term: Σ_{i ∈ items} V[i, :] / √d_i, scaled by α. */
  embedding(items: ArrayLike<number>): Float32Array {
    const e = new Float32Array(this.rank);
    const k = this.rank;
    for (let t = 0; t < items.length; t++) {
      const i = items[t];
      if (i < 0 || i >= this.numItems) continue;
      const w = this.state.lowPassWeight * this.invSqrtItem[i];
      if (w === 0) continue;
      for (let c = 0; c < k; c++) e[c] += w * this.state.v[i * k + c];
    }
    return e;
  }

  /** Adds the linear term r_u R̃ᵀR̃ (times its weight) for this item set into out (length numItems). */
  addLinear(items: ArrayLike<number>, out: Float32Array): void {
    const weight = this.state.linearWeight;
    if (weight === 0) return;
    const x = this.state.interactions;
    const { ptr, users } = this.itemUsers;
    const acc = this.userAcc;
    let nt = 0;
    for (let t = 0; t < items.length; t++) {
      const i = items[t];
      if (i < 0 || i >= this.numItems) continue;
      const w = this.invSqrtItem[i];
      for (let p = ptr[i]; p < ptr[i + 1]; p++) {
        const v = users[p];
        if (acc[v] === 0) this.touched[nt++] = v;
        acc[v] += w;
      }
    }
    // The sums are formed in the same order as with a fresh buffer; only the items reached through
    // the touched users are then visited and reset, not all numItems. A bitmap rather than a list of
    // them: the visit goes up the item ids, and after the matMul has streamed the item factors
    // through the cache these arrays are cold, where ascending access is about twice as fast.
    const tmp = this.itemAcc;
    const bits = this.touchedItems;
    for (let t = 0; t < nt; t++) {
      const v = this.touched[t];
      const a = this.invSqrtUser[v];
      const c = acc[v] * a * a;
      acc[v] = 0;
      for (let p = x.indptr[v]; p < x.indptr[v + 1]; p++) {
        const j = x.indices[p];
        bits[j >>> 5] |= 1 << (j & 31);
        tmp[j] += c;
      }
    }
    for (let w = 0; w < bits.length; w++) {
      let b = bits[w];
      if (b === 0) continue;
      bits[w] = 0;
      while (b !== 0) {
        const j = (w << 5) + 31 - Math.clz32(b & -b);
        b &= b - 1;
        if (tmp[j] !== 0) out[j] += weight * tmp[j] * this.invSqrtItem[j];
        tmp[j] = 0;
      }
    }
  }

  /** Full score vector for one item set (fold-in). */
  scores(items: ArrayLike<number>): Float32Array {
    return this.scoreBatch([items]);
  }

  /** Scores for many item sets at once (rows × numItems): the low-pass term as one tfjs matMul. */
  scoreBatch(sets: ArrayLike<number>[]): Float32Array {
    const k = this.rank;
    const e = new Float32Array(sets.length * k);
    sets.forEach((items, b) => e.set(this.embedding(items), b * k));
    this.itemFactorsT ??= tf.tidy(() => tf.transpose(tf.tensor2d(this.itemFactors, [this.numItems, k])));
    const out = readAndDispose(tf.tidy(() => tf.matMul(tf.tensor2d(e, [sets.length, k]), this.itemFactorsT!)));
    sets.forEach((items, b) => this.addLinear(items, out.subarray(b * this.numItems, (b + 1) * this.numItems)));
    return out;
  }

  dispose(): void {
    this.itemFactorsT?.dispose();
    this.itemFactorsT = undefined;
  }
}

/**
 * Baselines the recommender is measured against: item popularity, and matrix factorisation by
 * implicit ALS (Hu, Koren & Volinsky 2008) with conjugate-gradient updates (Takács et al. 2011),
 * which keeps an epoch linear in the number of interactions instead of a d³ solve per user.
 */
import * as tf from '@tensorflow/tfjs-core';
import { byItem, itemDegrees, type Interactions } from './interactions';
import { mulberry32 } from '../training/random';
import { readAndDispose } from './linalg';

/** Scores any item set the same way: by the number of users who have each item. */
export class PopularityScorer {
  readonly numItems: number;
  private readonly counts: Float32Array;
  constructor(x: Interactions) {
    this.counts = Float32Array.from(itemDegrees(x));
    this.numItems = x.numItems;
  }
  /** The same popularity row for each of `rows` users. */
  scoreBatch(rows: number): Float32Array {
    const out = new Float32Array(rows * this.numItems);
    for (let b = 0; b < rows; b++) out.set(this.counts, b * this.numItems);
    return out;
  }
}

export interface AlsOptions {
  factors?: number;
  iterations?: number;
  /** Confidence of an observed interaction is 1 + alpha. */
  alpha?: number;
  regularization?: number;
  cgSteps?: number;
  seed?: number;
  log?: (line: string) => void;
}

/**
 * One side of an ALS sweep: for each row, a few CG steps on
 * (YᵀY + α Σ_{i∈row} y_i y_iᵀ + λI) x = (1 + α) Σ_{i∈row} y_i, warm-started from the current x.
 */
function alsSweep(
  ptr: Int32Array,
  idx: Int32Array,
  rows: number,
  x: Float64Array,
  y: Float64Array,
  yCount: number,
  d: number,
  alpha: number,
  lambda: number,
  cgSteps: number,
): void {
  const yty = new Float64Array(d * d);
  for (let i = 0; i < yCount; i++) {
    for (let a = 0; a < d; a++) {
      const ya = y[i * d + a];
      if (ya === 0) continue;
      for (let b = 0; b < d; b++) yty[a * d + b] += ya * y[i * d + b];
    }
  }
  const r = new Float64Array(d);
  const p = new Float64Array(d);
  const ap = new Float64Array(d);
  const xu = new Float64Array(d);
  const applyA = (v: Float64Array, out: Float64Array, row: number) => {
    for (let a = 0; a < d; a++) {
      let s = lambda * v[a];
      for (let b = 0; b < d; b++) s += yty[a * d + b] * v[b];
      out[a] = s;
    }
    for (let t = ptr[row]; t < ptr[row + 1]; t++) {
      const o = idx[t] * d;
      let dot = 0;
      for (let a = 0; a < d; a++) dot += y[o + a] * v[a];
      dot *= alpha;
      for (let a = 0; a < d; a++) out[a] += dot * y[o + a];
    }
  };
  for (let u = 0; u < rows; u++) {
    for (let a = 0; a < d; a++) xu[a] = x[u * d + a];
    applyA(xu, ap, u);
    for (let a = 0; a < d; a++) r[a] = -ap[a];
    for (let t = ptr[u]; t < ptr[u + 1]; t++) {
      const o = idx[t] * d;
      for (let a = 0; a < d; a++) r[a] += (1 + alpha) * y[o + a];
    }
    p.set(r);
    let rs = 0;
    for (let a = 0; a < d; a++) rs += r[a] * r[a];
    for (let step = 0; step < cgSteps && rs > 1e-20; step++) {
      applyA(p, ap, u);
      let pap = 0;
      for (let a = 0; a < d; a++) pap += p[a] * ap[a];
      const step_ = rs / pap;
      let rsNew = 0;
      for (let a = 0; a < d; a++) {
        xu[a] += step_ * p[a];
        r[a] -= step_ * ap[a];
        rsNew += r[a] * r[a];
      }
      for (let a = 0; a < d; a++) p[a] = r[a] + (rsNew / rs) * p[a];
      rs = rsNew;
    }
    for (let a = 0; a < d; a++) x[u * d + a] = xu[a];
  }
}

export class AlsScorer {
  readonly numItems: number;
  readonly factors: number;
  private itemT?: tf.Tensor2D;
  constructor(
    readonly userFactors: Float32Array,
    readonly itemFactors: Float32Array,
    numItems: number,
    factors: number,
  ) {
    this.numItems = numItems;
    this.factors = factors;
  }

  static train(x: Interactions, opts: AlsOptions = {}): AlsScorer {
    const d = opts.factors ?? 64;
    const alpha = opts.alpha ?? 20;
    const lambda = opts.regularization ?? 0.1;
    const cg = opts.cgSteps ?? 3;
    const rand = mulberry32(opts.seed ?? 1);
    const xs = new Float64Array(x.numUsers * d);
    const ys = Float64Array.from({ length: x.numItems * d }, () => (rand() - 0.5) * 0.01);
    const items = byItem(x);
    for (let it = 0; it < (opts.iterations ?? 10); it++) {
      alsSweep(x.indptr, x.indices, x.numUsers, xs, ys, x.numItems, d, alpha, lambda, cg);
      alsSweep(items.ptr, items.users, x.numItems, ys, xs, x.numUsers, d, alpha, lambda, cg);
      opts.log?.(`ALS iteration ${it + 1}`);
    }
    return new AlsScorer(Float32Array.from(xs), Float32Array.from(ys), x.numItems, d);
  }

  /** Scores training users by their learned factors (MF has no fold-in without a solve). */
  scoreUsers(users: ArrayLike<number>): Float32Array {
    const d = this.factors;
    const e = new Float32Array(users.length * d);
    for (let b = 0; b < users.length; b++) e.set(this.userFactors.subarray(users[b] * d, (users[b] + 1) * d), b * d);
    this.itemT ??= tf.tidy(() => tf.transpose(tf.tensor2d(this.itemFactors, [this.numItems, d])));
    return readAndDispose(tf.tidy(() => tf.matMul(tf.tensor2d(e, [users.length, d]), this.itemT!)));
  }

  dispose(): void {
    this.itemT?.dispose();
  }
}


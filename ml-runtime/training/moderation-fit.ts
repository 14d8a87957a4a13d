/**
 * One fit of the moderation model (see train-moderation.ts for the method): encoding, NB-SVM
 * log-count ratios, epochs of masked logistic regression with per-coordinate Adagrad, and the
 * weights as served. A fit owns its ratios, so a cross-fitting fold never sees its held-out part.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Featuriser, poolingScale, type FeatureConfig } from '../moderation/features';
import type { ModerationWeights } from '../moderation/weights';
import { MODERATION_LABELS } from '../inference-client';
import type { Example } from './datasets';
import { FEEDBACK_WEIGHT } from './feedback';
import { mulberry32, shuffleInPlace } from './random';

export const L = MODERATION_LABELS.length;
export const BATCH = 32;

export interface Encoded {
  ids: Int32Array[];
  y: Float32Array;
  /** Loss weight per example and label; 0 where the source says nothing. */
  mask: Float32Array;
}

export interface FitOptions {
  config: FeatureConfig;
  version: string;
  lr: number;
  l2: number;
  davidsonWeight: number;
  toxPosWeight: number;
  /** Wang & Manning's interpolation (1: none). */
  beta: number;
  /** Members averaged in logit space and folded into one table. */
  members: Array<'nb' | 'plain'>;
  memberWeights: number[];
}

export function encode(featuriser: Featuriser, examples: Example[], opts: Pick<FitOptions, 'davidsonWeight' | 'toxPosWeight'>): Encoded {
  const y = new Float32Array(examples.length * L);
  const mask = new Float32Array(examples.length * L);
  const ids = examples.map((e, i) => {
    for (let l = 0; l < L; l++) {
      y[i * L + l] = Math.max(e.y[l], 0);
      mask[i * L + l] = e.y[l] < 0 ? 0 : e.source === 'davidson' ? opts.davidsonWeight : e.source === 'feedback' ? FEEDBACK_WEIGHT : 1;
    }
    if (y[i * L] === 1) mask[i * L] *= opts.toxPosWeight;
    return featuriser.view().slice(0, featuriser.hashText(e.text));
  });
  return { ids, y, mask };
}

/** log((p_f / |p|) / (q_f / |q|)) per bucket and label, from weighted counts smoothed by 1. */
function logCountRatios(train: Encoded, buckets: number): Float32Array {
  const pos = new Float32Array(buckets * L).fill(1);
  const neg = new Float32Array(buckets * L).fill(1);
  train.ids.forEach((ids, i) => {
    for (let l = 0; l < L; l++) {
      const w = train.mask[i * L + l];
      if (w === 0) continue;
      const into = train.y[i * L + l] === 1 ? pos : neg;
      for (const id of ids) into[id * L + l] += w;
    }
  });
  const r = new Float32Array(buckets * L);
  for (let l = 0; l < L; l++) {
    let sp = 0;
    let sn = 0;
    for (let b = 0; b < buckets; b++) {
      sp += pos[b * L + l];
      sn += neg[b * L + l];
    }
    for (let b = 0; b < buckets; b++) r[b * L + l] = Math.log(pos[b * L + l] / sp / (neg[b * L + l] / sn));
  }
  return r;
}

interface Member {
  kind: 'nb' | 'plain';
  rand: () => number;
  order: number[];
  w: Float32Array;
  acc: Float32Array;
  bias: Float32Array;
  biasAcc: Float32Array;
  scale?: Float32Array;
}

export class ModerationFit {
  private readonly members: Member[];

  constructor(
    private readonly train: Encoded,
    private readonly opts: FitOptions,
    seed: number,
  ) {
    const buckets = opts.config.buckets;
    const ratios = logCountRatios(train, buckets);
    this.members = opts.members.map((kind, mi) => ({
      kind,
      rand: mulberry32(mi === 0 ? seed : seed + 1000 * mi),
      order: Array.from({ length: train.ids.length }, (_, i) => i),
      w: new Float32Array(buckets * L),
      acc: new Float32Array(buckets * L),
      bias: new Float32Array(L),
      biasAcc: new Float32Array(L),
      scale: kind === 'nb' ? ratios : undefined,
    }));
  }

  /** One pass over the training examples; returns the mean loss. */
  epoch(): number {
    const { train, opts } = this;
    const { config, lr, l2 } = opts;
    let lossSum = 0;
    for (const m of this.members) {
      shuffleInPlace(m.order, m.rand);
      for (let s = 0; s < m.order.length; s += BATCH) {
        const batch = m.order.slice(s, s + BATCH);
        const B = batch.length;
        const y = new Float32Array(B * L);
        const mask = new Float32Array(B * L);
        batch.forEach((ex, b) => {
          y.set(train.y.subarray(ex * L, ex * L + L), b * L);
          mask.set(train.mask.subarray(ex * L, ex * L + L), b * L);
        });
        const { w, acc, bias, biasAcc, scale: fs } = m;
        const z = new Float32Array(B * L);
        batch.forEach((ex, b) => {
          const ids = train.ids[ex];
          const scale = poolingScale(config, ids.length);
          for (let l = 0; l < L; l++) {
            let sum = 0;
            if (fs) for (const id of ids) sum += w[id * L + l] * fs[id * L + l];
            else for (const id of ids) sum += w[id * L + l];
            z[b * L + l] = bias[l] + sum * scale;
          }
        });
        const { loss, dz } = lossAndLogitGradient(z, y, mask, B);
        lossSum += loss * B;
        batch.forEach((ex, b) => {
          const ids = train.ids[ex];
          const scale = poolingScale(config, ids.length);
          for (let l = 0; l < L; l++) {
            const g = dz[b * L + l];
            if (g === 0) continue;
            for (const id of ids) {
              const k = id * L + l;
              const gk = g * (fs ? fs[k] : 1) * scale + l2 * w[k];
              acc[k] += gk * gk;
              w[k] -= (lr * gk) / Math.sqrt(acc[k] + 1e-8);
            }
            biasAcc[l] += g * g;
            bias[l] -= (lr * g) / Math.sqrt(biasAcc[l] + 1e-8);
          }
        });
      }
    }
    return lossSum / train.ids.length / this.members.length;
  }

  /** The weights as served: ratios folded in, members averaged. */
  snapshot(thresholds = { toxicity: 0.5, hate: 0.5, spam: 0.5 }): ModerationWeights {
    const { config, beta, memberWeights, version } = this.opts;
    const embedding = new Float32Array(config.buckets * L);
    const bias = new Float32Array(L);
    this.members.forEach((m, mi) => {
      const mw = memberWeights[mi];
      // Wang & Manning's interpolation w' = (1 − β)·mean|w| + β·w, per label (only for NB members).
      const mean = new Float32Array(L);
      if (m.kind === 'nb' && beta !== 1) {
        const count = new Float32Array(L);
        for (let i = 0; i < m.w.length; i++) if (m.acc[i] > 0) { mean[i % L] += Math.abs(m.w[i]); count[i % L]++; }
        for (let l = 0; l < L; l++) mean[l] /= Math.max(count[l], 1);
      }
      for (let i = 0; i < embedding.length; i++) {
        const wi = m.kind === 'nb' && beta !== 1 ? (1 - beta) * mean[i % L] + beta * m.w[i] : m.w[i];
        embedding[i] += mw * wi * (m.scale ? m.scale[i] : 1);
      }
      for (let l = 0; l < L; l++) bias[l] += mw * m.bias[l];
    });
    const none = new Float32Array(0);
    return { name: 'moderation', version, features: config, labels: [...MODERATION_LABELS], dim: L, hidden: 0, embedding, w1: none, b1: none, w2: none, b2: bias, thresholds };
  }
}

/**
 * Masked binary cross-entropy of logits `z` and its gradient with respect to them, in tfjs (the
 * CommonJS build of tfjs-core registers no gradient functions; for a sigmoid output it is one line).
 */
function lossAndLogitGradient(z: Float32Array, y: Float32Array, mask: Float32Array, B: number): { loss: number; dz: Float32Array } {
  const [loss, dz] = tf.tidy(() => {
    const zt = tf.tensor2d(z, [B, L]);
    const yt = tf.tensor2d(y, [B, L]);
    const mt = tf.tensor2d(mask, [B, L]);
    const count = tf.maximum(tf.sum(mt), 1);
    // Stable BCE with logits: max(z, 0) − z·y + log(1 + e^−|z|).
    const bce = tf.add(tf.sub(tf.relu(zt), tf.mul(zt, yt)), tf.log1p(tf.exp(tf.neg(tf.abs(zt)))));
    return [tf.div(tf.sum(tf.mul(bce, mt)), count), tf.div(tf.mul(tf.sub(tf.sigmoid(zt), yt), mt), count)];
  });
  const out = { loss: loss.dataSync()[0], dz: dz.dataSync() as Float32Array };
  tf.dispose([loss, dz]);
  return out;
}

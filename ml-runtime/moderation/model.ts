/**
 * Serving-side moderation model: featurise and bag in JS, dense layers in TensorFlow.js, then
 * span explanations.
 *
 * Explanations are gradient × input on the bag: the logit's gradient with respect to the bag
 * (exact for the given ReLU pattern, computed here from the small dense weights) dotted with each
 * token's share of the bag. The token shares sum to the bag, so the span weights add up to the
 * logit's first-order change, in logit units, and the strongest positive ones are reported.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Featuriser, poolingScale, type Features } from './features';
import { tokenVectors } from './bag';
import type { ModerationWeights } from './weights';
import type { ExplanationSpan, ModerationLabel, ModerationResult } from '../inference-client';

export interface RunOptions {
  explain?: boolean;
  /** Spans reported per label. */
  topSpans?: number;
}

export class ModerationModel {
  readonly modelVersion: string;
  private readonly featuriser: Featuriser;
  private readonly w1: tf.Tensor2D;
  private readonly b1: tf.Tensor1D;
  private readonly w2: tf.Tensor2D;
  private readonly b2: tf.Tensor1D;

  constructor(readonly weights: ModerationWeights) {
    this.modelVersion = `${weights.name}@${weights.version}`;
    this.featuriser = new Featuriser(weights.features);
    const { dim, hidden, labels } = weights;
    this.w1 = tf.tensor2d(weights.w1, [dim, hidden]);
    this.b1 = tf.tensor1d(weights.b1);
    this.w2 = tf.tensor2d(weights.w2, [hidden, labels.length]);
    this.b2 = tf.tensor1d(weights.b2);
  }

  /** Raw probabilities, batch × labels, without explanations (training/evaluation path). */
  probabilities(texts: string[]): Float32Array {
    return this.forward(texts, false).probs;
  }

  run(texts: string[], opts: RunOptions = {}): ModerationResult[] {
    const explain = opts.explain ?? true;
    const { probs, hiddenOut, feats, tokVecs } = this.forward(texts, explain);
    const { labels } = this.weights;
    const L = labels.length;
    return texts.map((text, b) => {
      const scores = {} as Record<ModerationLabel, number>;
      const explanations = {} as Record<ModerationLabel, ExplanationSpan[]>;
      for (let l = 0; l < L; l++) {
        scores[labels[l]] = probs[b * L + l];
        explanations[labels[l]] = [];
      }
      if (explain) {
        const grads = this.bagGradients(hiddenOut, b);
        for (let l = 0; l < L; l++) {
          explanations[labels[l]] = this.topSpans(text, feats[b], tokVecs[b], grads, l, opts.topSpans ?? 3);
        }
      }
      return { modelVersion: this.modelVersion, scores, explanations };
    });
  }

  dispose(): void {
    tf.dispose([this.w1, this.b1, this.w2, this.b2]);
  }

  private forward(texts: string[], keepTokens: boolean) {
    const { dim, embedding } = this.weights;
    const B = texts.length;
    const bags = new Float32Array(B * dim);
    const feats: Features[] = [];
    const tokVecs: Float32Array[] = [];
    for (let b = 0; b < B; b++) {
      const f = this.featuriser.featurise(texts[b]);
      // Token shares sum to the bag, so one pass over the features serves both needs.
      const tv = tokenVectors(embedding, dim, f, poolingScale(this.weights.features, f.ids.length));
      const o = b * dim;
      for (let t = 0; t < f.tokens.length; t++) {
        for (let d = 0; d < dim; d++) bags[o + d] += tv[t * dim + d];
      }
      if (keepTokens) {
        feats.push(f);
        tokVecs.push(tv);
      }
    }
    const [probsT, hiddenT] = tf.tidy(() => {
      const x = tf.tensor2d(bags, [B, dim]);
      const h = tf.relu(tf.add(tf.matMul(x, this.w1), this.b1));
      return [tf.sigmoid(tf.add(tf.matMul(h, this.w2), this.b2)), h];
    });
    const probs = probsT.dataSync() as Float32Array;
    const hiddenOut = keepTokens ? (hiddenT.dataSync() as Float32Array) : new Float32Array(0);
    tf.dispose([probsT, hiddenT]);
    return { probs, hiddenOut, feats, tokVecs };
  }

  /** d logit_l / d bag for example b: W1 · diag(relu'(·)) · W2, as labels × dim. */
  private bagGradients(hiddenOut: Float32Array, b: number): Float32Array {
    const { dim, hidden, labels } = this.weights;
    const L = labels.length;
    const w1 = this.weights.w1;
    const w2 = this.weights.w2;
    const g = new Float32Array(L * dim);
    for (let j = 0; j < hidden; j++) {
      if (hiddenOut[b * hidden + j] <= 0) continue;
      for (let l = 0; l < L; l++) {
        const w = w2[j * L + l];
        for (let d = 0; d < dim; d++) g[l * dim + d] += w1[d * hidden + j] * w;
      }
    }
    return g;
  }

  private topSpans(
    text: string,
    f: Features,
    tv: Float32Array,
    grads: Float32Array,
    l: number,
    k: number,
  ): ExplanationSpan[] {
    const { dim } = this.weights;
    const best: ExplanationSpan[] = [];
    for (let t = 0; t < f.tokens.length; t++) {
      let c = 0;
      for (let d = 0; d < dim; d++) c += tv[t * dim + d] * grads[l * dim + d];
      if (c <= 0 || (best.length === k && c <= best[k - 1].weight)) continue;
      const { start, end } = f.tokens[t];
      const span = { start, end, text: text.slice(start, end), weight: c };
      let i = best.length < k ? best.length : k - 1;
      best[i] = span;
      for (; i > 0 && best[i - 1].weight < best[i].weight; i--) [best[i - 1], best[i]] = [best[i], best[i - 1]];
    }
    for (const s of best) s.weight = Math.round(s.weight * 1e4) / 1e4;
    return best;
  }
}

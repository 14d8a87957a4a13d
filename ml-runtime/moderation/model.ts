/**
 * Serving-side moderation model: featurise and bag in JS, dense layers in TensorFlow.js, then
 * span explanations.
 *
 * Explanations are gradient × input on the bag: the logit's gradient with respect to the bag
 * (exact for the given ReLU pattern, computed here from the small dense weights) dotted with each
 * token's share of the bag. The token shares sum to the bag, so the span weights add up to the
 * logit's first-order change, in logit units, and the strongest positive ones are reported.
 *
 * By default only labels whose score reaches the operating threshold (the review band) are
 * explained: moderators read spans for flagged posts, and explaining every label of every text
 * would cost more than scoring it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Featuriser, poolingScale } from './features';
import { bagInto, tokenContributions } from './bag';
import type { ModerationWeights } from './weights';
import type { ExplanationSpan, ModerationLabel, ModerationResult } from '../inference-client';

export interface RunOptions {
  /** `flagged` (default): labels at or above their threshold; `all`; or `none`. */
  explain?: 'flagged' | 'all' | 'none';
  /** Spans reported per label. */
  topSpans?: number;
}

export class ModerationModel {
  readonly modelVersion: string;
  private readonly featuriser: Featuriser;
  private readonly thresholds: Float32Array;
  /** Absent when `hidden` is 0: the bag holds one logit per label (a linear model). */
  private readonly dense?: { w1: tf.Tensor2D; b1: tf.Tensor1D; w2: tf.Tensor2D };
  private readonly b2: tf.Tensor1D;

  constructor(readonly weights: ModerationWeights) {
    this.modelVersion = `${weights.name}@${weights.version}`;
    this.featuriser = new Featuriser(weights.features);
    this.thresholds = Float32Array.from(weights.labels, (l) => weights.thresholds[l]);
    const { dim, hidden, labels } = weights;
    if (hidden > 0) {
      this.dense = {
        w1: tf.tensor2d(weights.w1, [dim, hidden]),
        b1: tf.tensor1d(weights.b1),
        w2: tf.tensor2d(weights.w2, [hidden, labels.length]),
      };
    } else if (dim !== labels.length) throw new Error(`a linear model needs one bag dimension per label, got ${dim}`);
    this.b2 = tf.tensor1d(weights.b2);
  }

  /** Raw probabilities, batch × labels, without explanations (training/evaluation path). */
  probabilities(texts: string[]): Float32Array {
    return this.forward(texts, false).probs;
  }

  run(texts: string[], opts: RunOptions = {}): ModerationResult[] {
    const explain = opts.explain ?? 'flagged';
    const k = opts.topSpans ?? 3;
    const { probs, hiddenOut } = this.forward(texts, explain !== 'none');
    const { labels } = this.weights;
    const L = labels.length;
    return texts.map((text, b) => {
      const scores = {} as Record<ModerationLabel, number>;
      const explanations = {} as Record<ModerationLabel, ExplanationSpan[]>;
      let wanted = 0;
      for (let l = 0; l < L; l++) {
        scores[labels[l]] = probs[b * L + l];
        explanations[labels[l]] = [];
        if (explain === 'all' || (explain === 'flagged' && probs[b * L + l] >= this.thresholds[l])) wanted |= 1 << l;
      }
      if (wanted !== 0) this.explainInto(explanations, text, hiddenOut, b, wanted, k);
      return { modelVersion: this.modelVersion, scores, explanations };
    });
  }

  dispose(): void {
    tf.dispose([this.b2, ...(this.dense ? [this.dense.w1, this.dense.b1, this.dense.w2] : [])]);
  }

  private forward(texts: string[], keepHidden: boolean) {
    const { dim, embedding, features } = this.weights;
    const B = texts.length;
    const bags = new Float32Array(B * dim);
    for (let b = 0; b < B; b++) {
      const n = this.featuriser.hashText(texts[b]);
      bagInto(embedding, dim, this.featuriser.view(), bags, b * dim, poolingScale(features, n), n);
    }
    const dense = this.dense;
    const [probsT, hiddenT] = tf.tidy(() => {
      const x = tf.tensor2d(bags, [B, dim]);
      if (!dense) return [tf.sigmoid(tf.add(x, this.b2)), x];
      const h = tf.relu(tf.add(tf.matMul(x, dense.w1), dense.b1));
      return [tf.sigmoid(tf.add(tf.matMul(h, dense.w2), this.b2)), h];
    });
    const probs = probsT.dataSync() as Float32Array;
    const hiddenOut = keepHidden && dense ? (hiddenT.dataSync() as Float32Array) : new Float32Array(0);
    tf.dispose([probsT, hiddenT]);
    return { probs, hiddenOut };
  }

  /** Texts are featurised a second time, with token offsets, only when a label needs spans. */
  private explainInto(
    out: Record<ModerationLabel, ExplanationSpan[]>,
    text: string,
    hiddenOut: Float32Array,
    b: number,
    wanted: number,
    k: number,
  ): void {
    const { dim, embedding, features, labels } = this.weights;
    const f = this.featuriser.featurise(text);
    const scale = poolingScale(features, f.ids.length);
    const grads = this.bagGradients(hiddenOut, b);
    for (let l = 0; l < labels.length; l++) {
      if ((wanted & (1 << l)) === 0) continue;
      const contrib = tokenContributions(embedding, dim, f, scale, grads, l * dim);
      const best: ExplanationSpan[] = [];
      for (let t = 0; t < contrib.length; t++) {
        const c = contrib[t];
        if (c <= 0 || (best.length === k && c <= best[k - 1].weight)) continue;
        const { start, end } = f.tokens[t];
        let i = best.length < k ? best.length : k - 1;
        best[i] = { start, end, text: text.slice(start, end), weight: c };
        for (; i > 0 && best[i - 1].weight < best[i].weight; i--) [best[i - 1], best[i]] = [best[i], best[i - 1]];
      }
      for (const s of best) s.weight = Math.round(s.weight * 1e4) / 1e4;
      out[labels[l]] = best;
    }
  }

  /** d logit_l / d bag for example b: W1 · diag(relu'(·)) · W2 (the identity for a linear model), as labels × dim. */
  private bagGradients(hiddenOut: Float32Array, b: number): Float32Array {
    const { dim, hidden, labels } = this.weights;
    const L = labels.length;
    const w1 = this.weights.w1;
    const w2 = this.weights.w2;
    const g = new Float32Array(L * dim);
    if (hidden === 0) for (let l = 0; l < L; l++) g[l * dim + l] = 1;
    for (let j = 0; j < hidden; j++) {
      if (hiddenOut[b * hidden + j] <= 0) continue;
      for (let l = 0; l < L; l++) {
        const w = w2[j * L + l];
        for (let d = 0; d < dim; d++) g[l * dim + d] += w1[d * hidden + j] * w;
      }
    }
    return g;
  }
}

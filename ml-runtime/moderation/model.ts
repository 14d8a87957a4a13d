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
import { bagQuantisedInto, contributionsOf, linearContributionsInto, scoringTable, type ScoringTable } from './bag';
import type { ModerationWeights } from './weights';
import type { ModerationResult } from '../inference-client';
import { SpanWriter, unpackModeration, type PackedModeration } from './packed';

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
  private readonly table: ScoringTable;
  /** Linear model: the bias and the thresholds as logits, to see which labels a bag flags. */
  private readonly bias: Float32Array;
  private readonly logitThresholds: Float64Array;
  /** Token contributions of the text being explained (linear model), reused across texts. */
  private contrib = new Float32Array(256);
  /**
   * The batch's features, owners and token offsets, kept from the scoring pass so that
   * explanations need no second tokenisation: text b's features are `[featEnd[b-1], featEnd[b])`.
   */
  private batch = { ids: new Int32Array(1 << 16), owners: new Int32Array(1 << 16), featEnd: new Int32Array(256), starts: new Int32Array(1 << 12), ends: new Int32Array(1 << 12), tokEnd: new Int32Array(256) };

  constructor(readonly weights: ModerationWeights) {
    this.modelVersion = `${weights.name}@${weights.version}`;
    this.featuriser = new Featuriser(weights.features);
    this.thresholds = Float32Array.from(weights.labels, (l) => weights.thresholds[l]);
    this.table = scoringTable(weights.embedding, weights.dim);
    this.bias = Float32Array.from(weights.b2);
    this.logitThresholds = Float64Array.from(this.thresholds, (t) => Math.log(t / (1 - t)));
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
    return unpackModeration(this.runPacked(texts, opts), texts);
  }

  /** `run` as typed arrays (see packed.ts): what a worker sends back to the pool. */
  runPacked(texts: string[], opts: RunOptions = {}): PackedModeration {
    const explain = opts.explain ?? 'flagged';
    const k = opts.topSpans ?? 3;
    const { labels } = this.weights;
    const L = labels.length;
    if (!this.dense && explain !== 'none') {
      // Linear: each text is explained as soon as it is bagged, for the labels its logit may flag,
      // while its features and table rows are at hand; tfjs's scores then decide which stay.
      const candidates = new SpanWriter();
      const { probs } = this.forward(texts, false, { all: explain === 'all', k, spans: candidates });
      const spans = explain === 'all' ? candidates : candidates.filtered((b, l) => probs[b * L + l] >= this.thresholds[l]);
      return { modelVersion: this.modelVersion, labels, scores: probs.slice(), ...spans.finish() };
    }
    const { probs, hiddenOut } = this.forward(texts, explain !== 'none');
    const spans = new SpanWriter();
    for (let b = 0; b < texts.length; b++) {
      let wanted = 0;
      for (let l = 0; l < L; l++) {
        if (explain === 'all' || (explain === 'flagged' && probs[b * L + l] >= this.thresholds[l])) wanted |= 1 << l;
      }
      if (wanted !== 0) this.explainInto(spans, hiddenOut, b, wanted, k);
    }
    // A buffer of its own, so that it can be transferred.
    return { modelVersion: this.modelVersion, labels, scores: probs.slice(), ...spans.finish() };
  }

  dispose(): void {
    tf.dispose([this.b2, ...(this.dense ? [this.dense.w1, this.dense.b1, this.dense.w2] : [])]);
  }

  private forward(texts: string[], keepHidden: boolean, linear?: { all: boolean; k: number; spans: SpanWriter }) {
    const { dim, features } = this.weights;
    const B = texts.length;
    const bags = new Float32Array(B * dim);
    const f = this.featuriser;
    const batch = this.batch;
    if (keepHidden && batch.featEnd.length < B) {
      batch.featEnd = new Int32Array(B * 2);
      batch.tokEnd = new Int32Array(B * 2);
    }
    let feats = 0;
    let toks = 0;
    for (let b = 0; b < B; b++) {
      const n = f.hashText(texts[b]);
      const scale = poolingScale(features, n);
      bagQuantisedInto(this.table, f.view(), n, bags, b * dim, scale);
      if (linear) {
        const tokens = f.tokenCount();
        if (this.contrib.length < tokens) this.contrib = new Float32Array(tokens * 2);
        for (let l = 0; l < dim; l++) {
          // The margin covers float32 vs float64 rounding; labels tfjs does not flag are dropped.
          if (!linear.all && bags[b * dim + l] + this.bias[l] < this.logitThresholds[l] - 1e-4) continue;
          linearContributionsInto(this.contrib, this.table.q, dim, l, this.table.scales[l], f.view(), f.ownerView(), n, tokens, scale);
          pushBest(linear.spans, this.contrib, tokens, b, l, f.tokenStarts(), f.tokenEnds(), 0, linear.k);
        }
        continue;
      }
      if (!keepHidden) continue;
      const t = f.tokenCount();
      if (feats + n > batch.ids.length) {
        batch.ids = grown(batch.ids, feats + n);
        batch.owners = grown(batch.owners, feats + n);
      }
      if (toks + t > batch.starts.length) {
        batch.starts = grown(batch.starts, toks + t);
        batch.ends = grown(batch.ends, toks + t);
      }
      batch.ids.set(f.view().subarray(0, n), feats);
      batch.owners.set(f.ownerView().subarray(0, n), feats);
      batch.starts.set(f.tokenStarts().subarray(0, t), toks);
      batch.ends.set(f.tokenEnds().subarray(0, t), toks);
      batch.featEnd[b] = feats += n;
      batch.tokEnd[b] = toks += t;
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

  /** Spans from the features kept by `forward`: no second tokenisation of the text. */
  private explainInto(
    out: SpanWriter,
    hiddenOut: Float32Array,
    b: number,
    wanted: number,
    k: number,
  ): void {
    const { dim, features, labels } = this.weights;
    const { ids, owners, featEnd, starts, ends, tokEnd } = this.batch;
    const from = b === 0 ? 0 : featEnd[b - 1];
    const tokFrom = b === 0 ? 0 : tokEnd[b - 1];
    const scale = poolingScale(features, featEnd[b] - from);
    const grads = this.bagGradients(hiddenOut, b);
    // Read the (cache-friendlier) scoring table, as the score itself did.
    const { q, scales } = this.table;
    for (let i = 0; i < grads.length; i++) grads[i] *= scales[i % dim];
    for (let l = 0; l < labels.length; l++) {
      if ((wanted & (1 << l)) === 0) continue;
      const contrib = contributionsOf(q, dim, ids, owners, from, featEnd[b], tokEnd[b] - tokFrom, scale, grads, l * dim);
      pushBest(out, contrib, contrib.length, b, l, starts, ends, tokFrom, k);
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

function grown(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(atLeast, a.length * 2));
  b.set(a);
  return b;
}

/** The k strongest positive tokens of `contrib[0 .. tokens)`, strongest first (insertion into a list of at most k). */
function pushBest(out: SpanWriter, contrib: Float32Array, tokens: number, b: number, l: number, starts: Int32Array, ends: Int32Array, tokFrom: number, k: number): void {
  const best: number[] = [];
  for (let t = 0; t < tokens; t++) {
    const c = contrib[t];
    if (c <= 0 || (best.length === k && c <= contrib[best[k - 1]])) continue;
    let i = best.length < k ? best.length : k - 1;
    best[i] = t;
    for (; i > 0 && contrib[best[i - 1]] < contrib[best[i]]; i--) [best[i - 1], best[i]] = [best[i], best[i - 1]];
  }
  for (const t of best) out.push(b, l, starts[tokFrom + t], ends[tokFrom + t], Math.round(contrib[t] * 1e4) / 1e4);
}

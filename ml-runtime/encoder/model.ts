/**
 * The text encoder as served. A vector has two unit-length halves, weighted so that their shares
 * of the cosine add up to one:
 *  - topic: hashed features (the moderation featuriser) pooled through a table trained to predict
 *    a question's tags, so texts about the same subjects land near each other;
 *  - lexical: a sketch of the IDF-weighted words and bigrams (lexical.ts), so texts that share
 *    rare words stay close where the tags say nothing.
 * The whole vector has unit length, so a dot product is the cosine. The tag layer stays in the
 * model for evaluation and runs in TensorFlow.js.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Featuriser, poolingScale } from '../moderation/features';
import { bagInto } from '../moderation/bag';
import { LexicalSketch } from './lexical';
import type { EncoderWeights } from './weights';

export class TextEncoder {
  readonly modelVersion: string;
  /** Length of the served vectors: the topic half, then the lexical half. */
  readonly dim: number;
  private readonly featuriser: Featuriser;
  private readonly lexical?: LexicalSketch;
  private readonly share: number;

  constructor(readonly weights: EncoderWeights, opts: { lexicalShare?: number } = {}) {
    this.modelVersion = `${weights.name}@${weights.version}`;
    this.featuriser = new Featuriser(weights.features);
    if (weights.lexical) this.lexical = new LexicalSketch(weights.lexical);
    this.share = this.lexical ? (opts.lexicalShare ?? weights.lexical!.share) : 0;
    this.dim = weights.dim + (weights.lexical?.dim ?? 0);
  }

  /** The pooled bag of `text` before normalisation (training computes the same). */
  bag(text: string, out: Float32Array, offset = 0): void {
    const dim = this.weights.dim;
    const n = this.featuriser.hashText(text);
    out.fill(0, offset, offset + dim);
    bagInto(this.weights.embedding, dim, this.featuriser.view(), out, offset, poolingScale(this.weights.features, n), n);
  }

  /** One unit vector per text, each on its own buffer (a view into a shared one would be copied whole when posted). */
  embed(texts: string[]): Float32Array[] {
    const d = this.weights.dim;
    return texts.map((text) => {
      const v = new Float32Array(this.dim);
      this.bag(text, v);
      scaleToLength(v.subarray(0, d), Math.sqrt(1 - this.share));
      if (this.lexical) {
        this.lexical.sketch(text, v, d);
        scaleToLength(v.subarray(d), Math.sqrt(this.share));
      }
      return normalise(v);
    });
  }

  /** Tag probabilities (softmax over the tag vocabulary), texts × tags. */
  tagProbabilities(texts: string[]): Float32Array {
    const { dim, tags, outW, outB } = this.weights;
    const bags = new Float32Array(texts.length * dim);
    texts.forEach((t, i) => this.bag(t, bags, i * dim));
    const probs = tf.tidy(() => tf.softmax(tf.add(tf.matMul(tf.tensor2d(bags, [texts.length, dim]), tf.tensor2d(outW, [dim, tags.length])), tf.tensor1d(outB))));
    const out = probs.dataSync() as Float32Array;
    probs.dispose();
    return out;
  }
}

function scaleToLength(v: Float32Array, length: number): void {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const k = s > 0 ? length / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= k;
}

export function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s > 0) {
    const k = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] *= k;
  }
  return v;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * The lexical half of an encoder vector: a random-sign projection of the text's TF-IDF vector
 * over word and word-bigram features (sublinear tf: 1 + ln count). Its dot products approximate TF-IDF cosines
 * (Johnson–Lindenstrauss), so two questions that share rare words stay close even when the topic
 * half, trained on Stack Overflow's programming tags, cannot tell their subjects apart. The signs
 * are recomputed from the bucket id, so only the IDF table (one byte per bucket) is stored.
 */
import { Featuriser, type FeatureConfig } from '../moderation/features';

export interface LexicalWeights {
  dim: number;
  /** Word and bigram features only: char n-grams are disabled (minCharGram above any word). */
  features: FeatureConfig;
  /** Per bucket; buckets never seen in training get the largest IDF. */
  idf: Float32Array;
}

const SIGN_SEED = 0x2545f491;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class LexicalSketch {
  private readonly featuriser: Featuriser;

  constructor(readonly weights: LexicalWeights) {
    if (weights.dim % 32 !== 0) throw new Error('lexical dim must be a multiple of 32');
    this.featuriser = new Featuriser(weights.features);
  }

  /** Adds the unnormalised sketch of `text` into `out[offset .. offset + dim)`. */
  sketch(text: string, out: Float32Array, offset: number): void {
    const n = this.featuriser.hashText(text);
    // Sorted, so each feature's count is a run: weights are (1 + ln count) × IDF (sublinear tf).
    const ids = this.featuriser.view().slice(0, n).sort();
    const { dim, idf } = this.weights;
    for (let i = 0, j = 0; i < n; i = j) {
      const b = ids[i];
      while (j < n && ids[j] === b) j++;
      const w = idf[b] * (1 + Math.log(j - i));
      for (let k = 0; k < dim; k += 32) {
        const bits = fmix32((Math.imul(b, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca77) ^ SIGN_SEED) >>> 0);
        for (let j = 0; j < 32; j++) out[offset + k + j] += (bits >>> j) & 1 ? w : -w;
      }
    }
  }
}

/** Smoothed IDF, ln((1 + n) / (1 + df)) + 1, of each bucket over `texts`. */
export function fitIdf(texts: string[], features: FeatureConfig): Float32Array {
  const f = new Featuriser(features);
  const df = new Float32Array(features.buckets);
  for (const t of texts) {
    const n = f.hashText(t);
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) seen.add(f.view()[i]);
    for (const b of seen) df[b]++;
  }
  const N = texts.length;
  return df.map((d) => Math.log((1 + N) / (1 + d)) + 1);
}

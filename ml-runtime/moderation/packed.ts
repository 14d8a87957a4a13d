/**
 * A batch of moderation results as a few typed arrays, for the trip from a worker to the pool.
 *
 * Structured-cloning one result object (a scores record, an explanations record, three arrays)
 * per text cost about as much as scoring the text; typed arrays are transferred without a copy
 * and the pool builds the objects from them, taking span texts from the inputs it still holds.
 */
import type { ExplanationSpan, ModerationLabel, ModerationResult } from '../inference-client';

export interface PackedModeration {
  modelVersion: string;
  labels: ModerationLabel[];
  /** texts × labels, row-major. */
  scores: Float32Array;
  /** Four ints per span, strongest first within each (text, label): text index, label index, start, end. */
  spans: Int32Array;
  /** One weight per span. */
  weights: Float64Array;
}

/** Growable span list for one batch. */
export class SpanWriter {
  private ints = new Int32Array(256);
  private floats = new Float64Array(64);
  private n = 0;

  push(text: number, label: number, start: number, end: number, weight: number): void {
    if (this.n === this.floats.length) {
      const ints = new Int32Array(this.ints.length * 2);
      ints.set(this.ints);
      this.ints = ints;
      const floats = new Float64Array(this.floats.length * 2);
      floats.set(this.floats);
      this.floats = floats;
    }
    const k = this.n++ * 4;
    this.ints[k] = text;
    this.ints[k + 1] = label;
    this.ints[k + 2] = start;
    this.ints[k + 3] = end;
    this.floats[this.n - 1] = weight;
  }

  /** The spans of the (text, label) pairs that `keep` accepts, in the same order. */
  filtered(keep: (text: number, label: number) => boolean): SpanWriter {
    const out = new SpanWriter();
    for (let i = 0; i < this.n; i++) {
      const k = i * 4;
      if (keep(this.ints[k], this.ints[k + 1])) out.push(this.ints[k], this.ints[k + 1], this.ints[k + 2], this.ints[k + 3], this.floats[i]);
    }
    return out;
  }

  finish(): { spans: Int32Array; weights: Float64Array } {
    return { spans: this.ints.slice(0, this.n * 4), weights: this.floats.slice(0, this.n) };
  }
}

/** The buffers to list in `postMessage`'s transfer list. */
export function transferables(p: PackedModeration): ArrayBuffer[] {
  return [p.scores.buffer, p.spans.buffer, p.weights.buffer] as ArrayBuffer[];
}

export function unpackModeration(p: PackedModeration, texts: readonly string[]): ModerationResult[] {
  const { labels, scores, spans, weights, modelVersion } = p;
  const L = labels.length;
  const out: ModerationResult[] = new Array(texts.length);
  for (let b = 0; b < texts.length; b++) {
    const s = {} as Record<ModerationLabel, number>;
    const e = {} as Record<ModerationLabel, ExplanationSpan[]>;
    for (let l = 0; l < L; l++) {
      s[labels[l]] = scores[b * L + l];
      e[labels[l]] = [];
    }
    out[b] = { modelVersion, scores: s, explanations: e };
  }
  for (let i = 0; i < weights.length; i++) {
    const b = spans[i * 4];
    if (b >= texts.length) continue;
    const start = spans[i * 4 + 2];
    const end = spans[i * 4 + 3];
    out[b].explanations[labels[spans[i * 4 + 1]]].push({ start, end, text: texts[b].slice(start, end), weight: weights[i] });
  }
  return out;
}

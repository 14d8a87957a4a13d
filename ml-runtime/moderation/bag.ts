/**
 * The embedding bag in plain JavaScript: the pooled hashed feature rows of a text.
 *
 * This replaces a tfjs `gather` + reduce, which on WASM cost ~60 ms for a batch of 256 texts;
 * summing a few hundred short rows from a typed array costs microseconds per text. The same code
 * computes the bag during training, so training and serving cannot drift apart.
 */
import type { Features } from './features';

/** Adds the first `count` of `ids`' rows, times `scale`, into `out[offset .. offset + dim)`. */
export function bagInto(
  embedding: Float32Array,
  dim: number,
  ids: Int32Array,
  out: Float32Array,
  offset: number,
  scale: number,
  count = ids.length,
): void {
  if (count === 0) return;
  for (let i = 0; i < count; i++) {
    const row = ids[i] * dim;
    for (let d = 0; d < dim; d++) out[offset + d] += embedding[row + d];
  }
  for (let d = 0; d < dim; d++) out[offset + d] *= scale;
}

/**
 * Each token's share of `grad · bag` (gradient × input): the contributions of its features, a
 * bigram split evenly between its two tokens, so the token contributions sum to `grad · bag`.
 * `scale` is the pooling divisor (poolingScale) and `grad` the first `dim` floats from `gradOffset`.
 */
export function tokenContributions(
  embedding: Float32Array,
  dim: number,
  f: Features,
  scale: number,
  grad: Float32Array,
  gradOffset = 0,
): Float32Array {
  return contributionsOf(embedding, dim, f.ids, f.owners, 0, f.ids.length, f.tokens.length, scale, grad, gradOffset);
}

/**
 * `tokenContributions` over features `[from, to)` of flat `ids`/`owners` arrays (a whole batch's);
 * over a scoring table's `q`, pass `grad` times the column scales.
 */
export function contributionsOf(
  embedding: Float32Array | Int16Array,
  dim: number,
  ids: Int32Array,
  owners: Int32Array,
  from: number,
  to: number,
  tokens: number,
  scale: number,
  grad: Float32Array,
  gradOffset = 0,
): Float32Array {
  const out = new Float32Array(tokens);
  for (let i = from; i < to; i++) {
    const row = ids[i] * dim;
    let c = 0;
    for (let d = 0; d < dim; d++) c += embedding[row + d] * grad[gradOffset + d];
    c *= scale;
    addToTokens(out, owners[i], c);
  }
  return out;
}

/** A feature's contribution to its token, or half to each token of a bigram (owner −(t + 1)). */
function addToTokens(out: Float32Array, owner: number, c: number): void {
  if (owner >= 0) out[owner] += c;
  else {
    const t = -owner - 1;
    out[t - 1] += c * 0.5;
    out[t] += c * 0.5;
  }
}

/**
 * `contributionsOf` for a linear model (one bag column per label, gradient = that column's scale):
 * each feature contributes its table value in column `label`, so one read per feature instead of a
 * `dim`-long product, into `out[0 .. tokens)` (cleared here, so a caller can reuse the buffer).
 * The arithmetic is the same as `contributionsOf` with a one-hot gradient, so the results are too.
 */
export function linearContributionsInto(
  out: Float32Array,
  q: Int16Array,
  dim: number,
  label: number,
  columnScale: number,
  ids: Int32Array,
  owners: Int32Array,
  count: number,
  tokens: number,
  scale: number,
): void {
  out.fill(0, 0, tokens);
  for (let i = 0; i < count; i++) addToTokens(out, owners[i], q[ids[i] * dim + label] * columnScale * scale);
}

/**
 * The table as int16 with one scale per column, for scoring: half the bytes of float32 and a
 * quarter of the cache misses of float32 rows plus per-row scales. A bag reads a few hundred
 * random rows of a table of megabytes, so its cost is cache misses, not arithmetic; the rounding
 * (below 1/65,000 of a column's largest weight) does not change a score's first four decimals.
 */
export interface ScoringTable {
  q: Int16Array;
  scales: Float32Array;
  dim: number;
}

export function scoringTable(embedding: Float32Array, dim: number): ScoringTable {
  const scales = new Float32Array(dim);
  for (let i = 0; i < embedding.length; i++) scales[i % dim] = Math.max(scales[i % dim], Math.abs(embedding[i]));
  for (let d = 0; d < dim; d++) scales[d] = scales[d] / 32767 || 1;
  const q = new Int16Array(embedding.length);
  for (let i = 0; i < embedding.length; i++) q[i] = Math.round(embedding[i] / scales[i % dim]);
  return { q, scales, dim };
}

/** `bagInto` over a scoring table: integer sums per column, scaled once at the end. */
export function bagQuantisedInto(table: ScoringTable, ids: Int32Array, count: number, out: Float32Array, offset: number, scale: number): void {
  const { q, scales, dim } = table;
  if (count === 0) return;
  if (dim === 3) {
    let a = 0;
    let b = 0;
    let c = 0;
    for (let i = 0; i < count; i++) {
      const row = ids[i] * 3;
      a += q[row];
      b += q[row + 1];
      c += q[row + 2];
    }
    out[offset] += a * scales[0] * scale;
    out[offset + 1] += b * scales[1] * scale;
    out[offset + 2] += c * scales[2] * scale;
    return;
  }
  for (let d = 0; d < dim; d++) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += q[ids[i] * dim + d];
    out[offset + d] += sum * scales[d] * scale;
  }
}

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
  const out = new Float32Array(f.tokens.length);
  for (let i = 0; i < f.ids.length; i++) {
    const row = f.ids[i] * dim;
    let c = 0;
    for (let d = 0; d < dim; d++) c += embedding[row + d] * grad[gradOffset + d];
    c *= scale;
    const owner = f.owners[i];
    if (owner >= 0) out[owner] += c;
    else {
      const t = -owner - 1;
      out[t - 1] += c * 0.5;
      out[t] += c * 0.5;
    }
  }
  return out;
}

/**
 * The few linear-algebra pieces the recommender needs and TensorFlow.js lacks: products of a sparse
 * matrix with a dense block (plain typed arrays), Cholesky, and a symmetric eigensolver for small
 * (a few hundred) matrices. Dense blocks are row-major Float32Array; small matrices Float64Array.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Reads a tensor back and frees it. Never return the typed array from tf.tidy: tidy walks what its
 * callback returns element by element, which is slow and overflows a Set for large arrays.
 */
export function readAndDispose(t: tf.Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

/** A sparse matrix in compressed-row form with values. */
export interface Csr {
  rows: number;
  cols: number;
  ptr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
}

/** Y (a.rows × l) = A · X, X dense (a.cols × l). */
export function spmm(a: Csr, x: Float32Array, l: number): Float32Array {
  const y = new Float32Array(a.rows * l);
  for (let r = 0; r < a.rows; r++) {
    const yo = r * l;
    for (let p = a.ptr[r]; p < a.ptr[r + 1]; p++) {
      const v = a.val[p];
      const xo = a.idx[p] * l;
      for (let j = 0; j < l; j++) y[yo + j] += v * x[xo + j];
    }
  }
  return y;
}

/** Y (a.cols × l) = Aᵀ · X, X dense (a.rows × l). */
export function spmmT(a: Csr, x: Float32Array, l: number): Float32Array {
  const y = new Float32Array(a.cols * l);
  for (let r = 0; r < a.rows; r++) {
    const xo = r * l;
    for (let p = a.ptr[r]; p < a.ptr[r + 1]; p++) {
      const v = a.val[p];
      const yo = a.idx[p] * l;
      for (let j = 0; j < l; j++) y[yo + j] += v * x[xo + j];
    }
  }
  return y;
}

/**
 * XᵀX for a tall X (n × l) on the tfjs backend, summed over row blocks: one huge inner dimension
 * is several times slower on the WASM backend than a sum of moderate ones.
 */
export function gram(x: Float32Array, n: number, l: number, block = 4096): Float64Array {
  const g = new Float64Array(l * l);
  for (let r0 = 0; r0 < n; r0 += block) {
    const rows = Math.min(block, n - r0);
    const part = readAndDispose(
      tf.tidy(() => {
        const b = tf.tensor2d(x.subarray(r0 * l, (r0 + rows) * l), [rows, l]);
        // An explicit transpose is several times faster than matMul's transposeA on WASM.
        return tf.matMul(tf.transpose(b), b);
      }),
    );
    for (let k = 0; k < l * l; k++) g[k] += part[k];
  }
  return g;
}

/** X (n × l) · M (l × m), M small and dense, on the tfjs backend in row blocks. */
export function denseTimesSmall(x: Float32Array, n: number, l: number, m: Float64Array | Float32Array, mc: number, block = 8192): Float32Array {
  const out = new Float32Array(n * mc);
  const mt = tf.tensor2d(Float32Array.from(m), [l, mc]);
  for (let r0 = 0; r0 < n; r0 += block) {
    const rows = Math.min(block, n - r0);
    const part = readAndDispose(tf.tidy(() => tf.matMul(tf.tensor2d(x.subarray(r0 * l, (r0 + rows) * l), [rows, l]), mt)));
    out.set(part, r0 * mc);
  }
  mt.dispose();
  return out;
}

/** Lower-triangular L with LLᵀ = A (A symmetric positive definite, l × l); a tiny jitter keeps it going. */
export function cholesky(a: Float64Array, l: number): Float64Array {
  const L = new Float64Array(l * l);
  // A pivot below float32 precision means a (near-)dependent column: floor it so that column
  // comes out small instead of overflowing; the second CholQR pass then re-normalises it.
  let maxDiag = 0;
  for (let i = 0; i < l; i++) maxDiag = Math.max(maxDiag, a[i * l + i]);
  const floor = 1e-6 * (maxDiag || 1);
  for (let i = 0; i < l; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * l + j];
      for (let k = 0; k < j; k++) s -= L[i * l + k] * L[j * l + k];
      if (i === j) L[i * l + i] = Math.sqrt(Math.max(s, floor));
      else L[i * l + j] = s / L[j * l + j];
    }
  }
  return L;
}

/** (Lᵀ)⁻¹ for lower-triangular L: an upper-triangular l × l matrix. */
export function invLowerTransposed(L: Float64Array, l: number): Float64Array {
  // Solve L Z = I column by column (Z = L⁻¹), then return Zᵀ.
  const z = new Float64Array(l * l);
  for (let c = 0; c < l; c++) {
    for (let i = c; i < l; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= L[i * l + k] * z[k * l + c];
      z[i * l + c] = s / L[i * l + i];
    }
  }
  const zt = new Float64Array(l * l);
  for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) zt[j * l + i] = z[i * l + j];
  return zt;
}

/** Orthonormal columns spanning X's (n × l, full column rank): Cholesky-QR twice (CholQR2). */
export function orthonormalize(x: Float32Array, n: number, l: number): Float32Array {
  let q = x;
  for (let pass = 0; pass < 2; pass++) {
    const r = invLowerTransposed(cholesky(gram(q, n, l), l), l);
    q = denseTimesSmall(q, n, l, r, l);
  }
  return q;
}

/**
 * Eigen-decomposition of a symmetric l × l matrix by cyclic Jacobi rotations (robust, and fast
 * enough for l of a few hundred). Returns eigenvalues descending and eigenvectors as columns.
 */
export function symmetricEigen(input: Float64Array, l: number, sweeps = 30): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const v = new Float64Array(l * l);
  for (let i = 0; i < l; i++) v[i * l + i] = 1;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < l; i++) {
      diag += a[i * l + i] ** 2;
      for (let j = i + 1; j < l; j++) off += a[i * l + j] ** 2;
    }
    if (off <= 1e-22 * diag) break;
    for (let p = 0; p < l; p++) {
      for (let q = p + 1; q < l; q++) {
        const apq = a[p * l + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * l + q] - a[p * l + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < l; k++) {
          const akp = a[k * l + p];
          const akq = a[k * l + q];
          a[k * l + p] = c * akp - s * akq;
          a[k * l + q] = s * akp + c * akq;
        }
        for (let k = 0; k < l; k++) {
          const apk = a[p * l + k];
          const aqk = a[q * l + k];
          a[p * l + k] = c * apk - s * aqk;
          a[q * l + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < l; k++) {
          const vkp = v[k * l + p];
          const vkq = v[k * l + q];
          v[k * l + p] = c * vkp - s * vkq;
          v[k * l + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: l }, (_, i) => i).sort((i, j) => a[j * l + j] - a[i * l + i]);
  const values = Float64Array.from(order, (i) => a[i * l + i]);
  const vectors = new Float64Array(l * l);
  for (let c = 0; c < l; c++) for (let k = 0; k < l; k++) vectors[k * l + c] = v[k * l + order[c]];
  return { values, vectors };
}

import { mulberry32 } from '../training/random';

/** Seeded standard normal samples (Box–Muller), so that training is reproducible. */
export function randomNormal(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let k = 0; k < n; k += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const t = 2 * Math.PI * rand();
    out[k] = r * Math.cos(t);
    if (k + 1 < n) out[k + 1] = r * Math.sin(t);
  }
  return out;
}

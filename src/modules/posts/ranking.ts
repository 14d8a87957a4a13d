/**
 * Ranking keys, stored on each post and refreshed whenever its votes change.
 */

/** Reddit's epoch (2005-12-08T07:46:43Z); only differences matter, it keeps the numbers small. */
const HOT_EPOCH_SECONDS = 1134028003;
/** Reddit's 45,000 s: an order of magnitude more net votes is worth 12.5 hours of freshness. */
const HOT_DECAY_SECONDS = 45000;

/** Reddit's "hot": log10 of the net score plus a linear bonus for recency. */
export function hotRank(score: number, createdAt: Date): number {
  const order = Math.log10(Math.max(Math.abs(score), 1));
  const sign = Math.sign(score);
  const seconds = createdAt.getTime() / 1000 - HOT_EPOCH_SECONDS;
  return Math.round((sign * order + seconds / HOT_DECAY_SECONDS) * 1e7) / 1e7;
}

/**
 * Lower bound of the Wilson score interval for the share of up votes (95%, z = 1.96): an answer with
 * 9 up / 1 down ranks above one with 1 up / 0 down, which a plain ratio gets wrong.
 */
export function wilsonLowerBound(up: number, down: number, z = 1.96): number {
  const n = up + down;
  if (n === 0) return 0;
  const p = up / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)) / (1 + z2 / n);
}

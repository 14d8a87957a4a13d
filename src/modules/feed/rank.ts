/**
 * The pure stages of the feed pipeline (after Bluesky's appview): merge candidates from several
 * sources into one score per post, then apply the rules. No I/O here, so every rule is unit-tested.
 */

export type CandidateSource = 'COLLABORATIVE' | 'FOLLOWED_USER' | 'FOLLOWED_TAG' | 'CONTENT' | 'HOT' | 'FRESH';

export interface Candidate {
  postId: number;
  authorId: number;
  source: CandidateSource;
  /** Strength within its source, in [0, 1]. */
  score: number;
  /** Why it is here, for the reader: "because you follow #rust". */
  reason: string;
  tags: string[];
  publishedAt: Date;
}

/** How much each source counts; what the member chose to follow weighs most. */
export const SOURCE_WEIGHT: Record<CandidateSource, number> = {
  FOLLOWED_USER: 1.0,
  COLLABORATIVE: 0.9,
  FOLLOWED_TAG: 0.8,
  CONTENT: 0.7,
  HOT: 0.45,
  FRESH: 0.35,
};

/** Recency half-life: a two-day-old post keeps half its freshness bonus. */
const FRESHNESS_HALF_LIFE_HOURS = 48;
const FRESHNESS_WEIGHT = 0.3;
/** Each "show less like this" on a tag or author halves what shares it. */
const DISMISS_FACTOR = 0.5;

export interface Ranked {
  postId: number;
  authorId: number;
  score: number;
  reason: string;
}

export interface Negative {
  tags: Map<string, number>;
  authors: Map<number, number>;
}

export function mergeCandidates(candidates: Candidate[], negative: Negative, now: Date): Ranked[] {
  // Runs on every catch-up of a cached feed (about a thousand candidates), so no closures or
  // per-candidate allocations beyond the merged entry.
  const byPost = new Map<number, { c: Candidate; total: number; best: number; reason: string }>();
  for (const c of candidates) {
    const contribution = SOURCE_WEIGHT[c.source] * Math.max(0, Math.min(1, c.score));
    const entry = byPost.get(c.postId);
    if (!entry) byPost.set(c.postId, { c, total: contribution, best: contribution, reason: c.reason });
    else {
      entry.total += contribution;
      if (contribution > entry.best) {
        entry.best = contribution;
        entry.reason = c.reason;
      }
    }
  }
  const nowMs = now.getTime();
  const penalised = negative.tags.size > 0 || negative.authors.size > 0;
  const ranked: Ranked[] = new Array(byPost.size);
  let i = 0;
  for (const { c, total, reason } of byPost.values()) {
    const ageHours = Math.max(0, (nowMs - c.publishedAt.getTime()) / 3_600_000);
    let score = total + FRESHNESS_WEIGHT * 0.5 ** (ageHours / FRESHNESS_HALF_LIFE_HOURS);
    if (penalised) {
      let dismissals = negative.authors.get(c.authorId) ?? 0;
      for (const t of c.tags) dismissals += negative.tags.get(t) ?? 0;
      score *= DISMISS_FACTOR ** dismissals;
    }
    ranked[i++] = { postId: c.postId, authorId: c.authorId, score, reason };
  }
  return ranked.sort((a, b) => b.score - a.score || b.postId - a.postId);
}

export interface RuleContext {
  viewerId: number | null;
  seen: Set<number>;
  dismissed: Set<number>;
}

/** Drops the viewer's own posts and what they have seen or dismissed. */
export function applyRules(ranked: Ranked[], ctx: RuleContext): Ranked[] {
  return ranked.filter((r) => r.authorId !== ctx.viewerId && !ctx.seen.has(r.postId) && !ctx.dismissed.has(r.postId));
}

/**
 * Author diversity: no author twice within any `window` consecutive items; an item that would
 * break that waits for the first place where it fits, keeping the order otherwise.
 */
export function diversify(ranked: Ranked[], window = 3): Ranked[] {
  const out: Ranked[] = [];
  const waiting: Ranked[] = [];
  // The last window − 1 placed items, read in place (this runs over a thousand items per re-rank).
  const fits = (r: Ranked) => {
    for (let i = Math.max(0, out.length - (window - 1)); i < out.length; i++) if (out[i].authorId === r.authorId) return false;
    return true;
  };
  for (const r of ranked) {
    const i = waiting.findIndex(fits);
    if (i >= 0) out.push(...waiting.splice(i, 1));
    if (fits(r)) out.push(r);
    else waiting.push(r);
  }
  // What never found a place goes last, still in rank order.
  return out.concat(waiting);
}

/** For anonymous and brand-new members: hot posts with fresh ones mixed in (every third place). */
export function mixFresh(hot: Ranked[], fresh: Ranked[], every = 3): Ranked[] {
  const out: Ranked[] = [];
  const used = new Set<number>();
  let h = 0;
  let f = 0;
  while (h < hot.length || f < fresh.length) {
    const takeFresh = (out.length + 1) % every === 0 && f < fresh.length;
    const next = takeFresh ? fresh[f++] : h < hot.length ? hot[h++] : fresh[f++];
    if (!used.has(next.postId)) {
      used.add(next.postId);
      out.push(next);
    }
  }
  return out;
}

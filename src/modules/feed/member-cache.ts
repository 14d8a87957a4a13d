import type { Candidate, Negative, Ranked } from './rank';
import type { MemberState } from './member-state';

/**
 * Each member's FOR_YOU ranking, kept per process between requests. Ranking a member from cold
 * costs several candidate queries and a recommender call; their next page-one request, a
 * feedUpdates re-rank or a reload usually finds nothing changed, and then costs one state read.
 *
 * An entry is used only while all of these hold:
 * - the member's state version is the one it was built from (`member-state.ts`): any vote,
 *   bookmark, follow, post or dismissal of theirs, from any process, misses at once;
 * - it was built less than `REBUILD_MS` ago, which bounds what no event reports (a member's own
 *   lists are otherwise only ever trimmed).
 * Published content moves a content epoch (the pub/sub topics cross processes) and each change is
 * logged here: an entry behind the epoch is caught up by the feed service, which drops what was
 * taken down from the member's own lists and recomputes the in-memory content sources, instead of
 * repeating the member's queries. In a busy community every member's entry is behind after each
 * post, so rebuilding them all made every request cost as much as a cold one. An entry not merged
 * for `REFRESH_MS` is caught up too, so hot scores and freshness do not drift.
 * Marking posts seen keeps the merged list and only filters it again.
 */

/** Hot and fresh move by the minute; freshness halves over two days. */
const REFRESH_MS = 60_000;
const REBUILD_MS = 10 * 60_000;
/** The anonymous feed is the shared hot and fresh lists, which are themselves kept 5 s. */
const ANON_TTL_MS = 5_000;
/**
 * An entry holds a merged list of ~1,000 posts, the ranked list and the member's own candidate
 * lists: about 215 KB of heap (measured over 250 members of the 100k-post bench community), so at
 * most ~215 MB per process. It needs to cover the members active within `REBUILD_MS`.
 */
const MAX_ENTRIES = 1_000;

/**
 * What a published-content change means for cached rankings. `shown`: a post became visible (first
 * published, or shown again after moderation took it down); `removed`: a visible post was taken
 * down; `reset`: something the log cannot describe, so every entry is dropped.
 */
export type ContentChange =
  | { kind: 'shown'; postId: number; authorId: number; topLevel: boolean }
  | { kind: 'removed'; postId: number }
  | { kind: 'reset' };

/**
 * The member's own part of a ranking: what their queries returned. Catching up keeps these and
 * recomputes the rest.
 */
export interface MemberParts {
  state: MemberState;
  followedUsers: Candidate[];
  collaborative: Candidate[];
  /** Every post the recommender named, visible or not: one shown again must rebuild the entry. */
  recommended: Set<number>;
  negative: Negative;
}

export interface MemberFeed {
  key: string;
  /** The content epoch the ranking reflects. */
  epoch: number;
  builtAt: number;
  /** When `merged` was last computed (built or caught up). */
  mergedAt: number;
  /**
   * Drawn in [0, 1) at each merge: the ranking waits between half and all of the catch-up
   * interval for new posts (`waitsForNewPosts`), so rankings merged together do not all catch up
   * again at the same moment.
   */
  jitter: number;
  /** Null for the anonymous feed, which is rebuilt instead. */
  parts: MemberParts | null;
  /** Every candidate merged and scored, before the seen filter and author diversity. */
  merged: Ranked[];
  seenKey: string | null;
  /** The seen and dismissed posts `ranked` was filtered with (they match `seenKey`). */
  filter: { seen: Set<number>; dismissed: Set<number> } | null;
  /** `merged` after the rules and diversity: the feed, in order. */
  ranked: Ranked[];
  /** The snapshot already written for `ranked`, reused by page-one requests until `ranked` changes. */
  snapshotId: string | null;
}

/** A member's collaborative scores: they change with the model and the member's items only. */
interface Scores {
  key: string;
  scored: Array<{ postId: number; score: number }>;
}

interface Scope {
  epoch: number;
  /** The changes that led to epochs `epoch - log.length + 1 .. epoch`, oldest first. */
  log: ContentChange[];
  entries: Map<number, MemberFeed>;
  scores: Map<number, Scores>;
  stats: { hits: number; misses: number; refilters: number; caughtUp: number };
}

/** Changes remembered; an entry further behind is rebuilt (at a post a second, that is minutes, beyond the TTL). */
const LOG_SIZE = 1_000;

const scopes = new WeakMap<object, Scope>();

function scopeOf(owner: object): Scope {
  let s = scopes.get(owner);
  if (!s) scopes.set(owner, (s = { epoch: 0, log: [], entries: new Map(), scores: new Map(), stats: { hits: 0, misses: 0, refilters: 0, caughtUp: 0 } }));
  return s;
}

/** Id 0 holds the anonymous feed. */
const ANONYMOUS = 0;

export function contentEpoch(owner: object): number {
  return scopeOf(owner).epoch;
}

/** A post became visible or was taken down: every cached ranking is behind until caught up. */
export function bumpContentEpoch(owner: object, change: ContentChange = { kind: 'reset' }): void {
  const s = scopeOf(owner);
  s.epoch++;
  if (change.kind === 'reset') {
    s.log = [];
    s.entries.clear();
    return;
  }
  s.log.push(change);
  if (s.log.length > LOG_SIZE) s.log.splice(0, s.log.length - LOG_SIZE);
}

/** Whether a cached ranking must catch up before use: content changed, or it was merged too long ago. */
export function isBehind(feed: MemberFeed, epoch: number, now = Date.now()): boolean {
  return feed.epoch !== epoch || now - feed.mergedAt > REFRESH_MS;
}

/**
 * Whether a ranking behind only by newly shown posts may still be served as it is: it was merged
 * less than its share of `catchUpMs` ago. In a busy community every post leaves every ranking
 * behind, and those merged together would otherwise catch up together, a burst of re-merges
 * every interval that the requests arriving meanwhile wait behind.
 */
export function waitsForNewPosts(feed: MemberFeed, catchUpMs: number, now = Date.now()): boolean {
  return now - feed.mergedAt < catchUpMs * (0.5 + 0.5 * feed.jitter);
}

/** The changes after `epoch`, oldest first, or null when the log no longer reaches back to it. */
export function changesSince(owner: object, epoch: number): ContentChange[] | null {
  const s = scopeOf(owner);
  const behind = s.epoch - epoch;
  if (behind < 0 || behind > s.log.length) return null;
  return s.log.slice(s.log.length - behind);
}

export function cachedFeed(owner: object, memberId: number | null, key: string): MemberFeed | null {
  const s = scopeOf(owner);
  const id = memberId ?? ANONYMOUS;
  const e = s.entries.get(id);
  const ttl = id === ANONYMOUS ? ANON_TTL_MS : REBUILD_MS;
  if (!e || e.key !== key || Date.now() - e.builtAt > ttl) {
    s.stats.misses++;
    return null;
  }
  // Re-inserted so the Map's order is least recently used first.
  s.entries.delete(id);
  s.entries.set(id, e);
  s.stats.hits++;
  return e;
}

export function storeFeed(owner: object, memberId: number | null, e: MemberFeed): void {
  const s = scopeOf(owner);
  const id = memberId ?? ANONYMOUS;
  s.entries.delete(id);
  s.entries.set(id, e);
  while (s.entries.size > MAX_ENTRIES) s.entries.delete(s.entries.keys().next().value as number);
}

/**
 * The recommender's answer for a member, kept across content epochs: a new post is not in the
 * model, and the posts it names are re-checked for visibility on every use (`describe`), so a
 * busy community's publishing does not send every member back to the inference pool.
 */
export function cachedScores(owner: object, memberId: number, key: string): Scores['scored'] | null {
  const s = scopeOf(owner);
  const e = s.scores.get(memberId);
  if (!e || e.key !== key) return null;
  s.scores.delete(memberId);
  s.scores.set(memberId, e);
  return e.scored;
}

export function storeScores(owner: object, memberId: number, key: string, scored: Scores['scored']): void {
  const s = scopeOf(owner);
  s.scores.delete(memberId);
  s.scores.set(memberId, { key, scored });
  while (s.scores.size > MAX_ENTRIES) s.scores.delete(s.scores.keys().next().value as number);
}

export function noteRefilter(owner: object): void {
  scopeOf(owner).stats.refilters++;
}

export function noteCaughtUp(owner: object): void {
  scopeOf(owner).stats.caughtUp++;
}

/** Hit and miss counts since start, for benchmarks and metrics. */
export function feedCacheStats(owner: object): { hits: number; misses: number; refilters: number; caughtUp: number; entries: number } {
  const s = scopeOf(owner);
  return { ...s.stats, entries: s.entries.size };
}

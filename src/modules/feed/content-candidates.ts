import type { DataSource, EntityManager } from 'typeorm';
import type { Candidate } from './rank';
import type { PostEmbeddings } from './post-embeddings';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';

/**
 * The content source: fresh posts whose text is close to what a member has engaged with, so a
 * post nobody has touched yet (the collaborative model cannot rank it) still reaches the members
 * it is for, even when it shares none of their tags.
 *
 * A member's profile is the weighted mean of the vectors of what they bookmarked (3), voted up
 * (2) or wrote (1), plus their followed tags as text (1). Candidates are the newest published
 * posts (a bounded window shared per process, its vectors cached), scored by cosine. The reason
 * names the kind of engagement the post is closest to.
 */

/** Newest posts considered: the cold-start window; older posts have had time to gather interactions. */
const WINDOW = 1000;
const WINDOW_TTL_MS = 5_000;
/** Interactions used per kind of engagement (the newest): enough to describe interests, bounded in cost. */
const SIGNALS = 60;
const LIMIT = 100;
/**
 * Cosines below this are noise. Measured with `text-encoder@1.0.0` (`eval:encoder`,
 * similarity-scale): held-out Stack Overflow title pairs that share no tag have cosines with a
 * 95th percentile of 0.25 and a 99th of 0.35; pairs sharing their first tag a median of 0.18.
 */
export const SIMILARITY_FLOOR = 0.3;
/** A cosine this high counts as a full-strength match; weaker best matches stay below 1. */
const STRONG = 0.5;

const VISIBLE = `p.deleted_at IS NULL AND p.status = 'PUBLISHED' AND p.parent_id IS NULL`;

type Kind = 'bookmarked' | 'voted up' | 'wrote' | 'follow';
const WEIGHT: Record<Kind, number> = { bookmarked: 3, 'voted up': 2, wrote: 1, follow: 1 };
const REASON: Record<Kind, string> = {
  bookmarked: 'similar to posts you bookmarked',
  'voted up': 'similar to posts you voted up',
  wrote: 'related to what you write about',
  follow: 'about topics you follow',
};

/**
 * The embeddings of each data source's posts. Registered once per process by the app context, so
 * the candidate functions keep their (manager, member) signature and need no new dependency.
 */
const registry = new WeakMap<object, PostEmbeddings>();

export function registerPostEmbeddings(db: DataSource, embeddings: PostEmbeddings): void {
  registry.set(db, embeddings);
}

export function postEmbeddings(m: EntityManager): PostEmbeddings | null {
  return registry.get(m.connection) ?? null;
}

interface WindowPost {
  id: number;
  author_id: number;
  published_at: Date;
}
const windows = new WeakMap<object, { at: number; value: Promise<WindowPost[]> }>();

/** The newest published posts, shared per process for a few seconds (a cheap index scan). */
function recentWindow(m: EntityManager): Promise<WindowPost[]> {
  const hit = windows.get(m.connection);
  if (hit && Date.now() - hit.at < WINDOW_TTL_MS) return hit.value;
  const value: Promise<WindowPost[]> = m.query(
    `SELECT p.id, p.author_id, p.first_published_at AS published_at FROM posts p
      WHERE ${VISIBLE} ORDER BY p.first_published_at DESC, p.id DESC LIMIT ${WINDOW}`,
  );
  windows.set(m.connection, { at: Date.now(), value });
  value.catch(() => windows.delete(m.connection));
  return value;
}

const windowVectorMaps = new WeakMap<WindowPost[], { version: string; vectors: Map<number, Float32Array> }>();

/**
 * The window's vectors, looked up once per window and model: every feed built meanwhile scores
 * the same 1,000 posts. Kept only once all of them are known, so a window that was missing some
 * (the encoder was busy) is completed by the next request as before.
 */
async function windowVectors(m: EntityManager, emb: PostEmbeddings, recent: WindowPost[]): Promise<Map<number, Float32Array>> {
  const version = emb.version;
  const hit = windowVectorMaps.get(recent);
  if (hit && hit.version === version) return hit.vectors;
  const vectors = await emb.vectors(m, recent.map((r) => r.id));
  if (version && vectors.size === recent.length && emb.version === version) windowVectorMaps.set(recent, { version, vectors });
  return vectors;
}

/** A newly published post must be a candidate at once, not after the window's few seconds. */
export function invalidateRecentWindow(db: DataSource): void {
  windows.delete(db);
}

function addInto(acc: Float32Array, v: Float32Array, w: number): void {
  for (let i = 0; i < acc.length; i++) acc[i] += w * v[i];
}

/**
 * Unrolled by eight, still one sum in index order, so every score is bit for bit what a plain loop
 * gives; the loop's own overhead was about a third of a cold feed's 1,000 products of 320 floats.
 */
function dot(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let s = 0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    s += a[i] * b[i];
    s += a[i + 1] * b[i + 1];
    s += a[i + 2] * b[i + 2];
    s += a[i + 3] * b[i + 3];
    s += a[i + 4] * b[i + 4];
    s += a[i + 5] * b[i + 5];
    s += a[i + 6] * b[i + 6];
    s += a[i + 7] * b[i + 7];
  }
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

function unit(v: Float32Array): Float32Array | null {
  const n = Math.sqrt(dot(v, v));
  if (n === 0) return null;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/**
 * What the profile is built from: the member's state as the feed reads it in one statement
 * (`member-state.ts`), so this source adds no query of its own for it. Ids ascend with time, so
 * the last ones are the newest.
 */
export interface ContentSignals {
  bookmarked: number[];
  votedUp: number[];
  /** Thread roots of everything they bookmarked, voted up or wrote (answers count as their question). */
  items: number[];
  followedTags: number[];
}

const tagNames = new WeakMap<object, Map<number, string>>();

/** Tag names by id, cached per process (a tag keeps its name). */
async function namesOf(m: EntityManager, ids: number[]): Promise<string[]> {
  let names = tagNames.get(m.connection);
  if (!names) tagNames.set(m.connection, (names = new Map()));
  const missing = ids.filter((id) => !names!.has(id));
  if (missing.length) {
    const rows: Array<{ id: number; name: string }> = await m.query(`SELECT id, name FROM tags WHERE id = ANY($1)`, [missing]);
    for (const r of rows) names.set(r.id, r.name);
  }
  return ids.flatMap((id) => names!.get(id) ?? []);
}

interface Profile {
  all: Float32Array | null;
  kinds: Array<{ kind: Kind; v: Float32Array }>;
  own: Set<number>;
  /** Every vector it was built from was known (a missing one is embedded later). */
  complete: boolean;
}

/** Per kind of engagement, the normalised mean of its vectors; `all` is the weighted profile. */
async function profile(m: EntityManager, emb: PostEmbeddings, s: ContentSignals): Promise<Profile | null> {
  const bookmarked = s.bookmarked.slice(-SIGNALS);
  const voted = s.votedUp.slice(-SIGNALS);
  const liked = new Set([...s.bookmarked, ...s.votedUp]);
  const wrote = s.items.filter((id) => !liked.has(id)).slice(-SIGNALS);
  const postIds = [...new Set([...bookmarked, ...voted, ...wrote])];
  const names = s.followedTags.length ? await namesOf(m, s.followedTags.slice(-SIGNALS)) : [];
  const [vectors, tagVectors] = await Promise.all([
    emb.vectors(m, postIds),
    names.length ? emb.tagVectors(names) : new Map<string, Float32Array>(),
  ]);
  const byKind = new Map<Kind, Float32Array>();
  const add = (kind: Kind, v: Float32Array | undefined) => {
    if (!v) return;
    let acc = byKind.get(kind);
    if (!acc) byKind.set(kind, (acc = new Float32Array(v.length)));
    addInto(acc, v, 1);
  };
  for (const id of bookmarked) add('bookmarked', vectors.get(id));
  for (const id of voted) add('voted up', vectors.get(id));
  for (const id of wrote) add('wrote', vectors.get(id));
  for (const v of tagVectors.values()) add('follow', v);
  const kinds = [...byKind.entries()].flatMap(([kind, v]) => {
    const u = unit(v);
    return u ? [{ kind, v: u }] : [];
  });
  if (!kinds.length) return null;
  const all = new Float32Array(kinds[0].v.length);
  for (const { kind, v } of kinds) addInto(all, v, WEIGHT[kind]);
  return { all: unit(all), kinds, own: new Set(postIds), complete: vectors.size === postIds.length && tagVectors.size === new Set(names).size };
}

/**
 * A member's last scoring, kept for the same member state (a cached ranking catching up with new
 * posts passes the same state object, `feed.service.ts`): the profile, and the cosine of each
 * post of the window it scored, aligned with that window. A new window differs from the last by
 * the posts published or taken down since, so only posts not scored before cost a product; one
 * whose vector was not known yet (NaN) is tried again.
 */
interface Scoring {
  version: string;
  /** `PostEmbeddings.generation` when scored: a vector forgotten since (an edited post) voids the scores. */
  generation: number;
  profile: Profile;
  window: WindowPost[];
  scores: Float64Array;
  /** Index of the best kind of engagement per window post, worked out for kept posts only (−1: not yet). */
  kinds: Int8Array;
}
const scorings = new WeakMap<ContentSignals, Scoring>();
const windowIndexes = new WeakMap<WindowPost[], Map<number, number>>();

function indexOf(window: WindowPost[]): Map<number, number> {
  let index = windowIndexes.get(window);
  if (!index) windowIndexes.set(window, (index = new Map(window.map((r, i) => [r.id, i]))));
  return index;
}

/**
 * Recent posts close to the member's profile. Scores are cosines relative to the best match (the
 * scale every source uses: strength within the source), or to STRONG when even the best match is
 * weaker, so a member whose interests nothing recent matches is not handed a weak match at full
 * strength.
 */
export async function similarContent(m: EntityManager, signals: ContentSignals): Promise<Candidate[]> {
  const emb = postEmbeddings(m);
  const version = emb?.version;
  if (!emb || !version) return [];
  const last = scorings.get(signals);
  const generation = emb.generation;
  const reuse = last?.version === version && last.generation === generation ? last : undefined;
  const [p, recent] = await Promise.all([reuse ? reuse.profile : profile(m, emb, signals), recentWindow(m)]);
  if (!p?.all) return [];
  const all = p.all;
  const vectors = await windowVectors(m, emb, recent);
  const scores = new Float64Array(recent.length);
  const kinds = new Int8Array(recent.length).fill(-1);
  const before = reuse && reuse.window !== recent ? indexOf(reuse.window) : null;
  const scored: Array<{ i: number; score: number }> = [];
  for (let i = 0; i < recent.length; i++) {
    const id = recent[i].id;
    const j = reuse ? (before ? before.get(id) : i) : undefined;
    let score = j === undefined ? NaN : reuse!.scores[j];
    if (j !== undefined) kinds[i] = reuse!.kinds[j];
    if (Number.isNaN(score)) {
      const v = vectors.get(id);
      score = v && !p.own.has(id) ? dot(all, v) : v ? -Infinity : NaN;
    }
    scores[i] = score;
    if (score >= SIMILARITY_FLOOR) scored.push({ i, score });
  }
  if (p.complete && emb.version === version) scorings.set(signals, { version, generation, profile: p, window: recent, scores, kinds });
  const top = scored.sort((a, b) => b.score - a.score || a.i - b.i).slice(0, LIMIT);
  const scale = Math.max(top[0]?.score ?? 0, STRONG);
  // The reason is worked out only for the posts kept: one dot product per kind of engagement.
  return top.map(({ i, score }) => {
    const r = recent[i];
    if (kinds[i] < 0) {
      const v = vectors.get(r.id)!;
      let bestScore = -Infinity;
      for (let k = 0; k < p.kinds.length; k++) {
        const s = dot(p.kinds[k].v, v) * WEIGHT[p.kinds[k].kind];
        if (s > bestScore) [kinds[i], bestScore] = [k, s];
      }
    }
    return { postId: r.id, authorId: r.author_id, source: 'CONTENT', score: score / scale, reason: REASON[p.kinds[kinds[i]].kind], tags: [], publishedAt: new Date(r.published_at) };
  });
}

/** Posts whose text is closest to this one's, among the recent window: [{ postId, score }], best first. */
export async function relatedByContent(m: EntityManager, postId: number, k: number): Promise<Array<{ postId: number; score: number }>> {
  const emb = postEmbeddings(m);
  if (!emb?.version) return [];
  const [self, recent] = await Promise.all([emb.vectors(m, [postId]), recentWindow(m)]);
  const v = self.get(postId);
  if (!v) return [];
  const vectors = await windowVectors(m, emb, recent);
  const out: Array<{ postId: number; score: number }> = [];
  for (const r of recent) {
    const u = vectors.get(r.id);
    if (!u || r.id === postId) continue;
    const score = dot(v, u);
    if (score >= SIMILARITY_FLOOR) out.push({ postId: r.id, score });
  }
  return out.sort((a, b) => b.score - a.score).slice(0, k);
}

const EMBED_BATCH = 64;
const MAX_QUEUED = 10_000;

/**
 * Embeds the recent window once the encoder is up, then each post as it is published, in the
 * process that hears of it, and drops the window so the next feed sees the post (and, after a
 * moderation decision that hides one, no longer does). With Redis every process hears every
 * post; the write is idempotent.
 */
export function watchPublishedPosts(pubSub: AppPubSub, db: DataSource, emb: PostEmbeddings): void {
  void recentWindow(db.manager).then((posts) => emb.warm(db.manager, posts.map((p) => p.id)), () => undefined);
  // Embedding waits on the pool; the subscription loop must not, or a busy community would leave
  // it behind until the pub/sub ends it (`shared/pubsub.ts`), so posts are queued here and
  // embedded in batches beside the loop.
  const queued = new Set<number>();
  let embedding = false;
  const drain = async () => {
    embedding = true;
    try {
      while (queued.size) {
        const ids = [...queued].slice(0, EMBED_BATCH);
        for (const id of ids) queued.delete(id);
        await emb.warm(db.manager, ids).catch(() => undefined); // a post left out is embedded when first needed
      }
    } finally {
      embedding = false;
    }
  };
  const enqueue = (postId: number) => {
    if (queued.size < MAX_QUEUED) queued.add(postId);
    if (!embedding) void drain();
  };
  void (async () => {
    for await (const p of pubSub.subscribe(TOPIC.POST_ADDED)) {
      invalidateRecentWindow(db);
      enqueue(p.postId);
    }
  })();
  void (async () => {
    for await (const r of pubSub.subscribe(TOPIC.VERDICT)) {
      if (r.firstPublication) continue; // its POST_ADDED follows
      if (r.previousStatus !== r.newStatus && (r.previousStatus === 'PUBLISHED' || r.newStatus === 'PUBLISHED')) invalidateRecentWindow(db);
      // Shown again after review (an edited post comes back this way): embedded ahead of the feeds.
      if (r.newStatus === 'PUBLISHED' && r.previousStatus !== 'PUBLISHED') enqueue(r.subjectId);
    }
  })();
  void (async () => {
    // Deleted or back in review (every edit is judged again): out of the window at once, and its
    // vector forgotten, so an edited post is ranked by its new text when it is shown again.
    for await (const c of pubSub.subscribe(TOPIC.POST_CHANGED)) {
      if (c.visible) continue;
      invalidateRecentWindow(db);
      void emb.forget(db.manager, c.postId).catch(() => undefined); // a stale vector only costs ranking quality
    }
  })();
}

/**
 * Related posts: the tag and co-interaction scores (`scored`, best first) plus the cosine of each
 * post's text to this one's, so a post on the same subject ranks even with other tags and no
 * interactions yet. Without the encoder the list is returned as it came.
 */
export async function withSimilarText(
  m: EntityManager,
  postId: number,
  scored: Array<{ postId: number; score: number; reason: string }>,
  first: number,
): Promise<Array<{ postId: number; score: number; reason: string }>> {
  const similar = await relatedByContent(m, postId, first).catch(() => []);
  if (!similar.length) return scored;
  const byId = new Map(scored.map((s) => [s.postId, { ...s }]));
  for (const s of similar) {
    const entry = byId.get(s.postId);
    if (!entry) byId.set(s.postId, { postId: s.postId, score: s.score, reason: 'on a similar subject' });
    else {
      if (s.score > entry.score) entry.reason = 'on a similar subject';
      entry.score += s.score;
    }
  }
  return [...byId.values()].sort((a, b) => b.score - a.score || b.postId - a.postId).slice(0, first);
}

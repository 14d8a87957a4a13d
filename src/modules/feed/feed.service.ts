import type { EntityManager } from 'typeorm';
import type { UnitOfWork } from '../../shared/db/unit-of-work';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import { badInput, forbidden, notFound, unauthenticated } from '../../shared/errors';
import { checkPageArgs, encodeCursor, type Page, type PageArgs } from '../../shared/pagination';
import type { Viewer } from '../users/user.service';
import * as candidates from './candidates';
import { type MemberFeed, type MemberParts, cachedFeed, cachedScores, changesSince, contentEpoch, isBehind, noteCaughtUp, noteRefilter, storeFeed, storeScores, waitsForNewPosts } from './member-cache';
import { type MemberState, memberState, memberVersion, negativeSignals } from './member-state';
import { queryPrepared } from '../../shared/db/prepared';
import { intArrayLiteral, textArrayLiteral } from '../../shared/db/array-literal';
import type { RecommenderStore } from './recommender-store';
import { withSimilarText } from './content-candidates';
import { type Candidate, type Negative, type Ranked, applyRules, diversify, mergeCandidates, mixFresh } from './rank';

export type FeedMode = 'FOR_YOU' | 'FOLLOWING' | 'LATEST' | 'HOT';
export const DISMISS_REASONS = ['NOT_INTERESTED', 'SEEN_TOO_OFTEN', 'OFF_TOPIC', 'LOW_QUALITY'] as const;
export type DismissReason = (typeof DISMISS_REASONS)[number];

/** A ranked feed entry before hydration: the post id, why it is there, and its place. */
export interface FeedEntry {
  postId: number;
  reason: string;
  rank: number;
}

/** How many ranked items one snapshot keeps (pages past it end the feed). */
const SNAPSHOT_SIZE = 500;
/** Snapshots older than this are deleted; a cursor into one gets a clear error. */
const SNAPSHOT_TTL_HOURS = 6;
/** Expired snapshots are swept at most this often per process, not on every feed load. */
const SNAPSHOT_CLEANUP_EVERY_MS = 60_000;
let lastSnapshotCleanup = 0;

function decode(cursor: string): unknown[] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v)) return v;
  } catch {
    // fall through
  }
  throw badInput(`"${cursor}" is not a feed cursor`, 'after');
}

export class FeedService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly pubSub: AppPubSub,
    private readonly recommender: RecommenderStore | null,
    /** How long a cached ranking may leave new posts out (`Config.feed.catchUpMs`). */
    private readonly catchUpMs = 0,
  ) {}

  private get m(): EntityManager {
    return this.uow.manager;
  }

  async feed(mode: FeedMode, page: PageArgs, viewer: Viewer | null): Promise<Page<FeedEntry>> {
    if (page.last != null || page.before != null) throw badInput('Feeds page forward only: use `first` and `after`', 'last');
    const { size } = checkPageArgs(page);
    if (mode === 'FOLLOWING') {
      if (!viewer) throw unauthenticated('Log in to see the people and tags you follow');
      return this.chronological(size, page.after ?? null, viewer, true);
    }
    if (mode === 'LATEST') return this.chronological(size, page.after ?? null, viewer, false);
    if (page.after) return this.fromSnapshot(page.after, size, mode, viewer);
    if (mode === 'HOT') {
      const ranked = (await this.hotList(viewer)).slice(0, SNAPSHOT_SIZE);
      const id = await this.writeSnapshot(ranked, mode, viewer);
      return this.slice(id, ranked.map((r) => r.postId), ranked.map((r) => r.reason), 0, size);
    }
    return this.firstForYouPage(await this.forYou(viewer), size, viewer);
  }

  /** Newest first by the time posts became visible, so a post approved late is not buried in the past. */
  private async chronological(size: number, after: string | null, viewer: Viewer | null, following: boolean): Promise<Page<FeedEntry>> {
    const params: unknown[] = [size + 1];
    let where = `p.deleted_at IS NULL AND p.status = 'PUBLISHED' AND p.parent_id IS NULL`;
    if (after) {
      const [at, id] = decode(after);
      if (typeof at !== 'string' || typeof id !== 'number') throw badInput('That cursor belongs to another feed', 'after');
      params.push(at, id);
      where += ` AND (p.first_published_at, p.id) < ($2::timestamptz, $3::int)`;
    }
    if (following && viewer) {
      params.push(viewer.id);
      const v = `$${params.length}`;
      where += ` AND (p.author_id IN (SELECT followee_id FROM user_follows WHERE follower_id = ${v})
                  OR EXISTS (SELECT 1 FROM post_tags pt JOIN tag_follows tf ON tf.tag_id = pt.tag_id WHERE pt.post_id = p.id AND tf.user_id = ${v}))`;
    }
    const rows: Array<{ id: number; at: Date; handle: string; followed_author: boolean; tag: string | null }> = await this.m.query(
      `SELECT p.id, p.first_published_at AS at, u.handle,
              ${following && viewer ? `p.author_id IN (SELECT followee_id FROM user_follows WHERE follower_id = $${params.length})` : 'false'} AS followed_author,
              (SELECT min(t.name) FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id) AS tag
         FROM posts p JOIN users u ON u.id = p.author_id WHERE ${where}
        ORDER BY p.first_published_at DESC, p.id DESC LIMIT $1`,
      params,
    );
    const nodes = rows.slice(0, size).map((r, i) => ({
      postId: r.id,
      rank: i + 1,
      reason: following ? (r.followed_author ? `because you follow @${r.handle}` : `because you follow #${r.tag}`) : r.tag ? `new in #${r.tag}` : 'new',
    }));
    return {
      nodes,
      cursors: rows.slice(0, size).map((r) => encodeCursor([new Date(r.at).toISOString(), r.id])),
      hasNextPage: rows.length > size,
      hasPreviousPage: Boolean(after),
    };
  }

  private async hotList(viewer: Viewer | null): Promise<Ranked[]> {
    const ranked = mergeCandidates(await candidates.hot(this.m, SNAPSHOT_SIZE), { tags: new Map(), authors: new Map() }, new Date());
    if (!viewer) return ranked;
    const dismissed: Array<{ post_id: number }> = await this.m.query(`SELECT post_id FROM feed_dismissals WHERE user_id = $1`, [viewer.id]);
    return applyRules(ranked, { viewerId: viewer.id, seen: new Set(), dismissed: new Set(dismissed.map((r) => r.post_id)) });
  }

  /**
   * The viewer's FOR_YOU ranking: candidates → rank → rules, or the cached one when nothing it
   * depends on has changed (`member-cache.ts`), caught up with content published or taken down
   * since. Anonymous and brand-new members (nothing followed or done yet) get hot posts with fresh
   * ones mixed in.
   */
  private async forYou(viewer: Viewer | null, catchUpMs = this.catchUpMs): Promise<MemberFeed> {
    const scope = this.m.connection;
    const epoch = contentEpoch(scope);
    if (!viewer) {
      const key = String(epoch);
      const hit = cachedFeed(scope, null, key);
      if (hit) return hit;
      const merged = await this.hotAndFresh({ tags: new Map(), authors: new Map() });
      const feed: MemberFeed = { key, epoch, builtAt: Date.now(), mergedAt: Date.now(), jitter: Math.random(), parts: null, merged, seenKey: null, filter: null, ranked: diversify(merged), snapshotId: null };
      storeFeed(scope, null, feed);
      return feed;
    }
    const version = await memberVersion(this.m, viewer.id);
    const key = `${this.recommender?.version ?? ''}:${version.sources}`;
    let feed = cachedFeed(scope, viewer.id, key);
    if (feed && isBehind(feed, epoch)) feed = await this.caughtUp(viewer.id, feed, epoch, catchUpMs);
    let state: MemberState | null = null;
    if (!feed) {
      state = await memberState(this.m, viewer.id);
      const { merged, parts } = await this.merged(viewer.id, state);
      feed = { key, epoch, builtAt: Date.now(), mergedAt: Date.now(), jitter: Math.random(), parts, merged, seenKey: null, filter: null, ranked: [], snapshotId: null };
      storeFeed(scope, viewer.id, feed);
    } else if (feed.seenKey !== version.seen) noteRefilter(scope);
    if (feed.seenKey !== version.seen) {
      state ??= await memberState(this.m, viewer.id);
      feed.filter = { seen: new Set(state.seen), dismissed: new Set(state.dismissed) };
      feed.ranked = diversify(applyRules(feed.merged, { viewerId: viewer.id, ...feed.filter }));
      feed.seenKey = version.seen;
      feed.snapshotId = null;
    }
    return feed;
  }

  /**
   * A cached ranking brought up to the content epoch (and to the clock, for hot scores and
   * freshness) without the member's own queries: posts taken down leave the member's lists, and
   * the sources over shared lists (followed tags, content, hot, fresh), which publishing
   * refreshed, are computed again and merged. A change the member's lists would have to grow by (a
   * post shown by someone they follow, or one the recommender named coming back) rebuilds from
   * scratch, as does a change the log no longer holds. A new entry replaces the old one, so a
   * request still reading the old one is not disturbed.
   *
   * Other new posts wait up to `catchUpMs` (`waitsForNewPosts`): in a busy community every post
   * leaves every member's ranking behind, and catching up on each one cost a re-merge and a new
   * snapshot per member and post (`bench/feed.ts`). Taking new posts in every few seconds is what
   * the anonymous feed already does; what was taken down never waits.
   */
  private async caughtUp(viewerId: number, feed: MemberFeed, epoch: number, catchUpMs: number): Promise<MemberFeed | null> {
    const scope = this.m.connection;
    const changes = changesSince(scope, feed.epoch);
    const parts = feed.parts;
    if (!changes || !parts) return null;
    const removed = new Set<number>();
    for (const c of changes) {
      if (c.kind === 'removed') removed.add(c.postId);
      else if (c.kind === 'shown' && ((c.topLevel && parts.state.followees.includes(c.authorId)) || parts.recommended.has(c.postId))) return null;
    }
    if (!removed.size && waitsForNewPosts(feed, catchUpMs)) return feed;
    const visible = (c: { postId: number }) => !removed.has(c.postId);
    const next: MemberParts = { ...parts, followedUsers: parts.followedUsers.filter(visible), collaborative: parts.collaborative.filter(visible) };
    const merged = await this.mergeParts(next, await this.contentSources(parts.state));
    const caught: MemberFeed = { ...feed, epoch, mergedAt: Date.now(), jitter: Math.random(), parts: next, merged, ranked: [], snapshotId: null };
    if (feed.filter) caught.ranked = diversify(applyRules(merged, { viewerId, ...feed.filter }));
    else caught.seenKey = null;
    storeFeed(scope, viewerId, caught);
    noteCaughtUp(scope);
    return caught;
  }

  private async hotAndFresh(negative: Negative): Promise<Ranked[]> {
    const now = new Date();
    const [hotOnes, freshOnes] = await Promise.all([
      candidates.sharedList(this.m, 'hot', () => candidates.hot(this.m)), candidates.sharedList(this.m, 'fresh', () => candidates.fresh(this.m)),
    ]);
    return mixFresh(mergeCandidates(hotOnes, negative, now), mergeCandidates(freshOnes, negative, now));
  }

  /** Every source merged into one score per post; a source with nothing to start from costs no query. */
  private async merged(viewerId: number, state: MemberState): Promise<{ merged: Ranked[]; parts: MemberParts }> {
    const none: Candidate[] = [];
    const [followedUsers, { collaborative, recommended }, negative, content] = await Promise.all([
      state.followees.length ? candidates.followedUsers(this.m, viewerId) : none,
      this.collaborative(viewerId, state.items),
      negativeSignals(this.m, viewerId, state.dismissed),
      this.contentSources(state),
    ]);
    const parts: MemberParts = { state, followedUsers, collaborative, recommended, negative };
    return { merged: await this.mergeParts(parts, content), parts };
  }

  /**
   * The sources that follow published content, computed in memory over lists the process shares
   * (per-tag lists, the recent window with its vectors, hot and fresh), which publishing refreshes.
   */
  private async contentSources(state: MemberState): Promise<Candidate[][]> {
    return Promise.all([
      candidates.followedTags(this.m, state),
      candidates.contentAffinity(this.m, state),
      candidates.sharedList(this.m, 'hot', () => candidates.hot(this.m)),
      candidates.sharedList(this.m, 'fresh', () => candidates.fresh(this.m)),
    ]);
  }

  private async mergeParts(parts: MemberParts, [followedTags, content, hotOnes, freshOnes]: Candidate[][]): Promise<Ranked[]> {
    const { followedUsers, collaborative, negative } = parts;
    if (!followedUsers.length && !followedTags.length && !content.length && !collaborative.length) return this.hotAndFresh(negative);
    let all = [...followedUsers, ...followedTags, ...content, ...collaborative, ...hotOnes, ...freshOnes];
    if (negative.tags.size) all = await candidates.withTags(this.m, all);
    return mergeCandidates(all, negative, new Date());
  }

  /** GF-CF in the inference pool, folded in from the member's current items. */
  private async collaborative(viewerId: number, items: number[]): Promise<{ collaborative: Candidate[]; recommended: Set<number> }> {
    const version = this.recommender?.version;
    if (!this.recommender || !version || !items.length) return { collaborative: [], recommended: new Set() };
    const key = `${version}:${items.join(',')}`;
    let scored = cachedScores(this.m.connection, viewerId, key);
    if (!scored) {
      scored = await this.recommender.recommend(items, 200);
      if (scored.length) storeScores(this.m.connection, viewerId, key, scored);
    }
    const collaborative = await candidates.describe(this.m, scored, 'COLLABORATIVE', 'liked by members with interests like yours');
    return { collaborative, recommended: new Set(scored.map((s) => s.postId)) };
  }

  /** Page one writes a snapshot for later pages, unless the same ranking already has one. */
  private async firstForYouPage(feed: MemberFeed, size: number, viewer: Viewer | null): Promise<Page<FeedEntry>> {
    const ranked = feed.ranked;
    const kept = ranked.length > SNAPSHOT_SIZE ? ranked.slice(0, SNAPSHOT_SIZE) : ranked;
    let id = feed.snapshotId;
    if (!id) {
      id = await this.writeSnapshot(kept, 'FOR_YOU', viewer);
      // A concurrent request may have re-filtered the entry meanwhile; the id belongs to this list.
      if (feed.ranked === ranked) feed.snapshotId = id;
    }
    const head = kept.slice(0, size);
    return this.slice(id, head.map((r) => r.postId), head.map((r) => r.reason), 0, size, kept.length);
  }

  private async writeSnapshot(kept: Ranked[], mode: FeedMode, viewer: Viewer | null): Promise<string> {
    if (Date.now() - lastSnapshotCleanup > SNAPSHOT_CLEANUP_EVERY_MS) {
      lastSnapshotCleanup = Date.now();
      await this.m.query(`DELETE FROM feed_snapshots WHERE created_at < now() - make_interval(hours => ${SNAPSHOT_TTL_HOURS})`);
    }
    const [{ id }] = await queryPrepared<Array<{ id: string }>>(this.m, 'feed_snapshot_insert',
      `INSERT INTO feed_snapshots (user_id, mode, post_ids, reasons) VALUES ($1, $2, $3, $4) RETURNING id::text AS id`,
      [viewer?.id ?? null, mode, intArrayLiteral(kept.map((r) => r.postId)), textArrayLiteral(kept.map((r) => r.reason))],
    );
    return id;
  }

  private async fromSnapshot(after: string, size: number, mode: FeedMode, viewer: Viewer | null): Promise<Page<FeedEntry>> {
    const [id, offset] = decode(after);
    if (typeof id !== 'string' || typeof offset !== 'number') throw badInput('That cursor belongs to another feed', 'after');
    const [snap] = await queryPrepared<Array<{ user_id: number | null; mode: string; post_ids: number[]; reasons: string[] }>>(this.m, 'feed_snapshot_read',
      `SELECT user_id, mode, post_ids, reasons FROM feed_snapshots WHERE id = $1`, [id]);
    if (!snap) throw badInput('That feed cursor has expired; load the feed again from the top', 'after');
    if (snap.mode !== mode) throw badInput('That cursor belongs to another feed', 'after');
    if ((snap.user_id ?? null) !== (viewer?.id ?? null)) throw forbidden('That cursor belongs to another member');
    return this.slice(id, snap.post_ids, snap.reasons, offset, size);
  }

  /** `total` is the snapshot's length when only its head was passed in. */
  private slice(id: string, postIds: number[], reasons: string[], offset: number, size: number, total = postIds.length): Page<FeedEntry> {
    const end = Math.min(postIds.length, offset + size);
    const nodes: FeedEntry[] = [];
    const cursors: string[] = [];
    for (let i = offset; i < end; i++) {
      nodes.push({ postId: postIds[i], reason: reasons[i], rank: i + 1 });
      cursors.push(encodeCursor([id, i + 1]));
    }
    return { nodes, cursors, hasNextPage: end < total, hasPreviousPage: offset > 0 };
  }

  async markSeen(postIds: number[], viewer: Viewer | null): Promise<number> {
    if (!viewer) throw unauthenticated();
    if (postIds.length > 100) throw badInput('At most 100 posts at a time', 'postIds');
    const rows = await this.m.query(
      `INSERT INTO feed_seen (user_id, post_id) SELECT $1, id FROM posts WHERE id = ANY($2) ON CONFLICT DO NOTHING RETURNING post_id`,
      [viewer.id, postIds],
    );
    return rows.length;
  }

  async dismiss(postId: number, reason: DismissReason, viewer: Viewer | null): Promise<void> {
    if (!viewer) throw unauthenticated();
    if (!DISMISS_REASONS.includes(reason)) throw badInput(`Unknown reason ${reason}`, 'reason');
    const [post] = await this.m.query(`SELECT 1 FROM posts WHERE id = $1 AND deleted_at IS NULL`, [postId]);
    if (!post) throw notFound('Post');
    await this.m.query(
      `INSERT INTO feed_dismissals (user_id, post_id, reason) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, post_id) DO UPDATE SET reason = EXCLUDED.reason`,
      [viewer.id, postId, reason],
    );
    this.uow.afterCommit(() => this.pubSub.publish(TOPIC.FEED_SIGNAL, { userId: viewer.id }));
  }

  /** The top of the viewer's FOR_YOU feed as it ranks now (feedUpdates compares successive tops). */
  async top(viewer: Viewer, n: number): Promise<FeedEntry[]> {
    // Live updates exist to tell of new posts, so they never wait for the catch-up interval.
    return (await this.forYou(viewer, 0)).ranked.slice(0, n).map((r, i) => ({ postId: r.postId, reason: r.reason, rank: i + 1 }));
  }

  /**
   * Posts like this one: shared tags weighted by rarity (a shared niche tag says more than a shared
   * popular one), plus posts that the same members bookmarked or voted up, plus text similarity
   * where the encoder runs (`content-candidates.ts`).
   */
  async related(postId: number, first: number): Promise<FeedEntry[]> {
    if (!Number.isInteger(first) || first < 1 || first > 50) throw badInput('`first` must be between 1 and 50', 'first');
    const rows: Array<{ id: number; score: number; tag: string | null; co: number }> = await this.m.query(
      `WITH tagged AS (
          SELECT pt2.post_id AS id, sum(1 / ln(2 + t.post_count)) AS score, min(t.name) AS tag
            FROM post_tags pt JOIN post_tags pt2 ON pt2.tag_id = pt.tag_id AND pt2.post_id <> pt.post_id JOIN tags t ON t.id = pt.tag_id
           WHERE pt.post_id = $1 GROUP BY pt2.post_id),
        fans AS (SELECT user_id FROM bookmarks WHERE post_id = $1 UNION SELECT user_id FROM votes WHERE post_id = $1 AND value = 1),
        co AS (
          SELECT x.post_id AS id, count(DISTINCT x.user_id) AS n FROM (
            SELECT user_id, post_id FROM bookmarks UNION ALL SELECT user_id, post_id FROM votes WHERE value = 1) x
           JOIN fans f ON f.user_id = x.user_id WHERE x.post_id <> $1 GROUP BY x.post_id)
       SELECT p.id, coalesce(tagged.score, 0) + 0.5 * ln(1 + coalesce(co.n, 0)) AS score, tagged.tag, coalesce(co.n, 0)::int AS co
         FROM posts p LEFT JOIN tagged ON tagged.id = p.id LEFT JOIN co ON co.id = p.id
        WHERE (tagged.id IS NOT NULL OR co.id IS NOT NULL)
          AND p.deleted_at IS NULL AND p.status = 'PUBLISHED' AND p.parent_id IS NULL
        ORDER BY score DESC, p.id DESC LIMIT $2`,
      [postId, first],
    );
    const scored = rows.map((r) => ({
      postId: r.id,
      score: Number(r.score),
      reason: r.co > 0 && (!r.tag || r.co >= 2) ? 'members who liked this also liked it' : `also about #${r.tag}`,
    }));
    return (await withSimilarText(this.m, postId, scored, first)).map((r, i) => ({ postId: r.postId, reason: r.reason, rank: i + 1 }));
  }
}

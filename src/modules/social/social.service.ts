import type { EntityManager } from 'typeorm';
import type { UnitOfWork } from '../../shared/db/unit-of-work';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import { badInput, forbidden, notFound, unauthenticated } from '../../shared/errors';
import { hotRank, wilsonLowerBound } from '../posts/ranking';
import type { Viewer } from '../users/user.service';

export type VoteValue = 'UP' | 'DOWN' | 'CLEAR';
const VOTE_NUMBER: Record<VoteValue, number> = { UP: 1, DOWN: -1, CLEAR: 0 };
/** Stack Exchange's reputation for a received up/down vote. */
const REPUTATION: Record<number, number> = { 1: 10, [-1]: -2, 0: 0 };

/**
 * Votes, bookmarks and follows: each is a pair row plus counters moved in the same transaction.
 * DELETE … RETURNING sits inside a CTE because TypeORM returns `[rows, count]` for a bare one.
 */
export class SocialService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly pubSub: AppPubSub,
  ) {}

  private get db(): EntityManager {
    return this.uow.manager;
  }

  /** The member's feed may rank differently now; feedUpdates subscribers re-rank (coalesced). */
  private signal(userId: number): void {
    this.uow.afterCommit(() => this.pubSub.publish(TOPIC.FEED_SIGNAL, { userId }));
  }

  async vote(postId: number, value: VoteValue, viewer: Viewer | null): Promise<void> {
    if (!viewer) throw unauthenticated();
    const next = VOTE_NUMBER[value];
    const [post]: Array<{ author_id: number; up_votes: number; down_votes: number; created_at: Date }> =
      await this.db.query(
        `SELECT author_id, up_votes, down_votes, created_at FROM posts
          WHERE id = $1 AND deleted_at IS NULL AND status = 'PUBLISHED' FOR UPDATE`,
        [postId],
      );
    if (!post) throw notFound('Post');
    if (post.author_id === viewer.id) throw forbidden('You cannot vote on your own post');
    const [existing]: Array<{ value: number }> = await this.db.query(
      `SELECT value FROM votes WHERE user_id = $1 AND post_id = $2`, [viewer.id, postId]);
    const prev = existing?.value ?? 0;
    if (prev === next) return;

    if (next === 0) await this.db.query(`DELETE FROM votes WHERE user_id = $1 AND post_id = $2`, [viewer.id, postId]);
    else {
      await this.db.query(
        `INSERT INTO votes (user_id, post_id, value) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, post_id) DO UPDATE SET value = EXCLUDED.value, created_at = now()`,
        [viewer.id, postId, next],
      );
    }
    const up = post.up_votes + (next === 1 ? 1 : 0) - (prev === 1 ? 1 : 0);
    const down = post.down_votes + (next === -1 ? 1 : 0) - (prev === -1 ? 1 : 0);
    await this.db.query(
      `UPDATE posts SET up_votes = $2, down_votes = $3, score = $4, hot = $5, wilson = $6 WHERE id = $1`,
      [postId, up, down, up - down, hotRank(up - down, post.created_at), wilsonLowerBound(up, down)],
    );
    await this.db.query(`UPDATE users SET reputation = reputation + $2 WHERE id = $1`, [
      post.author_id, REPUTATION[next] - REPUTATION[prev],
    ]);
    this.signal(viewer.id);
  }

  /**
   * Adds or removes one pair row; true when that changed anything, so counters move only on a real
   * change and repeating a call is harmless. Table and column names are ours, never input.
   */
  private async togglePair(table: string, [a, b]: [string, string], values: [number, number], on: boolean): Promise<boolean> {
    const changed: unknown[] = on
      ? await this.db.query(`INSERT INTO ${table} (${a}, ${b}) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`, values)
      : await this.db.query(`WITH d AS (DELETE FROM ${table} WHERE ${a} = $1 AND ${b} = $2 RETURNING 1) SELECT * FROM d`, values);
    return changed.length > 0;
  }

  async bookmark(postId: number, on: boolean, viewer: Viewer | null): Promise<void> {
    if (!viewer) throw unauthenticated();
    const [post] = await this.db.query(`SELECT 1 FROM posts WHERE id = $1 AND deleted_at IS NULL`, [postId]);
    if (!post) throw notFound('Post');
    if (await this.togglePair('bookmarks', ['user_id', 'post_id'], [viewer.id, postId], on)) {
      await this.db.query(`UPDATE posts SET bookmark_count = bookmark_count + $2 WHERE id = $1`, [postId, on ? 1 : -1]);
      this.signal(viewer.id);
    }
  }

  async followUser(userId: number, on: boolean, viewer: Viewer | null): Promise<void> {
    if (!viewer) throw unauthenticated();
    if (userId === viewer.id) throw badInput('You cannot follow yourself', 'id');
    const [user] = await this.db.query(`SELECT 1 FROM users WHERE id = $1`, [userId]);
    if (!user) throw notFound('User');
    if (await this.togglePair('user_follows', ['follower_id', 'followee_id'], [viewer.id, userId], on)) {
      const d = on ? 1 : -1;
      await this.db.query(`UPDATE users SET follower_count = follower_count + $2 WHERE id = $1`, [userId, d]);
      await this.db.query(`UPDATE users SET following_count = following_count + $2 WHERE id = $1`, [viewer.id, d]);
      this.signal(viewer.id);
    }
  }

  async followTag(tagId: number, on: boolean, viewer: Viewer | null): Promise<void> {
    if (!viewer) throw unauthenticated();
    const [tag] = await this.db.query(`SELECT 1 FROM tags WHERE id = $1`, [tagId]);
    if (!tag) throw notFound('Tag');
    if (await this.togglePair('tag_follows', ['user_id', 'tag_id'], [viewer.id, tagId], on)) {
      await this.db.query(`UPDATE tags SET follower_count = follower_count + $2 WHERE id = $1`, [tagId, on ? 1 : -1]);
      this.signal(viewer.id);
    }
  }

  /** The viewer's own vote on each post (DataLoader batch): post id → +1 / -1. */
  async votesOf(userId: number, postIds: readonly number[]): Promise<Map<number, number>> {
    const rows: Array<{ post_id: number; value: number }> = await this.db.query(
      `SELECT post_id, value FROM votes WHERE user_id = $1 AND post_id = ANY($2)`, [userId, postIds]);
    return new Map(rows.map((r) => [r.post_id, r.value]));
  }

  async bookmarkedBy(userId: number, postIds: readonly number[]): Promise<Set<number>> {
    const rows: Array<{ post_id: number }> = await this.db.query(
      `SELECT post_id FROM bookmarks WHERE user_id = $1 AND post_id = ANY($2)`, [userId, postIds]);
    return new Set(rows.map((r) => r.post_id));
  }

  async followedUsers(userId: number, ids: readonly number[]): Promise<Set<number>> {
    const rows: Array<{ followee_id: number }> = await this.db.query(
      `SELECT followee_id FROM user_follows WHERE follower_id = $1 AND followee_id = ANY($2)`, [userId, ids]);
    return new Set(rows.map((r) => r.followee_id));
  }

  async followedTags(userId: number, ids: readonly number[]): Promise<Set<number>> {
    const rows: Array<{ tag_id: number }> = await this.db.query(
      `SELECT tag_id FROM tag_follows WHERE user_id = $1 AND tag_id = ANY($2)`, [userId, ids]);
    return new Set(rows.map((r) => r.tag_id));
  }
}

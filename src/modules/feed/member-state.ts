import type { EntityManager } from 'typeorm';
import { queryPrepared } from '../../shared/db/prepared';
import type { Negative } from './rank';

/**
 * Everything about one member that their FOR_YOU feed depends on, read in one statement: what they
 * follow, what they bookmarked, voted up and wrote (the recommender's items: thread roots), what
 * they have seen and dismissed.
 */
export interface MemberState {
  userId: number;
  followees: number[];
  followedTags: number[];
  bookmarked: number[];
  votedUp: number[];
  wrote: number[];
  /** Thread roots of what they bookmarked, voted up or wrote, published: the recommender's input. */
  items: number[];
  /** Tag ids of what they bookmarked, voted up and wrote (the thread's), once per post: content affinity. */
  bookmarkTags: number[];
  voteTags: number[];
  wroteTags: number[];
  seen: number[];
  dismissed: number[];
}

/**
 * The version of the member's state, read on every FOR_YOU request to key their cached feed
 * (`member-cache.ts`): counters that triggers move in the same transaction as any change to what
 * the member follows, bookmarked, voted, wrote, dismissed or saw (migration
 * `MemberFeedVersions`). Because they live in the database, a vote or a follow made through any
 * server process moves them, and the very next feed request ranks afresh; status changes of
 * posts are content events and move the content epoch instead.
 */
export interface MemberVersion {
  /** What the candidate sources and the merge read (all but seen posts). */
  sources: string;
  /** Seen posts: marking posts seen only filters the merged list again. */
  seen: string;
}

export async function memberVersion(m: EntityManager, userId: number): Promise<MemberVersion> {
  const [row] = await queryPrepared<MemberVersion[]>(m, 'feed_member_version',
    `SELECT sources::text AS sources, seen::text AS seen FROM member_feed_versions WHERE user_id = $1`, [userId]);
  // No row yet: the member has changed nothing since the counters were introduced.
  return row ?? { sources: '0', seen: '0' };
}

export async function memberState(m: EntityManager, userId: number): Promise<MemberState> {
  type Row = Record<'followees' | 'tags' | 'bookmarked' | 'voted' | 'wrote' | 'items' | 'bookmark_tags' | 'vote_tags' | 'wrote_tags' | 'seen' | 'dismissed', number[]>;
  const [row] = await queryPrepared<Row[]>(m, 'feed_member_state',
    `WITH RECURSIVE mine AS (
        SELECT post_id AS id FROM bookmarks WHERE user_id = $1
        UNION SELECT post_id FROM votes WHERE user_id = $1 AND value = 1
        UNION SELECT id FROM posts WHERE author_id = $1 AND deleted_at IS NULL),
      up AS (SELECT p.id, p.parent_id FROM posts p JOIN mine ON mine.id = p.id
        UNION SELECT p.id, p.parent_id FROM posts p JOIN up ON p.id = up.parent_id)
     SELECT ARRAY(SELECT followee_id FROM user_follows WHERE follower_id = $1 ORDER BY 1) AS followees,
            ARRAY(SELECT tag_id FROM tag_follows WHERE user_id = $1 ORDER BY 1) AS tags,
            ARRAY(SELECT post_id FROM bookmarks WHERE user_id = $1 ORDER BY 1) AS bookmarked,
            ARRAY(SELECT post_id FROM votes WHERE user_id = $1 AND value = 1 ORDER BY 1) AS voted,
            ARRAY(SELECT id FROM posts WHERE author_id = $1 AND deleted_at IS NULL ORDER BY 1) AS wrote,
            ARRAY(SELECT DISTINCT up.id FROM up JOIN posts i ON i.id = up.id
                   WHERE up.parent_id IS NULL AND i.deleted_at IS NULL AND i.status = 'PUBLISHED' ORDER BY 1) AS items,
            ARRAY(SELECT pt.tag_id FROM bookmarks b JOIN post_tags pt ON pt.post_id = b.post_id WHERE b.user_id = $1 ORDER BY 1) AS bookmark_tags,
            ARRAY(SELECT pt.tag_id FROM votes v JOIN post_tags pt ON pt.post_id = v.post_id WHERE v.user_id = $1 AND v.value = 1 ORDER BY 1) AS vote_tags,
            ARRAY(SELECT pt.tag_id FROM posts o JOIN post_tags pt ON pt.post_id = coalesce(o.parent_id, o.id) WHERE o.author_id = $1 ORDER BY 1) AS wrote_tags,
            ARRAY(SELECT post_id FROM feed_seen WHERE user_id = $1 ORDER BY 1) AS seen,
            ARRAY(SELECT post_id FROM feed_dismissals WHERE user_id = $1 ORDER BY 1) AS dismissed`,
    [userId],
  );
  const { followees, tags, bookmarked, voted, wrote, items, seen, dismissed } = row;
  const [bookmarkTags, voteTags, wroteTags] = [row.bookmark_tags, row.vote_tags, row.wrote_tags];
  return {
    userId, followees, followedTags: tags, bookmarked, votedUp: voted, wrote, items, bookmarkTags, voteTags, wroteTags, seen, dismissed,
  };
}

/** "Show less like this": how often each tag and author appears among the member's dismissals. */
export async function negativeSignals(m: EntityManager, userId: number, dismissed: number[]): Promise<Negative> {
  const negative: Negative = { tags: new Map(), authors: new Map() };
  if (!dismissed.length) return negative;
  const rows = await queryPrepared<Array<{ tag: string | null; author_id: number | null; n: number }>>(m, 'feed_negative_signals',
    `SELECT t.name AS tag, NULL::int AS author_id, count(*)::int AS n
       FROM feed_dismissals d JOIN post_tags pt ON pt.post_id = d.post_id JOIN tags t ON t.id = pt.tag_id WHERE d.user_id = $1 GROUP BY t.name
     UNION ALL
     SELECT NULL, p.author_id, count(*)::int FROM feed_dismissals d JOIN posts p ON p.id = d.post_id WHERE d.user_id = $1 GROUP BY p.author_id`,
    [userId],
  );
  for (const r of rows) {
    if (r.tag !== null) negative.tags.set(r.tag, r.n);
    else if (r.author_id !== null) negative.authors.set(r.author_id, r.n);
  }
  return negative;
}

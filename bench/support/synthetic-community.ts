import type { DataSource } from 'typeorm';
import { hotRank } from '../../src/modules/posts/ranking';

/**
 * A large synthetic community generated in SQL (seconds, not minutes): users, tags, published
 * posts spread over 30 days, tags per post, bookmarks, up votes and follows. Interests are
 * clustered — each user and post belongs to one of `communities` groups of tags — so the
 * collaborative signal has structure to find. Deterministic via setseed.
 */
export interface CommunitySize {
  users: number;
  posts: number;
  tags: number;
  bookmarks: number;
  votes: number;
  communities: number;
}

export async function generateCommunity(db: DataSource, size: CommunitySize): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => db.query(sql, params);
  await q(`SELECT setseed(0.42)`);
  await q(`INSERT INTO users (handle, display_name, role, created_at)
           SELECT 'user' || g, 'User ' || g, 'MEMBER', now() - interval '90 days' FROM generate_series(1, $1::int) g`, [size.users]);
  await q(`INSERT INTO tags (name) SELECT 'tag' || g FROM generate_series(1, $1::int) g`, [size.tags]);
  // Post i belongs to community i % C; its tags come from that community's slice of the vocabulary.
  await q(`INSERT INTO posts (kind, author_id, title, body, status, created_at, first_published_at)
           SELECT CASE WHEN g % 4 = 0 THEN 'ARTICLE' ELSE 'QUESTION' END,
                  1 + floor(random() * $2::int)::int, 'Synthetic post ' || g, 'Body of synthetic post ' || g, 'PUBLISHED', t, t
             FROM (SELECT g, now() - random() * interval '30 days' AS t FROM generate_series(1, $1::int) g) s`, [size.posts, size.users]);
  const perCommunity = Math.max(1, Math.floor(size.tags / size.communities));
  await q(`INSERT INTO post_tags (post_id, tag_id)
           SELECT DISTINCT p.id, 1 + (p.id % $1::int) * $2::int + floor(random() * $2::int)::int
             FROM posts p, generate_series(1, 2) k`, [size.communities, perCommunity]);
  // Users mostly interact within their own community (80%), sometimes anywhere.
  const interact = async (table: string, extra: string, n: number) =>
    q(`INSERT INTO ${table} (user_id, post_id${extra ? ', value' : ''})
       SELECT DISTINCT ON (u, p) u, p${extra ? `, ${extra}` : ''} FROM (
         SELECT u, CASE WHEN random() < 0.8
                     THEN (u % $1::int) + $1::int * floor(random() * ($3::int / $1::int))::int
                     ELSE 1 + floor(random() * $3::int)::int END AS p
           FROM (SELECT 1 + floor(random() * $2::int)::int AS u FROM generate_series(1, $4::int)) s) x
        WHERE p BETWEEN 1 AND $3::int
       ON CONFLICT DO NOTHING`, [size.communities, size.users, size.posts, n]);
  await interact('bookmarks', '', size.bookmarks);
  await interact('votes', '1', size.votes);
  await q(`INSERT INTO tag_follows (user_id, tag_id)
           SELECT DISTINCT u, 1 + (u % $2::int) * $3::int + floor(random() * $3::int)::int
             FROM (SELECT 1 + floor(random() * $1::int)::int AS u FROM generate_series(1, $1::int * 2)) s ON CONFLICT DO NOTHING`,
    [size.users, size.communities, perCommunity]);
  await q(`INSERT INTO user_follows (follower_id, followee_id)
           SELECT a, b FROM (SELECT 1 + floor(random() * $1::int)::int AS a, 1 + floor(random() * $1::int)::int AS b FROM generate_series(1, $1::int * 3)) s
            WHERE a <> b ON CONFLICT DO NOTHING`, [size.users]);
  // Counters and ranking keys, as the services would have kept them.
  await q(`UPDATE posts p SET up_votes = v.n, score = v.n FROM (SELECT post_id, count(*)::int AS n FROM votes GROUP BY post_id) v WHERE v.post_id = p.id`);
  await q(`UPDATE posts p SET bookmark_count = b.n FROM (SELECT post_id, count(*)::int AS n FROM bookmarks GROUP BY post_id) b WHERE b.post_id = p.id`);
  const rows: Array<{ id: number; score: number; created_at: Date }> = await q(`SELECT id, score, created_at FROM posts`);
  const ids = rows.map((r) => r.id);
  const hot = rows.map((r) => hotRank(r.score, new Date(r.created_at)));
  await q(`UPDATE posts p SET hot = d.hot FROM unnest($1::int[], $2::float8[]) AS d(id, hot) WHERE p.id = d.id`, [ids, hot]);
  await q(`UPDATE tags t SET post_count = c.n FROM (SELECT tag_id, count(*)::int AS n FROM post_tags GROUP BY tag_id) c WHERE c.tag_id = t.id`);
  // Vacuumed as autovacuum would have by then: index-only scans need the visibility map.
  await q(`VACUUM ANALYZE`);
}

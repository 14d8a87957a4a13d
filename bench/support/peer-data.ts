import type { DataSource } from 'typeorm';
import { generateCommunity } from './synthetic-community';

export interface PeerDataSize {
  users: number;
  posts: number;
}

/**
 * The synthetic community, plus answers, comments and down votes so that every count the page
 * shows varies from post to post. Deterministic: the community seeds PostgreSQL's random().
 */
export async function loadPeerData(db: DataSource, size: PeerDataSize): Promise<{ posts: number; answers: number; comments: number; votes: number }> {
  await generateCommunity(db, {
    users: size.users,
    posts: size.posts,
    tags: Math.max(20, Math.round(size.posts / 100)),
    bookmarks: size.posts,
    votes: size.posts * 2,
    communities: 10,
  });
  const q = (sql: string, params: unknown[] = []) => db.query(sql, params);
  await q(`INSERT INTO posts (kind, parent_id, author_id, body, status, created_at, first_published_at)
           SELECT 'ANSWER', p.id, 1 + floor(random() * $1::int)::int, 'An answer to post ' || p.id, 'PUBLISHED', p.created_at, p.created_at
             FROM posts p, generate_series(1, 3) k WHERE p.kind = 'QUESTION' AND random() < 0.5`, [size.users]);
  await q(`INSERT INTO posts (kind, parent_id, author_id, body, status, created_at, first_published_at)
           SELECT 'COMMENT', p.id, 1 + floor(random() * $1::int)::int, 'A comment on post ' || p.id, 'PUBLISHED', p.created_at, p.created_at
             FROM posts p, generate_series(1, 2) k WHERE p.parent_id IS NULL AND random() < 0.3`, [size.users]);
  await q(`UPDATE posts p SET answer_count = c.answers, comment_count = c.comments
             FROM (SELECT parent_id, count(*) FILTER (WHERE kind = 'ANSWER')::int AS answers, count(*) FILTER (WHERE kind = 'COMMENT')::int AS comments
                     FROM posts WHERE parent_id IS NOT NULL GROUP BY parent_id) c
            WHERE c.parent_id = p.id`);
  await q(`UPDATE votes SET value = -1 WHERE random() < 0.2`);
  await q(`UPDATE posts p SET up_votes = v.up, down_votes = v.down, score = v.up - v.down
             FROM (SELECT post_id, count(*) FILTER (WHERE value = 1)::int AS up, count(*) FILTER (WHERE value = -1)::int AS down FROM votes GROUP BY post_id) v
            WHERE v.post_id = p.id`);
  await q(`UPDATE users u SET post_count = c.n FROM (SELECT author_id, count(*)::int AS n FROM posts GROUP BY author_id) c WHERE c.author_id = u.id`);
  await q(`ANALYZE`);
  const [counts] = await q(`SELECT count(*) FILTER (WHERE parent_id IS NULL)::int AS posts, count(*) FILTER (WHERE kind = 'ANSWER')::int AS answers,
                                   count(*) FILTER (WHERE kind = 'COMMENT')::int AS comments, (SELECT count(*)::int FROM votes) AS votes FROM posts`);
  return counts;
}

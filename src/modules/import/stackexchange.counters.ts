import { hotRank, wilsonLowerBound } from '../posts/ranking';
import type { Sql } from './sql';

interface PostCounterRow {
  id: number;
  created_at: Date;
  up_votes: number;
  down_votes: number;
  score: number;
  hot: number;
  wilson: number;
  answer_count: number;
  comment_count: number;
  bookmark_count: number;
  up: number;
  down: number;
  answers: number;
  comments: number;
  bookmarks: number;
}

const PAGE = 5000;

/**
 * Sets every denormalised counter of the imported posts from the rows that exist plus the dump's
 * voter-less votes, instead of incrementing, so that any number of runs gives the same values.
 * Votes cast in Colloquy after an import are rows too, so they survive a re-import.
 */
export async function recomputePostCounters(sql: Sql, source: string): Promise<number> {
  await sql.run(`
    CREATE TEMP TABLE se_anonymous_votes ON COMMIT DROP AS
    SELECT p.id AS post_id, count(*) FILTER (WHERE v.type = 2)::int AS up, count(*) FILTER (WHERE v.type = 3)::int AS down
      FROM se_votes v JOIN posts p ON p.source = $1 AND p.source_id = 'p' || v.post
     WHERE v.type IN (2, 3)
       AND (v.voter IS NULL OR NOT EXISTS (SELECT 1 FROM users u WHERE u.source = $1 AND u.source_id = v.voter::text))
     GROUP BY p.id`, [source]);
  let updated = 0;
  for (let after = 0; ; ) {
    const rows = await sql.rows<PostCounterRow>(`
      SELECT p.id, p.created_at, p.up_votes, p.down_votes, p.score, p.hot, p.wilson, p.answer_count, p.comment_count, p.bookmark_count,
             COALESCE(a.up, 0) + (SELECT count(*) FROM votes x WHERE x.post_id = p.id AND x.value = 1)::int AS up,
             COALESCE(a.down, 0) + (SELECT count(*) FROM votes x WHERE x.post_id = p.id AND x.value = -1)::int AS down,
             (SELECT count(*) FROM posts c WHERE c.parent_id = p.id AND c.kind = 'ANSWER' AND c.deleted_at IS NULL)::int AS answers,
             (SELECT count(*) FROM posts c WHERE c.parent_id = p.id AND c.kind = 'COMMENT' AND c.deleted_at IS NULL)::int AS comments,
             (SELECT count(*) FROM bookmarks b WHERE b.post_id = p.id)::int AS bookmarks
        FROM posts p LEFT JOIN se_anonymous_votes a ON a.post_id = p.id
       WHERE p.source = $1 AND p.id > $2
       ORDER BY p.id LIMIT ${PAGE}`, [source, after]);
    if (!rows.length) break;
    after = rows[rows.length - 1].id;
    const changed = rows
      .map((r) => ({ r, score: r.up - r.down, hot: hotRank(r.up - r.down, r.created_at), wilson: wilsonLowerBound(r.up, r.down) }))
      .filter(({ r, score, hot, wilson }) =>
        r.up !== r.up_votes || r.down !== r.down_votes || score !== r.score || hot !== r.hot || wilson !== r.wilson ||
        r.answers !== r.answer_count || r.comments !== r.comment_count || r.bookmarks !== r.bookmark_count);
    if (!changed.length) continue;
    updated += await sql.run(`
      UPDATE posts p SET up_votes = x.up, down_votes = x.down, score = x.score, hot = x.hot, wilson = x.wilson,
                         answer_count = x.answers, comment_count = x.comments, bookmark_count = x.bookmarks
        FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::float8[], $6::float8[], $7::int[], $8::int[], $9::int[])
             AS x(id, up, down, score, hot, wilson, answers, comments, bookmarks)
       WHERE p.id = x.id`,
      [changed.map((c) => c.r.id), changed.map((c) => c.r.up), changed.map((c) => c.r.down), changed.map((c) => c.score),
        changed.map((c) => c.hot), changed.map((c) => c.wilson), changed.map((c) => c.r.answers), changed.map((c) => c.r.comments),
        changed.map((c) => c.r.bookmarks)]);
  }
  return updated;
}

/** Post counts of the imported users and of every tag the dump mentions, counted, not incremented. */
export async function recomputeOwnerCounters(sql: Sql, source: string): Promise<{ users: number; tags: number }> {
  const users = await sql.run(`
    UPDATE users u SET post_count = c.n
      FROM (SELECT u.id, count(p.id)::int AS n FROM users u
              LEFT JOIN posts p ON p.author_id = u.id AND p.deleted_at IS NULL
             WHERE u.source = $1 GROUP BY u.id) c
     WHERE u.id = c.id AND u.post_count <> c.n`, [source]);
  const tags = await sql.run(`
    UPDATE tags t SET post_count = c.n
      FROM (SELECT t.id, count(p.id)::int AS n FROM tags t
              LEFT JOIN post_tags pt ON pt.tag_id = t.id
              LEFT JOIN posts p ON p.id = pt.post_id AND p.deleted_at IS NULL
             WHERE t.name IN (SELECT name FROM se_tags UNION SELECT tag FROM se_post_tags) GROUP BY t.id) c
     WHERE t.id = c.id AND t.post_count <> c.n`);
  return { users, tags };
}

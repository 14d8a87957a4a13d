import type { Sql } from './sql';
import { authorIdSql } from './stackexchange.users';

/** Per entity: rows written now, rows an earlier run already wrote, rows that could not be mapped. */
export interface EntityCounts {
  inserted: number;
  present: number;
  skipped: number;
}

async function counted(sql: Sql, staged: string, exists: string, insert: string, source: string): Promise<EntityCounts> {
  const [{ total, present }] = await sql.rows<{ total: number; present: number }>(
    `SELECT count(*)::int AS total, (count(*) FILTER (WHERE ${exists}))::int AS present FROM (${staged}) s`, [source]);
  const inserted = await sql.run(insert, [source]);
  return { inserted, present, skipped: total - present - inserted };
}

/** Post ids come from the SE id in dump order, so a fresh database numbers posts the way the site did. */
function postInsert(staged: string, kind: string, parentSql: string, titleSql: string, sourceId: string): string {
  return `
    INSERT INTO posts (kind, parent_id, author_id, title, body, created_at, updated_at, edited_at, source, source_id)
    SELECT '${kind}', ${parentSql}, ${authorIdSql('s.owner')}, ${titleSql}, s.body,
           COALESCE(s.created_at, 'epoch'), COALESCE(s.edited_at, s.created_at, 'epoch'), s.edited_at, $1, ${sourceId}
      FROM (${staged}) s
     WHERE ${parentSql === 'NULL' ? 'true' : `${parentSql} IS NOT NULL`}
     ORDER BY s.id
    ON CONFLICT (source, source_id) WHERE source IS NOT NULL DO NOTHING`;
}

const postExists = (sourceId: string) => `EXISTS (SELECT 1 FROM posts p WHERE p.source = $1 AND p.source_id = ${sourceId})`;
const postId = (sourceId: string, kind?: string) =>
  `(SELECT p.id FROM posts p WHERE p.source = $1 AND p.source_id = ${sourceId}${kind ? ` AND p.kind = '${kind}'` : ''})`;

const QUESTIONS = `SELECT DISTINCT ON (id) * FROM se_posts WHERE type = 1 AND id IS NOT NULL ORDER BY id`;
const ANSWERS = `SELECT DISTINCT ON (id) * FROM se_posts WHERE type = 2 AND id IS NOT NULL ORDER BY id`;
const COMMENTS = `SELECT DISTINCT ON (id) *, NULL::timestamptz AS edited_at FROM se_comments WHERE id IS NOT NULL ORDER BY id`;

/** Questions, then answers (whose parents must exist), then comments on either. */
export async function importPosts(sql: Sql, source: string) {
  const questions = await counted(sql, QUESTIONS, postExists(`'p' || s.id`),
    postInsert(QUESTIONS, 'QUESTION', 'NULL', `COALESCE(NULLIF(btrim(s.title), ''), '(untitled)')`, `'p' || s.id`), source);
  const answers = await counted(sql, ANSWERS, postExists(`'p' || s.id`),
    postInsert(ANSWERS, 'ANSWER', postId(`'p' || s.parent`, 'QUESTION'), 'NULL', `'p' || s.id`), source);
  const comments = await counted(sql, COMMENTS, postExists(`'c' || s.id`),
    postInsert(COMMENTS, 'COMMENT', postId(`'p' || s.post`), 'NULL', `'c' || s.id`), source);
  return { questions, answers, comments };
}

export async function importTags(sql: Sql): Promise<Omit<EntityCounts, 'skipped'>> {
  const names = `SELECT name FROM se_tags UNION SELECT tag FROM se_post_tags`;
  const [{ total }] = await sql.rows<{ total: number }>(`SELECT count(*)::int AS total FROM (${names}) n`);
  const inserted = await sql.run(`INSERT INTO tags (name) SELECT name FROM (${names}) n ORDER BY name ON CONFLICT (name) DO NOTHING`);
  return { inserted, present: total - inserted };
}

export async function importPostTags(sql: Sql, source: string) {
  const pairs = `
    SELECT DISTINCT p.id AS post_id, t.id AS tag_id
      FROM se_post_tags st
      JOIN posts p ON p.source = $1 AND p.source_id = 'p' || st.post
      JOIN tags t ON t.name = st.tag`;
  return counted(sql, pairs, `EXISTS (SELECT 1 FROM post_tags x WHERE x.post_id = s.post_id AND x.tag_id = s.tag_id)`,
    `INSERT INTO post_tags (post_id, tag_id) SELECT post_id, tag_id FROM (${pairs}) s ORDER BY 1, 2 ON CONFLICT DO NOTHING`, source);
}

/** Accepted answers and duplicate links; only rows whose value differs are written. */
export async function importRelations(sql: Sql, source: string) {
  const acceptedUpdated = await sql.run(`
    UPDATE posts q SET accepted_answer_id = a.id
      FROM se_posts s JOIN posts a ON a.source = $1 AND a.source_id = 'p' || s.accepted
     WHERE s.type = 1 AND q.source = $1 AND q.source_id = 'p' || s.id
       AND a.parent_id = q.id AND q.accepted_answer_id IS DISTINCT FROM a.id`, [source]);
  await sql.run(`
    UPDATE posts a SET is_accepted = true
      FROM posts q WHERE q.source = $1 AND q.accepted_answer_id = a.id AND NOT a.is_accepted`, [source]);
  const duplicatesUpdated = await sql.run(`
    UPDATE posts d SET duplicate_of_id = o.id
      FROM (SELECT DISTINCT ON (post) post, related FROM se_links WHERE type = 3 ORDER BY post, id DESC) l
      JOIN posts o ON o.source = $1 AND o.source_id = 'p' || l.related
     WHERE d.source = $1 AND d.source_id = 'p' || l.post AND d.id <> o.id
       AND d.duplicate_of_id IS DISTINCT FROM o.id`, [source]);
  const [totals] = await sql.rows<{ accepted: number; duplicates: number }>(`
    SELECT (count(*) FILTER (WHERE accepted_answer_id IS NOT NULL))::int AS accepted,
           (count(*) FILTER (WHERE duplicate_of_id IS NOT NULL))::int AS duplicates
      FROM posts WHERE source = $1`, [source]);
  return {
    acceptedAnswers: { total: totals.accepted, updated: acceptedUpdated },
    duplicates: { total: totals.duplicates, updated: duplicatesUpdated },
  };
}

/**
 * Up and down votes with a voter become vote rows, favourites with a voter become bookmarks. The
 * public dumps strip voters from up and down votes; those only feed the counters (see counters).
 */
export async function importVoteRows(sql: Sql, source: string) {
  const rows = (types: string, value: string) => `
    SELECT DISTINCT ON (u.id, p.id) u.id AS user_id, p.id AS post_id, ${value} AS value, COALESCE(v.created_at, p.created_at) AS created_at
      FROM se_votes v
      JOIN users u ON u.source = $1 AND u.source_id = v.voter::text
      JOIN posts p ON p.source = $1 AND p.source_id = 'p' || v.post
     WHERE v.type IN (${types})
     ORDER BY u.id, p.id, v.id DESC`;
  const votes = await counted(sql, rows('2, 3', `CASE v.type WHEN 2 THEN 1 ELSE -1 END`),
    `EXISTS (SELECT 1 FROM votes x WHERE x.user_id = s.user_id AND x.post_id = s.post_id)`,
    `INSERT INTO votes (user_id, post_id, value, created_at) SELECT * FROM (${rows('2, 3', `CASE v.type WHEN 2 THEN 1 ELSE -1 END`)}) s ON CONFLICT DO NOTHING`,
    source);
  const bookmarks = await counted(sql, rows('5', '0'),
    `EXISTS (SELECT 1 FROM bookmarks x WHERE x.user_id = s.user_id AND x.post_id = s.post_id)`,
    `INSERT INTO bookmarks (user_id, post_id, created_at) SELECT user_id, post_id, created_at FROM (${rows('5', '0')}) s ON CONFLICT DO NOTHING`,
    source);
  const [{ unmapped5 }] = await sql.rows<{ unmapped5: number }>(`
    SELECT count(*)::int AS unmapped5 FROM se_votes v
     WHERE v.type = 5 AND NOT EXISTS (
       SELECT 1 FROM users u JOIN posts p ON p.source = $1 AND p.source_id = 'p' || v.post
        WHERE u.source = $1 AND u.source_id = v.voter::text)`, [source]);
  return { votes, bookmarks: { ...bookmarks, skipped: unmapped5 } };
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import { insertColumns, type Sql } from './sql';
import { dumpTimestamp, intAttr, normaliseTagName, parseTagsAttribute } from './stackexchange.mapping';
import { forEachRowBatch, type RowAttributes } from './xml-rows';

/**
 * The dump is first copied into temporary tables, so that the mapping into the real tables is a
 * handful of set-based statements (parents before children, joins on source ids) instead of row
 * by row round trips, and so that files of any size stream through bounded memory.
 */
const TABLES = `
  CREATE TEMP TABLE se_users (id int, display_name text, reputation int, created_at timestamptz, about text) ON COMMIT DROP;
  CREATE TEMP TABLE se_posts (id int, type int, parent int, accepted int, owner int, title text, body text,
    created_at timestamptz, edited_at timestamptz, activity_at timestamptz) ON COMMIT DROP;
  CREATE TEMP TABLE se_post_tags (post int, tag text) ON COMMIT DROP;
  CREATE TEMP TABLE se_comments (id int, post int, owner int, body text, created_at timestamptz) ON COMMIT DROP;
  CREATE TEMP TABLE se_votes (id int, post int, type int, voter int, created_at timestamptz) ON COMMIT DROP;
  CREATE TEMP TABLE se_links (id int, post int, related int, type int) ON COMMIT DROP;
  CREATE TEMP TABLE se_tags (name text) ON COMMIT DROP;
`;

/** Vote types the import maps: 2 up, 3 down, 5 favourite (bookmark). */
export const MAPPED_VOTE_TYPES = [2, 3, 5];
/** Post types the import maps: 1 question, 2 answer. */
export const MAPPED_POST_TYPES = [1, 2];

export interface StagedCounts {
  /** Rows read per file (absent optional files read as 0). */
  read: Record<string, number>;
  /** Posts of types other than question and answer, by PostTypeId. */
  skippedPostTypes: Record<string, number>;
  /** Votes of types the import does not map, by VoteTypeId. */
  skippedVoteTypes: Record<string, number>;
  /** Tag names that could not be made to fit the tag rule. */
  unusableTags: number;
}

const REQUIRED = ['Users.xml', 'Posts.xml'];
const OPTIONAL = ['Comments.xml', 'Votes.xml', 'Tags.xml', 'PostLinks.xml'];

type Mapper = (rows: RowAttributes[], sql: Sql, counts: StagedCounts) => Promise<void>;

const bump = (m: Record<string, number>, key: string | undefined) => {
  const k = key ?? '?';
  m[k] = (m[k] ?? 0) + 1;
};

const MAPPERS: Record<string, Mapper> = {
  'Users.xml': (rows, sql) =>
    insertColumns(sql, 'se_users', [['id', 'int'], ['display_name', 'text'], ['reputation', 'int'], ['created_at', 'timestamptz'], ['about', 'text']],
      rows.map((r) => [intAttr(r.Id), r.DisplayName ?? '', intAttr(r.Reputation) ?? 0, dumpTimestamp(r.CreationDate), r.AboutMe ?? ''])),

  async 'Posts.xml'(rows, sql, counts) {
    const kept = rows.filter((r) => {
      const keep = MAPPED_POST_TYPES.includes(intAttr(r.PostTypeId) ?? 0);
      if (!keep) bump(counts.skippedPostTypes, r.PostTypeId);
      return keep;
    });
    await insertColumns(sql, 'se_posts',
      [['id', 'int'], ['type', 'int'], ['parent', 'int'], ['accepted', 'int'], ['owner', 'int'], ['title', 'text'], ['body', 'text'],
        ['created_at', 'timestamptz'], ['edited_at', 'timestamptz'], ['activity_at', 'timestamptz']],
      kept.map((r) => [intAttr(r.Id), intAttr(r.PostTypeId), intAttr(r.ParentId), intAttr(r.AcceptedAnswerId), intAttr(r.OwnerUserId),
        r.Title ?? null, r.Body ?? '', dumpTimestamp(r.CreationDate), dumpTimestamp(r.LastEditDate), dumpTimestamp(r.LastActivityDate)]));
    const tags = kept.flatMap((r) => (r.PostTypeId === '1' ? parseTagsAttribute(r.Tags).map((t) => [intAttr(r.Id), t]) : []));
    await insertColumns(sql, 'se_post_tags', [['post', 'int'], ['tag', 'text']], tags);
  },

  'Comments.xml': (rows, sql) =>
    insertColumns(sql, 'se_comments', [['id', 'int'], ['post', 'int'], ['owner', 'int'], ['body', 'text'], ['created_at', 'timestamptz']],
      rows.map((r) => [intAttr(r.Id), intAttr(r.PostId), intAttr(r.UserId), r.Text ?? '', dumpTimestamp(r.CreationDate)])),

  async 'Votes.xml'(rows, sql, counts) {
    const kept = rows.filter((r) => {
      const keep = MAPPED_VOTE_TYPES.includes(intAttr(r.VoteTypeId) ?? 0);
      if (!keep) bump(counts.skippedVoteTypes, r.VoteTypeId);
      return keep;
    });
    await insertColumns(sql, 'se_votes', [['id', 'int'], ['post', 'int'], ['type', 'int'], ['voter', 'int'], ['created_at', 'timestamptz']],
      kept.map((r) => [intAttr(r.Id), intAttr(r.PostId), intAttr(r.VoteTypeId), intAttr(r.UserId), dumpTimestamp(r.CreationDate)]));
  },

  async 'Tags.xml'(rows, sql, counts) {
    const names = rows.map((r) => normaliseTagName(r.TagName ?? ''));
    counts.unusableTags += names.filter((n) => n === null).length;
    await insertColumns(sql, 'se_tags', [['name', 'text']], names.filter((n) => n !== null).map((n) => [n]));
  },

  'PostLinks.xml': (rows, sql) =>
    insertColumns(sql, 'se_links', [['id', 'int'], ['post', 'int'], ['related', 'int'], ['type', 'int']],
      rows.map((r) => [intAttr(r.Id), intAttr(r.PostId), intAttr(r.RelatedPostId), intAttr(r.LinkTypeId)])),
};

export async function stageDump(sql: Sql, dir: string, batchSize = 2000): Promise<StagedCounts> {
  for (const f of REQUIRED) {
    if (!existsSync(path.join(dir, f))) throw new Error(`${path.join(dir, f)} not found: is this a Stack Exchange dump folder?`);
  }
  await sql.run(TABLES);
  const counts: StagedCounts = { read: {}, skippedPostTypes: {}, skippedVoteTypes: {}, unusableTags: 0 };
  for (const f of [...REQUIRED, ...OPTIONAL]) {
    const file = path.join(dir, f);
    counts.read[f] = existsSync(file) ? await forEachRowBatch(file, batchSize, (rows) => MAPPERS[f](rows, sql, counts)) : 0;
  }
  await sql.run(`CREATE INDEX ON se_posts (id); CREATE INDEX ON se_votes (post); ANALYZE se_posts; ANALYZE se_votes; ANALYZE se_users; ANALYZE se_comments`);
  return counts;
}

import path from 'node:path';
import type { DataSource } from 'typeorm';
import { inSqlTransaction } from './sql';
import { recomputeOwnerCounters, recomputePostCounters } from './stackexchange.counters';
import { sourceName } from './stackexchange.mapping';
import { type EntityCounts, importPostTags, importPosts, importRelations, importTags, importVoteRows } from './stackexchange.posts';
import { stageDump } from './stackexchange.staging';
import { importUsers } from './stackexchange.users';

export interface StackExchangeImportOptions {
  /** Site name used in `source`; defaults to the dump folder's name. */
  site?: string;
  /** Rows per staging batch. */
  batchSize?: number;
}

export interface StackExchangeImportSummary {
  source: string;
  users: { inserted: number; present: number; placeholder: boolean };
  tags: { inserted: number; present: number; unusable: number };
  questions: EntityCounts;
  answers: EntityCounts;
  comments: EntityCounts;
  postTags: EntityCounts;
  /** Voter-less up/down votes, which only feed post counters. */
  anonymousVotes: { up: number; down: number };
  voteRows: EntityCounts;
  bookmarks: EntityCounts;
  acceptedAnswers: { total: number; updated: number };
  duplicates: { total: number; updated: number };
  /** Rows whose denormalised counters changed in this run. */
  countersUpdated: { posts: number; users: number; tags: number };
  skipped: { postTypes: Record<string, number>; voteTypes: Record<string, number>; votesOnMissingPosts: number };
  read: Record<string, number>;
}

/**
 * Imports a Stack Exchange data dump folder (Users.xml, Posts.xml, Comments.xml, Votes.xml,
 * Tags.xml, PostLinks.xml) in one transaction: a failure leaves nothing behind, and a second run of
 * the same dump inserts nothing and changes no value.
 */
export async function importStackExchange(
  db: DataSource,
  dir: string,
  opts: StackExchangeImportOptions = {},
): Promise<StackExchangeImportSummary> {
  const source = sourceName(opts.site ?? path.basename(path.resolve(dir)));
  return inSqlTransaction(db, async (sql) => {
    const staged = await stageDump(sql, dir, opts.batchSize);
    const tags = await importTags(sql);
    const users = await importUsers(sql, source);
    const posts = await importPosts(sql, source);
    const postTags = await importPostTags(sql, source);
    const relations = await importRelations(sql, source);
    const { votes: voteRows, bookmarks } = await importVoteRows(sql, source);
    const postCounters = await recomputePostCounters(sql, source);
    const ownerCounters = await recomputeOwnerCounters(sql, source);
    const [anonymous] = await sql.rows<{ up: number; down: number }>(
      `SELECT COALESCE(sum(up), 0)::int AS up, COALESCE(sum(down), 0)::int AS down FROM se_anonymous_votes`);
    // Dumps keep votes on posts they omit (deleted ones, tag wikis); those have nothing to count on.
    const [{ n: votesOnMissingPosts }] = await sql.rows<{ n: number }>(`
      SELECT count(*)::int AS n FROM se_votes v
       WHERE v.type IN (2, 3) AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.source = $1 AND p.source_id = 'p' || v.post)`, [source]);
    return {
      source,
      users,
      tags: { ...tags, unusable: staged.unusableTags },
      ...posts,
      postTags,
      anonymousVotes: anonymous,
      voteRows,
      bookmarks,
      ...relations,
      countersUpdated: { posts: postCounters, ...ownerCounters },
      skipped: { postTypes: staged.skippedPostTypes, voteTypes: staged.skippedVoteTypes, votesOnMissingPosts },
      read: staged.read,
    };
  });
}

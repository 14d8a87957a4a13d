import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every FOR_YOU request checks that the member's cached ranking still matches what they follow,
 * bookmarked, voted, wrote, dismissed and saw (`member-state.ts`). That check used to aggregate the
 * member's rows in seven tables on every request: about a quarter of the database time of a
 * cached feed request, growing with the member's history (every post they have ever been shown
 * stays in `feed_seen`). These counters move in the same transaction as the rows they describe,
 * from triggers, so any writer (every server process, an import, a console session) moves them,
 * and the check is a primary-key read.
 *
 * Statement-level triggers read the changed rows from transition tables: a bulk insert of many
 * members' rows moves each member's counter once, in one statement.
 */
type Op = 'INSERT' | 'UPDATE' | 'DELETE';
/** Table, the column naming the member, the statements that change what the feed reads, and the counter they move. */
const WATCHED: Array<[table: string, owner: string, ops: Op[], counter: 'sources' | 'seen']> = [
  ['bookmarks', 'user_id', ['INSERT', 'DELETE'], 'sources'],
  ['votes', 'user_id', ['INSERT', 'UPDATE', 'DELETE'], 'sources'],
  ['user_follows', 'follower_id', ['INSERT', 'DELETE'], 'sources'],
  ['tag_follows', 'user_id', ['INSERT', 'DELETE'], 'sources'],
  ['feed_dismissals', 'user_id', ['INSERT', 'UPDATE', 'DELETE'], 'sources'],
  ['posts', 'author_id', ['INSERT', 'DELETE'], 'sources'],
  // Seen posts only filter the merged ranking again, so they have a counter of their own.
  ['feed_seen', 'user_id', ['INSERT', 'DELETE'], 'seen'],
];

export class MemberFeedVersions1795744000000 implements MigrationInterface {
  name = 'MemberFeedVersions1795744000000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign key: deleting a user cascades to rows whose triggers write here.
    await q.query(`
      CREATE TABLE member_feed_versions (
        user_id integer PRIMARY KEY,
        sources bigint NOT NULL DEFAULT 0,
        seen bigint NOT NULL DEFAULT 0
      )`);
    // TG_ARGV: the column naming the member, and the counter to move ('sources' or 'seen'). Rows
    // are upserted in member order, so two bulk statements over the same members cannot deadlock.
    await q.query(`
      CREATE FUNCTION bump_member_feed_versions() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        changed text := CASE TG_OP
          WHEN 'INSERT' THEN format('SELECT %I AS id FROM new_rows', TG_ARGV[0])
          WHEN 'DELETE' THEN format('SELECT %I AS id FROM old_rows', TG_ARGV[0])
          ELSE format('SELECT %1$I AS id FROM new_rows UNION SELECT %1$I FROM old_rows', TG_ARGV[0]) END;
      BEGIN
        EXECUTE format('INSERT INTO member_feed_versions AS v (user_id, %1$I) SELECT DISTINCT id, 1 FROM (%2$s) c WHERE id IS NOT NULL ORDER BY id
                        ON CONFLICT (user_id) DO UPDATE SET %1$I = v.%1$I + 1', TG_ARGV[1], changed);
        RETURN NULL;
      END $$`);
    // A post soft-deleted or restored leaves or rejoins what its author wrote. Row-level, as a
    // column list (votes and edits update posts all the time) cannot have transition tables.
    await q.query(`
      CREATE FUNCTION bump_member_feed_versions_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO member_feed_versions AS v (user_id, sources) VALUES (NEW.author_id, 1)
          ON CONFLICT (user_id) DO UPDATE SET sources = v.sources + 1;
        RETURN NULL;
      END $$`);
    const rows = (op: Op) => (op === 'INSERT' ? 'NEW TABLE AS new_rows' : op === 'DELETE' ? 'OLD TABLE AS old_rows' : 'NEW TABLE AS new_rows OLD TABLE AS old_rows');
    for (const [table, owner, ops, counter] of WATCHED) {
      for (const op of ops) {
        await q.query(`CREATE TRIGGER ${table}_feed_version_${op.toLowerCase()} AFTER ${op} ON ${table}
          REFERENCING ${rows(op)} FOR EACH STATEMENT EXECUTE FUNCTION bump_member_feed_versions('${owner}', '${counter}')`);
      }
    }
    await q.query(`CREATE TRIGGER posts_feed_version_deleted AFTER UPDATE OF deleted_at ON posts
      FOR EACH ROW WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at) EXECUTE FUNCTION bump_member_feed_versions_row()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS posts_feed_version_deleted ON posts`);
    for (const [table, , ops] of WATCHED) {
      for (const op of ops) await q.query(`DROP TRIGGER IF EXISTS ${table}_feed_version_${op.toLowerCase()} ON ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS bump_member_feed_versions_row()`);
    await q.query(`DROP FUNCTION IF EXISTS bump_member_feed_versions()`);
    await q.query(`DROP TABLE IF EXISTS member_feed_versions`);
  }
}

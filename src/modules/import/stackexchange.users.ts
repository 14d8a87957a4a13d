import { insertColumns, type Sql } from './sql';
import { allocateHandle } from './stackexchange.mapping';

/** Source id of the one account per site that owns posts whose author left no user row. */
export const PLACEHOLDER_SOURCE_ID = 'deleted';
const PLACEHOLDER_NAME = 'Deleted user';

export interface UserCounts {
  inserted: number;
  present: number;
  /** Whether the placeholder account is (now) in use for this site. */
  placeholder: boolean;
}

/**
 * Imports accounts that are not yet imported; existing ones keep their handle, so handles never
 * move under a re-import. Accounts get no password hash: they exist to own content, not to log in.
 */
export async function importUsers(sql: Sql, source: string): Promise<UserCounts> {
  const [{ orphans }] = await sql.rows<{ orphans: boolean }>(`
    SELECT EXISTS (SELECT 1 FROM se_posts p WHERE p.owner IS NULL OR NOT EXISTS (SELECT 1 FROM se_users u WHERE u.id = p.owner))
        OR EXISTS (SELECT 1 FROM se_comments c WHERE c.owner IS NULL OR NOT EXISTS (SELECT 1 FROM se_users u WHERE u.id = c.owner))
        AS orphans`);
  const fresh = await sql.rows<{ source_id: string; display_name: string; reputation: number; created_at: Date | null; about: string }>(`
    WITH wanted AS (
      (SELECT DISTINCT ON (id) id::text AS source_id, display_name, reputation, created_at, about, id AS ord FROM se_users
        WHERE id IS NOT NULL ORDER BY id)
      UNION ALL
      SELECT $2::text, $3::text, 1, (SELECT min(created_at) FROM se_users), '', NULL WHERE $4::boolean
    )
    SELECT w.* FROM wanted w
     WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.source = $1 AND u.source_id = w.source_id)
     ORDER BY w.ord NULLS LAST`,
    [source, PLACEHOLDER_SOURCE_ID, PLACEHOLDER_NAME, orphans]);
  const [{ total }] = await sql.rows<{ total: number }>(
    `SELECT (count(DISTINCT id) + $1::int)::int AS total FROM se_users WHERE id IS NOT NULL`, [orphans ? 1 : 0]);

  const taken = new Set((await sql.rows<{ h: string }>(`SELECT lower(handle) AS h FROM users`)).map((r) => r.h));
  const rows = fresh.map((u) => {
    const displayName = u.display_name.trim() || `user${u.source_id}`;
    return [allocateHandle(displayName, u.source_id, taken), displayName, u.reputation, u.created_at ?? new Date(0), u.about, source, u.source_id];
  });
  let inserted = 0;
  for (let i = 0; i < rows.length; i += 5000) {
    const batch = rows.slice(i, i + 5000);
    await insertColumns(sql, 'users',
      [['handle', 'text'], ['display_name', 'text'], ['reputation', 'int'], ['created_at', 'timestamptz'], ['bio', 'text'], ['source', 'text'], ['source_id', 'text']],
      batch);
    inserted += batch.length;
  }
  return { inserted, present: total - inserted, placeholder: orphans };
}

/** SQL for "the imported author of a dump row, or the site's placeholder" given an owner column. */
export function authorIdSql(ownerColumn: string): string {
  return `COALESCE(
    (SELECT u.id FROM users u WHERE u.source = $1 AND u.source_id = ${ownerColumn}::text),
    (SELECT u.id FROM users u WHERE u.source = $1 AND u.source_id = '${PLACEHOLDER_SOURCE_ID}'))`;
}

import type { EntityManager } from 'typeorm';

/**
 * Runs one of the feed's per-request statements as a named prepared statement, so PostgreSQL
 * plans it once per connection instead of on every request: planning these statements of many
 * subqueries took several times longer than running them. TypeORM hands the query to
 * node-postgres as it is, and node-postgres takes a query config (`{ name, text }`) in place of
 * the text; the statement still goes through TypeORM's logger, so it is counted like any other.
 */
export function prepared<T>(m: EntityManager, name: string, text: string, params: unknown[]): Promise<T> {
  return m.query({ name: `feed_${name}`, text } as unknown as string, params);
}

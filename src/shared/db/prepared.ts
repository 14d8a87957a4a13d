import { createHash } from 'node:crypto';
import type { EntityManager, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

interface Statement {
  name: string;
  text: string;
  /** Parameter names in positional ($1, $2, …) order. */
  order: string[];
}

const MAX_STATEMENTS = 500;
const statements = new Map<string, Statement>();

/** A statement built around the query builder's: `sql` gets its text; `key` names the wrapping among shapes. */
export interface Wrap {
  key: string;
  sql(inner: string): string;
}

/**
 * `qb.getRawMany()` for hot read paths, as a named prepared statement on the pool. Turning a query
 * builder into SQL costs more CPU than PostgreSQL spends running a list page, and the text depends
 * only on the query's shape (selections, joins, conditions, order, limit), never on its values; so
 * it is built once per shape, and PostgreSQL plans it once per connection. A manager bound to a
 * connection (a transaction's) runs the builder as usual, on that connection; `qb` must come from it.
 */
export async function rawManyPrepared<R extends ObjectLiteral>(manager: EntityManager, qb: SelectQueryBuilder<ObjectLiteral>, wrap?: Wrap): Promise<R[]> {
  if (manager.queryRunner) {
    const [sql, params] = qb.getQueryAndParameters();
    return manager.query(wrap ? wrap.sql(sql) : sql, params);
  }
  const map = qb.expressionMap;
  const shape = JSON.stringify([
    wrap?.key ?? null,
    map.mainAlias?.name, map.mainAlias?.hasMetadata ? map.mainAlias.metadata.tablePath : null,
    map.selects, map.joinAttributes.map((j) => [j.direction, j.alias.name, j.alias.hasMetadata ? j.alias.metadata.tablePath : null, j.condition]),
    map.wheres, map.orderBys, map.limit, map.offset,
  ]);
  let statement = statements.get(shape);
  const parameters = qb.getParameters();
  if (!statement) {
    const driver = qb.connection.driver as PostgresDriver;
    // Each name stands in for its own value, so the positional list that comes back names them.
    const names = Object.fromEntries(Object.keys(parameters).map((k) => [k, k]));
    const [inner, order] = driver.escapeQueryWithParameters(qb.getQuery(), names, {});
    const text = wrap ? wrap.sql(inner) : inner;
    statement = { name: `q_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text, order: order as string[] };
    if (statements.size >= MAX_STATEMENTS) statements.clear();
    statements.set(shape, statement);
  }
  const values = statement.order.map((n) => parameters[n]);
  qb.connection.logger.logQuery(statement.text, values);
  const pool = (qb.connection.driver as PostgresDriver).master as {
    query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
  };
  return (await pool.query({ name: statement.name, text: statement.text, values })).rows;
}

/**
 * Runs a hand-written statement as a named prepared statement, so PostgreSQL plans it once per
 * connection instead of on every request (worth it for statements of many subqueries, whose
 * planning takes longer than running them). TypeORM hands the query to node-postgres as it is, and
 * node-postgres takes a query config (`{ name, text }`) in place of the text; the statement still
 * goes through TypeORM's logger, so it is counted like any other. `name` must be unique per text.
 */
export function queryPrepared<T>(m: EntityManager, name: string, text: string, params: unknown[]): Promise<T> {
  return m.query({ name, text } as unknown as string, params);
}

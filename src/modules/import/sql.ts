import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Plain SQL on one connection. TypeORM's `query()` answers INSERT with rows but UPDATE with
 * `[rows, count]`; the import needs affected-row counts from both, so it goes through the
 * structured result instead.
 */
export interface Sql {
  rows<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Rows inserted, updated or deleted. */
  run(text: string, params?: unknown[]): Promise<number>;
}

function over(qr: QueryRunner): Sql {
  return {
    async rows<T>(text: string, params: unknown[] = []) {
      return (await qr.query(text, params, true)).records as T[];
    },
    async run(text: string, params: unknown[] = []) {
      return (await qr.query(text, params, true)).affected ?? 0;
    },
  };
}

/** One transaction on a dedicated connection: all of `fn` commits, or none of it. */
export async function inSqlTransaction<T>(db: DataSource, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const qr = db.createQueryRunner();
  await qr.connect();
  try {
    await qr.startTransaction();
    const result = await fn(over(qr));
    await qr.commitTransaction();
    return result;
  } catch (err) {
    if (qr.isTransactionActive) await qr.rollbackTransaction();
    throw err;
  } finally {
    await qr.release();
  }
}

/** Multi-row INSERT of column arrays through `unnest`, one round trip per batch. */
export async function insertColumns(
  sql: Sql,
  table: string,
  columns: ReadonlyArray<readonly [name: string, pgType: string]>,
  rows: ReadonlyArray<readonly unknown[]>,
): Promise<void> {
  if (!rows.length) return;
  const arrays = columns.map((_, i) => rows.map((r) => r[i] ?? null));
  const names = columns.map(([n]) => n).join(', ');
  const casts = columns.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ');
  await sql.run(`INSERT INTO ${table} (${names}) SELECT * FROM unnest(${casts})`, arrays);
}

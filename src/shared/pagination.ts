import type { SelectQueryBuilder, ObjectLiteral } from 'typeorm';
import { badInput } from './errors';

/** Relay connection arguments as the domain sees them (no GraphQL types here). */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page<T> {
  nodes: T[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/**
 * A sort key: SQL expressions compared as one row value, all descending. Every ordering ends with
 * the primary key so the key is unique and keyset pagination never skips or repeats a row.
 */
export interface SortKey<T> {
  expressions: string[];
  values(row: T): Array<string | number | boolean>;
}

export function encodeCursor(values: Array<string | number | boolean>): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor(cursor: string, width: number): Array<string | number | boolean> {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length === width) return values as Array<string | number | boolean>;
  } catch {
    // fall through to the error below
  }
  throw badInput(`"${cursor}" is not a valid cursor for this list`, 'after');
}

export function checkPageArgs(args: PageArgs): { size: number; backward: boolean } {
  const { first, last } = args;
  if (first != null && last != null) throw badInput('Pass either `first` or `last`, not both', 'first');
  for (const [name, n] of [['first', first], ['last', last]] as const) {
    if (n != null && (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE)) {
      throw badInput(`\`${name}\` must be between 1 and ${MAX_PAGE_SIZE}`, name);
    }
  }
  if (last != null && args.after != null) throw badInput('`after` goes with `first`, not `last`', 'after');
  if (first != null && args.before != null) throw badInput('`before` goes with `last`, not `first`', 'before');
  return { size: last ?? first ?? DEFAULT_PAGE_SIZE, backward: last != null };
}

/** Applies keyset pagination to a query and fetches one page. */
export async function paginate<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  key: SortKey<T>,
  args: PageArgs,
  /** Runs the finished query; callers that also select related rows in it read them here. */
  fetch: (qb: SelectQueryBuilder<T>) => Promise<T[]> = (q) => q.getMany(),
): Promise<Page<T>> {
  const { size, backward } = checkPageArgs(args);
  const cursor = backward ? args.before : args.after;
  const row = `(${key.expressions.join(', ')})`;
  if (cursor) {
    const values = decodeCursor(cursor, key.expressions.length);
    const params = Object.fromEntries(values.map((v, i) => [`cursor_${i}`, v]));
    const placeholders = values.map((_, i) => `:cursor_${i}`).join(', ');
    qb.andWhere(`${row} ${backward ? '>' : '<'} (${placeholders})`, params);
  }
  const dir = backward ? 'ASC' : 'DESC';
  key.expressions.forEach((expr, i) => (i === 0 ? qb.orderBy(expr, dir) : qb.addOrderBy(expr, dir)));
  const rows = await fetch(qb.limit(size + 1));
  const hasMore = rows.length > size;
  const nodes = rows.slice(0, size);
  if (backward) nodes.reverse();
  return {
    nodes,
    cursors: nodes.map((n) => encodeCursor(key.values(n))),
    hasNextPage: backward ? Boolean(cursor) : hasMore,
    hasPreviousPage: backward ? hasMore : Boolean(cursor),
  };
}

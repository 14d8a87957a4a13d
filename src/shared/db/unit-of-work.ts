import type { DataSource, EntityManager } from 'typeorm';

/**
 * A DB handle plus the hooks that must wait for commit (publishing events): a subscriber must never
 * hear of a row that a rollback then removes.
 */
export interface UnitOfWork {
  manager: EntityManager;
  afterCommit(fn: () => void | Promise<void>): void;
}

/** Outside a transaction there is nothing to wait for. */
export function autoCommit(manager: EntityManager): UnitOfWork {
  return { manager, afterCommit: (fn) => void Promise.resolve().then(fn) };
}

/**
 * Runs fn in a transaction, then its after-commit hooks. A failing hook cannot undo the commit, so
 * it is reported to onHookError rather than failing the caller.
 */
export async function inTransaction<T>(
  db: DataSource,
  fn: (uow: UnitOfWork) => Promise<T>,
  onHookError: (err: unknown) => void = (err) => console.error('after-commit hook failed', err),
): Promise<T> {
  const hooks: Array<() => void | Promise<void>> = [];
  const result = await db.transaction((manager) => fn({ manager, afterCommit: (h) => hooks.push(h) }));
  for (const h of hooks) {
    try {
      await h();
    } catch (err) {
      onHookError(err);
    }
  }
  return result;
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger as OrmLogger } from 'typeorm';
import type { Logger } from '../logger';

/**
 * Counts SQL statements per GraphQL operation. The count is reported in the response extensions
 * outside production, which is how tests and benchmarks prove DataLoader keeps it bounded.
 */
export interface QueryScope {
  count: number;
}

const scope = new AsyncLocalStorage<QueryScope>();
/** Every statement this process has sent, in any mode: benchmarks divide it by their requests. */
let total = 0;

export function statementsSent(): number {
  return total;
}

export function withQueryScope<T>(fn: () => T): { scope: QueryScope; result: T } {
  const s: QueryScope = { count: 0 };
  return { scope: s, result: scope.run(s, fn) };
}

export function currentQueryScope(): QueryScope | undefined {
  return scope.getStore();
}

export class CountingOrmLogger implements OrmLogger {
  constructor(private readonly logger: Logger) {}

  logQuery(query: string): void {
    total++;
    const s = scope.getStore();
    if (s) s.count++;
    this.logger.trace({ query }, 'sql');
  }
  logQueryError(error: string | Error, query: string): void {
    this.logger.debug({ err: error, query }, 'sql error');
  }
  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ time, query }, 'slow sql');
  }
  logSchemaBuild(): void {}
  logMigration(message: string): void {
    this.logger.info(message);
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.debug(String(message));
  }
}

import { DataSource } from 'typeorm';
import type { Config } from '../../config';
import type { Logger } from '../logger';
import { dataSourceOptions } from '../../../ormconfig';
import { startEmbeddedPostgres } from './embedded';
import { CountingOrmLogger } from './query-counter';

export interface Database {
  dataSource: DataSource;
  url: string;
  /** `embedded` when this process runs (or joined) the PostgreSQL under the data folder. */
  kind: 'external' | 'embedded';
  close(): Promise<void>;
}

/** Connects to DATABASE_URL, or to an embedded PostgreSQL, and applies pending migrations. */
export async function connectDatabase(config: Config, log: Logger): Promise<Database> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(config.dataDir, { onLog: (line) => log.trace({ postgres: line.trim() }) });
  const url = config.databaseUrl ?? embedded!.url;
  const dataSource = new DataSource(dataSourceOptions(url, new CountingOrmLogger(log)));
  try {
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const m of applied) log.info({ migration: m.name }, 'applied migration');
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw err;
  }
  return {
    dataSource,
    url,
    kind: embedded ? 'embedded' : 'external',
    async close() {
      await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

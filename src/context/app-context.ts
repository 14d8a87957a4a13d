import type { DataSource } from 'typeorm';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config';
import type { Logger } from '../shared/logger';
import { type PubSubHandle, createAppPubSub } from '../shared/pubsub';
import { TokenService } from '../modules/users/auth';
import { connectDatabase, type Database } from '../shared/db/database';
import { type InferenceClient, InferencePool } from '../../ml-runtime';

/** Everything created once per process; disposed in reverse order on shutdown. */
export interface AppContext {
  config: Config;
  log: Logger;
  db: DataSource;
  database: Database;
  pubSub: PubSubHandle;
  tokens: TokenService;
  metrics: Registry;
  /** Null when disabled by configuration (ML_ENABLED=false). */
  inference: InferenceClient | null;
  dispose(): Promise<void>;
}

export async function createAppContext(config: Config, log: Logger): Promise<AppContext> {
  const database = await connectDatabase(config, log);
  const pubSub = createAppPubSub(config.redisUrl);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'colloquy_' });
  // Workers start in the background; /readyz reports the pool ready once they have loaded the models.
  const inference = config.inference.enabled
    ? new InferencePool({ ...config.inference.pool, registry: metrics, logger: log })
    : null;
  inference?.ready().catch((err) => log.error({ err }, 'inference pool failed to start'));
  return {
    config,
    log,
    db: database.dataSource,
    database,
    pubSub,
    tokens: new TokenService(config.tokenSecret, config.tokenTtlSeconds),
    metrics,
    inference,
    async dispose() {
      await inference?.close();
      await pubSub.close();
      await database.close();
    },
  };
}

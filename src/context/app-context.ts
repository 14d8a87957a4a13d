import type { DataSource } from 'typeorm';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config';
import type { Logger } from '../shared/logger';
import { type PubSubHandle, createAppPubSub } from '../shared/pubsub';
import { type RateLimiter, createRateLimiter } from '../shared/rate-limiter';
import { TokenService } from '../modules/users/auth';
import { connectDatabase, type Database } from '../shared/db/database';
import { type InferenceClient, InferencePool } from '../../ml-runtime';
import { DISPATCHER_DEFAULTS, ModerationDispatcher } from '../modules/moderation/dispatcher';
import { decisionPublisher } from '../modules/moderation/publish';
import { RecommenderStore } from '../modules/feed/recommender-store';
import { watchFeedContent } from '../modules/feed/shared-lists';
import { PostEmbeddings, embedderFromPool } from '../modules/feed/post-embeddings';
import { registerPostEmbeddings, watchPublishedPosts } from '../modules/feed/content-candidates';

/** Everything created once per process; disposed in reverse order on shutdown. */
export interface AppContext {
  config: Config;
  log: Logger;
  db: DataSource;
  database: Database;
  pubSub: PubSubHandle;
  tokens: TokenService;
  /** Cost budgets, in Redis when REDIS_URL is set so that every process draws on the same ones. */
  rateLimiter: RateLimiter;
  metrics: Registry;
  /** Null when disabled by configuration (ML_ENABLED=false); then content is published unscored. */
  inference: InferenceClient | null;
  /** Null when this process does not consume moderation jobs. */
  dispatcher: ModerationDispatcher | null;
  /** The collaborative model in the pool; null without a pool. */
  recommender: RecommenderStore | null;
  dispose(): Promise<void>;
}

export async function createAppContext(config: Config, log: Logger): Promise<AppContext> {
  const database = await connectDatabase(config, log);
  const pubSub = createAppPubSub(config.redisUrl, config.redisPrefix);
  const rateLimiter = createRateLimiter(config.rateLimit, config.redisUrl, config.redisPrefix);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'colloquy_' });
  // Workers start in the background; /readyz reports the pool ready once they have loaded the models.
  const inference = config.inference.enabled
    ? new InferencePool({ ...config.inference.pool, registry: metrics, logger: log })
    : null;
  inference?.ready().catch((err) => log.error({ err }, 'inference pool failed to start'));
  const dispatcher =
    inference && config.moderation.dispatcher
      ? new ModerationDispatcher(database.dataSource, database.url, inference, decisionPublisher(pubSub.pubSub, database.dataSource), log, {
          ...DISPATCHER_DEFAULTS,
          batchSize: config.moderation.batchSize,
          leaseMs: config.moderation.leaseMs,
          pollMs: config.moderation.pollMs,
        })
      : null;
  await dispatcher?.start();
  const recommender = inference ? new RecommenderStore(config.recommender.dir, inference, log) : null;
  watchFeedContent(pubSub.pubSub, database.dataSource);
  if (inference) {
    // Post vectors for the content feed source and related posts; without a pool those use tags.
    const embeddings = new PostEmbeddings(embedderFromPool(inference), log);
    registerPostEmbeddings(database.dataSource, embeddings);
    watchPublishedPosts(pubSub.pubSub, database.dataSource, embeddings);
  }
  // Loads once the pool is up; a missing model only means feeds rank without collaborative scores.
  if (recommender) void inference!.ready().then(() => recommender.start(config.recommender.reloadMs), () => undefined);
  return {
    config,
    log,
    db: database.dataSource,
    database,
    pubSub,
    tokens: new TokenService(config.tokenSecret, config.tokenTtlSeconds),
    rateLimiter,
    metrics,
    inference,
    dispatcher,
    recommender,
    async dispose() {
      recommender?.stop();
      await dispatcher?.stop();
      await inference?.close();
      await pubSub.close();
      await rateLimiter.close();
      await database.close();
    },
  };
}

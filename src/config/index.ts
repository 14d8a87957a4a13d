import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { optionsFromEnv, type PoolOptions } from '../../ml-runtime';

/** Typed configuration, parsed once from the environment. Nothing else in the code reads process.env. */
export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** External PostgreSQL; when unset an embedded server is started under `dataDir`. */
  databaseUrl: string | undefined;
  /** Redis for cross-process pub/sub; when unset pub/sub is in-process. */
  redisUrl: string | undefined;
  /** Prefix of every Redis pub/sub channel, so several deployments (or test runs) can share one Redis. */
  redisPrefix: string;
  logLevel: string;
  dataDir: string;
  tokenSecret: string;
  tokenTtlSeconds: number;
  /** Seed a demo community when the database holds no users. */
  seedDemo: boolean;
  limits: {
    maxBodyBytes: number;
    maxDepth: number;
    maxCost: number;
  };
  /** Persisted queries over HTTP and WebSocket (src/server/persisted-queries.ts). */
  persistedQueries: { mode: 'off' | 'apq' | 'allowlist'; manifestPath: string | undefined };
  /** Freshness of GET query responses in seconds (`Cache-Control: max-age`); 0 sends `no-store`. */
  getMaxAgeSeconds: number;
  /** How often WebSocket peers are pinged; one that has not answered by the next ping is dropped. */
  wsKeepAliveMs: number;
  /**
   * Cost budgets (leaky buckets): each member account (sessions and API tokens together) and each
   * anonymous IP spends its operations' computed cost; spent points come back over one window.
   */
  rateLimit: { enabled: boolean; memberPoints: number; anonymousPoints: number; windowSeconds: number };
  /** The TensorFlow.js inference pool (ml-runtime); off skips starting its workers. */
  inference: { enabled: boolean; pool: PoolOptions };
  moderation: {
    /** Whether this process consumes moderation jobs (any number of processes may). */
    dispatcher: boolean;
    batchSize: number;
    leaseMs: number;
    pollMs: number;
    /** How far back `moderationVerdicts(after:)` can resume. */
    retentionDays: number;
  };
  recommender: {
    /** Where `train:recommender` writes models and `current.json`. */
    dir: string;
    /** How often servers look for a newly trained model. */
    reloadMs: number;
  };
  feed: {
    /** feedUpdates re-ranks (and emits) at most once per interval per subscriber. */
    updateIntervalMs: number;
    /** How much of the top of FOR_YOU feedUpdates watches. */
    updateTopN: number;
    /**
     * How long a member's cached FOR_YOU ranking may go without taking in newly published posts
     * (posts by people they follow, and posts taken down, count at once; feedUpdates re-ranks at once).
     */
    catchUpMs: number;
  };
  /** Demo accounts keep posting a mix of content so the moderation console is alive on first open. */
  demo: { enabled: boolean; intervalMs: number };
}

export class ConfigError extends Error {}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

/**
 * In development the token secret is generated once and kept in the data folder, so tokens survive
 * restarts without any setup; production must be given one explicitly.
 */
function tokenSecret(env: NodeJS.ProcessEnv, mode: Config['env'], dataDir: string): string {
  const given = env.TOKEN_SECRET;
  if (given) {
    if (given.length < 32) throw new ConfigError('TOKEN_SECRET must be at least 32 characters');
    return given;
  }
  if (mode === 'production') throw new ConfigError('TOKEN_SECRET is required when NODE_ENV=production');
  const file = path.join(dataDir, 'token-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

function persistedQueries(env: NodeJS.ProcessEnv): Config['persistedQueries'] {
  const mode = env.PERSISTED_QUERIES || 'apq';
  if (mode !== 'off' && mode !== 'apq' && mode !== 'allowlist') throw new ConfigError(`PERSISTED_QUERIES must be off, apq or allowlist, got "${mode}"`);
  const manifestPath = env.PERSISTED_QUERIES_MANIFEST ? path.resolve(env.PERSISTED_QUERIES_MANIFEST) : undefined;
  if (mode === 'allowlist' && !manifestPath) throw new ConfigError('PERSISTED_QUERIES=allowlist needs PERSISTED_QUERIES_MANIFEST (an apollo-persisted-query-manifest file)');
  return { mode, manifestPath };
}

/** For the TypeORM CLI, which must not generate secrets as a side effect of loading ormconfig. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.DATABASE_URL || undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const mode: Config['env'] =
    env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const dataDir = path.resolve(env.DATA_DIR || '.data');
  return {
    env: mode,
    port: intVar(env, 'PORT', 4000),
    host: env.HOST || '0.0.0.0',
    databaseUrl: databaseUrlFromEnv(env),
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX || '',
    logLevel: env.LOG_LEVEL || (mode === 'test' ? 'silent' : 'info'),
    dataDir,
    tokenSecret: tokenSecret(env, mode, dataDir),
    tokenTtlSeconds: intVar(env, 'TOKEN_TTL_SECONDS', 7 * 24 * 3600),
    seedDemo: env.SEED_DEMO !== 'false',
    limits: {
      maxBodyBytes: intVar(env, 'MAX_BODY_BYTES', 100_000),
      maxDepth: intVar(env, 'MAX_QUERY_DEPTH', 10),
      maxCost: intVar(env, 'MAX_QUERY_COST', 5_000),
    },
    persistedQueries: persistedQueries(env),
    getMaxAgeSeconds: intVar(env, 'GET_MAX_AGE_SECONDS', 0),
    wsKeepAliveMs: intVar(env, 'WS_KEEP_ALIVE_MS', 12_000),
    rateLimit: {
      enabled: env.RATE_LIMIT_ENABLED !== 'false',
      memberPoints: intVar(env, 'RATE_LIMIT_POINTS', 100_000),
      anonymousPoints: intVar(env, 'RATE_LIMIT_ANONYMOUS_POINTS', 20_000),
      windowSeconds: Math.max(1, intVar(env, 'RATE_LIMIT_WINDOW_S', 3_600)),
    },
    inference: { enabled: env.ML_ENABLED !== 'false', pool: optionsFromEnv(env) },
    moderation: {
      dispatcher: env.MODERATION_DISPATCHER !== 'false',
      batchSize: intVar(env, 'MODERATION_BATCH_SIZE', 128),
      leaseMs: intVar(env, 'MODERATION_LEASE_MS', 30_000),
      pollMs: intVar(env, 'MODERATION_POLL_MS', 1_000),
      retentionDays: intVar(env, 'VERDICT_RETENTION_DAYS', 30),
    },
    recommender: {
      dir: path.resolve(env.RECOMMENDER_DIR || path.join(dataDir, 'recommender')),
      reloadMs: intVar(env, 'RECOMMENDER_RELOAD_MS', 30_000),
    },
    feed: {
      updateIntervalMs: intVar(env, 'FEED_UPDATE_INTERVAL_MS', 2_000),
      updateTopN: intVar(env, 'FEED_UPDATE_TOP', 20),
      catchUpMs: intVar(env, 'FEED_CATCH_UP_MS', 5_000),
    },
    // On by default only for the embedded database outside production: a newcomer's `npm start`.
    demo: {
      enabled: env.DEMO_MODE ? env.DEMO_MODE === 'true' : !databaseUrlFromEnv(env) && mode !== 'production' && mode !== 'test',
      intervalMs: intVar(env, 'DEMO_INTERVAL_MS', 4_000),
    },
  };
}

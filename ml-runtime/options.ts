import { availableParallelism } from 'node:os';
import type { Registry } from 'prom-client';
import type { BackendName, ModelName } from './protocol';
import { parseBackendName } from './backends';
import { defaultModelDir } from './paths';

/** pino-compatible; the pool logs backend choices and worker restarts through it. */
export interface PoolLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ModelLimits {
  maxBatchSize: number;
  maxQueueLength: number;
}

export interface PoolOptions {
  /** Worker threads. Default: cores − 1 (the main thread serves requests), at least 1. */
  workers?: number;
  /** Force a backend (fails if unavailable); default: the best one present. */
  backend?: BackendName;
  /** Model name → weights directory. Default: the committed models under ml-runtime/models. */
  modelDirs?: Partial<Record<ModelName, string>>;
  /** Largest batch sent to a worker. */
  maxBatchSize?: number;
  /** How long the oldest queued call may wait for a batch to fill while a worker is idle. */
  maxQueueDelayMs?: number;
  /** Queued inputs beyond which calls fail with OverloadedError. */
  maxQueueLength?: number;
  /** Deadline of calls that do not set their own. */
  defaultDeadlineMs?: number;
  /**
   * Per-model batch size and queue bound, in that model's inputs; a model without an entry here
   * or in `DEFAULTS.limits` uses `maxBatchSize` and `maxQueueLength`.
   */
  limits?: Partial<Record<ModelName, Partial<ModelLimits>>>;
  /** Registry for the pool's Prometheus metrics; none: metrics are not exported. */
  registry?: Registry;
  metricsPrefix?: string;
  logger?: PoolLogger;
}

/*
 * Defaults measured with `npm run bench:inference` on a 2-core machine (WASM): batches of 256
 * reach most of the peak throughput while a batch still takes only a few milliseconds, and
 * batches form naturally while the worker is busy, so waiting for an idle worker's batch to fill
 * (a queue delay) only added latency.
 */
export const DEFAULTS = {
  maxBatchSize: 256,
  maxQueueDelayMs: 0,
  maxQueueLength: 16384,
  defaultDeadlineMs: 2000,
  /*
   * A recommend request costs about what 150 texts do (a fold-in over the graph, ~5 ms on
   * Gowalla, against ~30 µs a text), so batches and the queue are counted in far fewer of them: 16
   * requests share one matMul for the low-pass term while a batch stays under ~100 ms, and 512
   * queued requests are already seconds of work, beyond any feed's deadline.
   */
  limits: { recommender: { maxBatchSize: 16, maxQueueLength: 512 } } as Partial<Record<ModelName, ModelLimits>>,
} as const;

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

export function defaultModelDirs(): Partial<Record<ModelName, string>> {
  return { moderation: defaultModelDir('moderation'), encoder: defaultModelDir('text-encoder') };
}

const stderrLogger: PoolLogger = {
  info: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'info', msg, ...obj })}\n`),
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...obj })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'error', msg, ...obj })}\n`),
};
export const defaultLogger = stderrLogger;

/**
 * Pool options from `ML_*` environment variables, for the server's config module (the only
 * place meant to read the environment):
 * ML_BACKEND (tensorflow-gpu|tensorflow|wasm|cpu), ML_WORKERS, ML_MAX_BATCH_SIZE,
 * ML_MAX_QUEUE_DELAY_MS, ML_MAX_QUEUE_LENGTH, ML_DEADLINE_MS, ML_RECOMMEND_MAX_BATCH_SIZE,
 * ML_RECOMMEND_MAX_QUEUE_LENGTH.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PoolOptions {
  const int = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${v}"`);
    return n;
  };
  return {
    backend: env.ML_BACKEND ? parseBackendName(env.ML_BACKEND) : undefined,
    workers: int('ML_WORKERS'),
    maxBatchSize: int('ML_MAX_BATCH_SIZE'),
    maxQueueDelayMs: int('ML_MAX_QUEUE_DELAY_MS'),
    maxQueueLength: int('ML_MAX_QUEUE_LENGTH'),
    defaultDeadlineMs: int('ML_DEADLINE_MS'),
    limits: {
      recommender: { maxBatchSize: int('ML_RECOMMEND_MAX_BATCH_SIZE'), maxQueueLength: int('ML_RECOMMEND_MAX_QUEUE_LENGTH') },
    },
  };
}

export * from './inference-client';
export * from './errors';
export { InferencePool } from './pool';
export { optionsFromEnv, DEFAULTS, type PoolOptions, type PoolLogger, type ModelLimits } from './options';
export { createPoolMetrics, type PoolMetrics } from './metrics';
export type { BackendName, ModelName, ModelIO } from './protocol';

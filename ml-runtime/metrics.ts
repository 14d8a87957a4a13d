/**
 * Prometheus metrics of the pool, registered on the caller's registry (the server exposes it at
 * /metrics). Without a registry they are still kept, just not exported.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface PoolMetrics {
  queueLength: Gauge<'model'>;
  batchSize: Histogram<'model'>;
  queueWaitSeconds: Histogram<'model'>;
  inferenceSeconds: Histogram<'model'>;
  errors: Counter<'model' | 'code'>;
  workerRestarts: Counter<string>;
  /** 1 for the backend the workers run, with the backend name as label. */
  backendInfo: Gauge<'backend'>;
  /** 1 for the version of each model the pool serves (a run-time load moves it). */
  modelInfo: Gauge<'model' | 'version'>;
}

export function createPoolMetrics(registry?: Registry, prefix = 'colloquy_ml_'): PoolMetrics {
  const registers = registry ? [registry] : [];
  return {
    queueLength: new Gauge({
      name: `${prefix}queue_length`,
      help: 'Inputs waiting for a worker',
      labelNames: ['model'],
      registers,
    }),
    batchSize: new Histogram({
      name: `${prefix}batch_size`,
      help: 'Inputs per batch sent to a worker',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    }),
    queueWaitSeconds: new Histogram({
      name: `${prefix}queue_wait_seconds`,
      help: 'Time from a call entering the queue to its batch being sent to a worker',
      labelNames: ['model'],
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    inferenceSeconds: new Histogram({
      name: `${prefix}inference_seconds`,
      help: 'Time a worker spent on one batch (featurise, infer, explain)',
      labelNames: ['model'],
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    errors: new Counter({
      name: `${prefix}errors_total`,
      help: 'Calls that failed, by error code',
      labelNames: ['model', 'code'],
      registers,
    }),
    workerRestarts: new Counter({
      name: `${prefix}worker_restarts_total`,
      help: 'Workers replaced after exiting unexpectedly',
      registers,
    }),
    backendInfo: new Gauge({
      name: `${prefix}backend_info`,
      help: 'TensorFlow.js backend the workers run (tf.getBackend()), as the backend label',
      labelNames: ['backend'],
      registers,
    }),
    modelInfo: new Gauge({
      name: `${prefix}model_info`,
      help: 'Model versions the pool serves, as the version label',
      labelNames: ['model', 'version'],
      registers,
    }),
  };
}

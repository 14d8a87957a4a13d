/**
 * Messages between the pool (main thread) and its workers. PROTOCOL.md documents the same union;
 * change both together.
 */
import type { ModerationResult } from './inference-client';

/** What each served model takes and returns per item; a new model is one more entry here. */
export interface ModelIO {
  moderation: { input: string; output: ModerationResult };
}
export type ModelName = keyof ModelIO;

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Passed as `workerData` when the worker starts. */
export interface WorkerInit {
  workerId: number;
  /** Forced backend, or undefined to take the best one present. */
  backend?: BackendName;
  /** Model name → directory with its committed weights. */
  modelDirs: Partial<Record<ModelName, string>>;
}

export type PoolToWorker =
  | {
      type: 'infer';
      batchId: number;
      model: ModelName;
      inputs: ModelIO[ModelName]['input'][];
    }
  | { type: 'shutdown' };

export type WorkerToPool =
  | {
      type: 'ready';
      workerId: number;
      /** `tf.getBackend()` after initialisation. */
      backend: string;
      /** What was tried before it, and why it was chosen. */
      backendReason: string;
      models: Partial<Record<ModelName, string>>;
    }
  | { type: 'init-failed'; workerId: number; message: string }
  | {
      type: 'result';
      batchId: number;
      outputs: ModelIO[ModelName]['output'][];
      /** Time spent in the model (featurise + infer + explain), measured in the worker. */
      inferMs: number;
    }
  | { type: 'failed'; batchId: number; message: string };

/**
 * Messages between the pool (main thread) and its workers. PROTOCOL.md documents the same union;
 * change both together.
 */
import type { ModerationResult, RecommendRequest, RecommendResult } from './inference-client';
import type { PackedModeration } from './moderation/packed';

/** What each served model takes and returns per item; a new model is one more entry here. */
export interface ModelIO {
  moderation: { input: string; output: ModerationResult };
  recommender: { input: RecommendRequest; output: RecommendResult };
  /** A post's text in, its unit-length vector out (one buffer per text). */
  encoder: { input: string; output: Float32Array };
}
export type ModelName = keyof ModelIO;

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Passed as `workerData` when the worker starts. */
export interface WorkerInit {
  workerId: number;
  /** Forced backend, or undefined to take the best one present. */
  backend?: BackendName;
  /**
   * Model name → directory: the configured models plus the last model activated by `load`, so
   * that a replacement worker serves what the pool serves.
   */
  modelDirs: Partial<Record<ModelName, string>>;
}

export type PoolToWorker =
  | {
      type: 'infer';
      batchId: number;
      model: ModelName;
      inputs: ModelIO[ModelName]['input'][];
    }
  /** Load a model beside the one being served (staged); the worker answers `loaded` or `load-failed`. */
  | { type: 'load'; loadId: number; model: ModelName; dir: string }
  /** Serve the staged model of `loadId` from the next batch on, releasing the previous one. */
  | { type: 'activate'; loadId: number; model: ModelName }
  /** Release the staged model of `loadId` (another worker failed to load it). */
  | { type: 'discard'; loadId: number; model: ModelName }
  | { type: 'shutdown' };

export type WorkerToPool =
  | {
      type: 'ready';
      workerId: number;
      /** `tf.getBackend()` after initialisation. */
      backend: string;
      /** What was tried before it, and why it was chosen. */
      backendReason: string;
      /** Name → version of each model the worker serves. */
      models: Partial<Record<ModelName, string>>;
      /**
       * Models in `modelDirs` that failed to load. Only models loaded at run time may fail here
       * (their directory can vanish before a replacement worker starts); the worker still serves
       * the others.
       */
      modelErrors?: Partial<Record<ModelName, string>>;
    }
  | { type: 'init-failed'; workerId: number; message: string }
  | {
      type: 'result';
      batchId: number;
      /** Empty when `packed` is present. */
      outputs: ModelIO[ModelName]['output'][];
      /** Moderation results as transferred typed arrays; the pool unpacks them (moderation/packed.ts). */
      packed?: PackedModeration;
      /** Time spent in the model (featurise + infer + explain), measured in the worker. */
      inferMs: number;
    }
  | { type: 'failed'; batchId: number; message: string }
  | { type: 'loaded'; loadId: number; model: ModelName; version: string; numItems?: number; loadMs: number }
  | { type: 'load-failed'; loadId: number; model: ModelName; message: string };

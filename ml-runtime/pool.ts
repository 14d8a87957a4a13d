/**
 * InferencePool: the worker-thread implementation of InferenceClient.
 *
 * Calls are queued per model and sent to idle workers in batches (see batcher.ts and
 * scheduling.ts). A worker holds at most one batch, so a crash loses exactly that batch, which is
 * retried once elsewhere. Every call settles exactly once: by its results, its deadline, or an
 * error; answers arriving for a settled call are dropped. Models loaded at run time (the
 * recommender) are switched in every worker at once (model-loads.ts).
 */
import { Worker } from 'node:worker_threads';
import { join, resolve as resolvePath } from 'node:path';
import { createPoolMetrics, type PoolMetrics } from './metrics';
import { DEFAULTS, defaultLogger, defaultModelDirs, defaultWorkerCount, type PoolLogger, type PoolOptions } from './options';
import { projectRoot } from './paths';
import { ModelLoads, type Loaded } from './model-loads';
import { unpackModeration, type PackedModeration } from './moderation/packed';
import { Scheduler, type Slot } from './scheduling';
import {
  BackendUnavailableError,
  InferenceError,
  InferenceFailedError,
  InvalidInputError,
  ModelNotLoadedError,
  OverloadedError,
  PoolClosedError,
} from './errors';
import type {
  InferenceCallOptions,
  InferenceClient,
  InferenceHealth,
  ModerationResult,
  RecommendRequest,
  RecommendResult,
} from './inference-client';
import type { ModelIO, ModelName, PoolToWorker, WorkerInit, WorkerToPool } from './protocol';

/**
 * Worker threads need JavaScript. Compiled, worker.js sits beside this file; under ts-jest this
 * file is the .ts source, so use the build output (`npm test` builds first).
 */
function workerScript(): string {
  return __filename.endsWith('.ts') ? join(projectRoot(), 'dist', 'ml-runtime', 'worker.js') : join(__dirname, 'worker.js');
}

/** The shape checks a worker cannot recover from inside a shared batch; ids are filtered there. */
function invalidRecommendRequest(r: RecommendRequest): string | undefined {
  if (typeof r !== 'object' || r === null || !Array.isArray(r.items)) return 'items must be an array of item ids';
  if (!Number.isInteger(r.k) || r.k < 0) return `k must be a non-negative integer, got ${String(r.k)}`;
  if (r.candidates !== undefined && !Array.isArray(r.candidates)) return 'candidates must be an array of item ids when present';
  return undefined;
}

export class InferencePool implements InferenceClient {
  private readonly log: PoolLogger;
  private readonly metrics: PoolMetrics;
  private readonly scheduler: Scheduler;
  private readonly slots: Slot[] = [];
  private readonly backendOption: PoolOptions['backend'];
  /** Model → weights directory a new worker loads: the configured ones, then each activated load. */
  private readonly dirs: Partial<Record<ModelName, string>>;
  /** Model → version the pool serves; a worker gets a model's batches only while it serves this one. */
  private readonly models: Partial<Record<ModelName, string>> = {};
  private readonly loads: ModelLoads<Slot>;
  private nextWorkerId = 1;
  private closing = false;
  private failure?: Error;
  private backendName: string | null = null;
  private backendReason: string | null = null;
  private readonly readyPromise: Promise<void>;
  private markReady!: () => void;
  private markFailed!: (err: Error) => void;

  constructor(options: PoolOptions = {}) {
    this.log = options.logger ?? defaultLogger;
    this.metrics = createPoolMetrics(options.registry, options.metricsPrefix);
    this.backendOption = options.backend;
    this.dirs = { ...(options.modelDirs ?? defaultModelDirs()) };
    this.scheduler = new Scheduler(
      {
        maxBatchSize: options.maxBatchSize ?? DEFAULTS.maxBatchSize,
        maxQueueDelayMs: options.maxQueueDelayMs ?? DEFAULTS.maxQueueDelayMs,
        maxQueueLength: options.maxQueueLength ?? DEFAULTS.maxQueueLength,
        defaultDeadlineMs: options.defaultDeadlineMs ?? DEFAULTS.defaultDeadlineMs,
        limits: options.limits ?? {},
      },
      this.metrics,
      this.slots,
      (slot, model) => slot.models[model] !== undefined && slot.models[model] === this.models[model],
    );
    this.loads = new ModelLoads<Slot>((model, dir, loaded) => this.activated(model, dir, loaded));
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.markFailed = reject;
    });
    this.readyPromise.catch(() => undefined);
    for (let i = 0; i < Math.max(1, options.workers ?? defaultWorkerCount()); i++) this.slots.push(this.spawn());
  }

  moderate(texts: string[], opts?: InferenceCallOptions): Promise<ModerationResult[]> {
    return this.infer('moderation', texts, opts);
  }

  recommend(requests: RecommendRequest[], opts?: InferenceCallOptions): Promise<RecommendResult[]> {
    for (let i = 0; i < requests.length; i++) {
      const problem = invalidRecommendRequest(requests[i]);
      if (problem) return this.refuse('recommender', new InvalidInputError(`recommend request ${i}: ${problem}`));
    }
    return this.infer('recommender', requests, opts);
  }

  embed(texts: string[], opts?: InferenceCallOptions): Promise<Float32Array[]> {
    const bad = texts.findIndex((t) => typeof t !== 'string');
    if (bad >= 0) return this.refuse('encoder', new InvalidInputError(`embed text ${bad} is not a string`));
    return this.infer('encoder', texts, opts);
  }

  loadRecommender(dir: string): Promise<{ numItems: number; version: string }> {
    // Workers resolve relative paths against the same cwd, but the log and `dirs` should not depend on it.
    return this.loads.load('recommender', resolvePath(dir), () => this.slots, () => this.refusal());
  }

  /** Runs any served model; `moderate`, `recommend` and `embed` are this for their model. */
  infer<M extends ModelName>(model: M, inputs: ModelIO[M]['input'][], opts: InferenceCallOptions = {}): Promise<ModelIO[M]['output'][]> {
    const refused = this.refusal() ?? (this.dirs[model] === undefined ? new ModelNotLoadedError(model) : undefined);
    if (refused) return this.refuse(model, refused);
    if (inputs.length === 0) return Promise.resolve([]);
    const queued = this.scheduler.queued(model);
    if (queued + inputs.length > this.scheduler.limits(model).maxQueueLength) {
      return this.refuse(model, new OverloadedError(this.scheduler.retryHintMs(model, queued)));
    }
    return this.scheduler.enqueue(model, inputs, opts.deadlineMs) as Promise<ModelIO[M]['output'][]>;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  backend(): string {
    return this.backendName ?? 'unknown';
  }

  health(): InferenceHealth {
    return {
      ready: !this.failure && this.slots.some((s) => s.ready),
      backend: this.backendName,
      backendReason: this.backendReason,
      workers: this.slots.filter((s) => s.ready).length,
      queueLength: this.scheduler.queuedTotal(),
      models: { ...this.models },
      ...(this.failure ? { error: this.failure.message } : {}),
    };
  }

  /** Batches currently held by workers (observability and tests). */
  inFlightBatches(): number {
    return this.slots.filter((s) => s.batch).length;
  }

  /**
   * Terminates one worker as if it had crashed (chaos testing, or an operator unsticking a
   * worker). Its batch is retried on another worker and a replacement is started.
   */
  async terminateWorker(index: number): Promise<void> {
    await this.slots[index % this.slots.length].worker.terminate();
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.loads.abort(new PoolClosedError());
      await this.scheduler.drain();
    }
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.ready = false;
        slot.worker.postMessage({ type: 'shutdown' } satisfies PoolToWorker);
        await slot.worker.terminate();
      }),
    );
  }

  private refusal(): InferenceError | undefined {
    if (this.closing) return new PoolClosedError();
    if (this.failure) return new BackendUnavailableError(this.failure.message);
    return undefined;
  }

  private refuse<T>(model: ModelName, err: InferenceError): Promise<T> {
    this.metrics.errors.inc({ model, code: err.code });
    return Promise.reject(err);
  }

  private spawn(): Slot {
    const id = this.nextWorkerId++;
    const init: WorkerInit = { workerId: id, backend: this.backendOption, modelDirs: { ...this.dirs } };
    const worker = new Worker(workerScript(), { workerData: init });
    const slot: Slot = { id, worker, ready: false, models: {} };
    worker.on('message', (msg: WorkerToPool) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.log.error({ worker: id, err: err.message }, 'inference worker error'));
    worker.on('exit', (code) => this.onExit(slot, code));
    return slot;
  }

  private onMessage(slot: Slot, msg: WorkerToPool): void {
    switch (msg.type) {
      case 'ready':
        return this.onReady(slot, msg);
      case 'init-failed':
        return this.fail(new BackendUnavailableError(msg.message));
      case 'result':
        return this.scheduler.onResult(slot, msg.batchId, msg.packed ? this.unpack(slot, msg.batchId, msg.packed) : msg.outputs, msg.inferMs);
      case 'failed':
        return this.scheduler.onFailed(slot, msg.batchId, new InferenceFailedError(msg.message));
      case 'loaded':
        this.log.info({ worker: slot.id, model: msg.model, version: msg.version, loadMs: Math.round(msg.loadMs) }, 'model loaded');
        this.loads.onLoaded(slot, msg.loadId, msg.version, msg.numItems, this.slots);
        return this.scheduler.pump();
      case 'load-failed':
        this.log.error({ worker: slot.id, model: msg.model, err: msg.message }, 'model failed to load');
        return this.loads.onLoadFailed(msg.loadId, msg.message, this.slots);
    }
  }

  /** Result objects from a packed batch; span texts come from the inputs of the slot's batch. */
  private unpack(slot: Slot, batchId: number, packed: PackedModeration): unknown[] {
    // A stale answer (the batch was already settled elsewhere) is dropped by the scheduler.
    if (slot.batch?.id !== batchId) return [];
    const texts: string[] = [];
    for (const c of slot.batch.chunks) for (let i = 0; i < c.length; i++) texts.push(c.call.inputs[c.offset + i] as string);
    return unpackModeration(packed, texts);
  }

  private onReady(slot: Slot, msg: Extract<WorkerToPool, { type: 'ready' }>): void {
    slot.ready = true;
    slot.models = { ...msg.models };
    if (msg.modelErrors) this.log.error({ worker: slot.id, errors: msg.modelErrors }, 'worker serves without some models');
    if (this.backendName && this.backendName !== msg.backend) {
      this.log.warn({ worker: slot.id, backend: msg.backend, others: this.backendName }, 'workers run different backends');
    }
    if (!this.backendName) {
      this.log.info({ backend: msg.backend, reason: msg.backendReason, models: msg.models }, 'inference pool ready');
      this.metrics.backendInfo.set({ backend: msg.backend }, 1);
    }
    this.backendName = msg.backend;
    this.backendReason = msg.backendReason;
    for (const [model, version] of Object.entries(msg.models) as Array<[ModelName, string]>) {
      // The first worker names the configured models' versions; a later one that disagrees (its
      // directory was rewritten) is not sent that model's batches.
      if (this.models[model] === undefined) this.setVersion(model, version);
      else if (this.models[model] !== version) this.log.warn({ worker: slot.id, model, version, serving: this.models[model] }, 'worker loaded another version');
    }
    this.markReady();
    this.scheduler.pump();
  }

  /** Every worker holds the new model; from the `activate` posted next, all of them serve it. */
  private activated(model: ModelName, dir: string, loaded: Loaded): void {
    this.dirs[model] = dir;
    this.setVersion(model, loaded.version);
    for (const slot of this.slots) slot.models[model] = loaded.version;
    this.log.info({ model, version: loaded.version, dir }, 'model activated');
  }

  private setVersion(model: ModelName, version: string): void {
    const previous = this.models[model];
    if (previous !== undefined) this.metrics.modelInfo.remove({ model, version: previous });
    this.models[model] = version;
    this.metrics.modelInfo.set({ model, version }, 1);
  }

  private onExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || (this.closing && this.scheduler.isIdle())) return;
    slot.ready = false;
    const batch = this.scheduler.takeBatch(slot);
    if (this.failure) return;
    this.log.warn({ worker: slot.id, code, lostBatch: batch?.id }, 'inference worker exited; replacing it');
    this.metrics.workerRestarts.inc();
    if (batch) this.scheduler.retry(batch);
    const replacement = this.spawn();
    this.slots[index] = replacement;
    this.loads.onReplaced(slot, replacement);
    this.scheduler.pump();
  }

  /** Workers cannot start (e.g. a forced backend is missing): fail loudly, reject everything. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.log.error({ err: err.message }, 'inference pool cannot start');
    this.markFailed(err);
    this.loads.abort(err);
    this.scheduler.rejectAll(err);
    for (const slot of this.slots) void slot.worker.terminate();
  }
}

/**
 * InferencePool: the worker-thread implementation of InferenceClient.
 *
 * Calls are queued per model and sent to idle workers in batches (see batcher.ts). A worker holds
 * at most one batch, so a crash loses exactly that batch, which is retried once elsewhere. Every
 * call settles exactly once: by its results, its deadline, or an error; answers arriving for a
 * settled call are dropped.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { BatchQueue, chunksOf, type Call, type Chunk } from './batcher';
import { createPoolMetrics, type PoolMetrics } from './metrics';
import { DEFAULTS, defaultLogger, defaultModelDirs, defaultWorkerCount, type PoolLogger, type PoolOptions } from './options';
import { projectRoot } from './paths';
import {
  BackendUnavailableError,
  DeadlineExceededError,
  InferenceError,
  InferenceFailedError,
  OverloadedError,
  PoolClosedError,
  WorkerCrashedError,
} from './errors';
import type { InferenceCallOptions, InferenceClient, InferenceHealth, ModerationResult } from './inference-client';
import type { ModelIO, ModelName, PoolToWorker, WorkerInit, WorkerToPool } from './protocol';

type AnyCall = Call<unknown, unknown>;
type AnyChunk = Chunk<unknown, unknown>;

interface Slot {
  id: number;
  worker: Worker;
  ready: boolean;
  batch?: { id: number; model: ModelName; chunks: AnyChunk[]; items: number };
}

/**
 * Worker threads need JavaScript. Compiled, worker.js sits beside this file; under ts-jest this
 * file is the .ts source, so use the build output (`npm test` builds first).
 */
function workerScript(): string {
  return __filename.endsWith('.ts') ? join(projectRoot(), 'dist', 'ml-runtime', 'worker.js') : join(__dirname, 'worker.js');
}

export class InferencePool implements InferenceClient {
  private readonly opts: Required<Omit<PoolOptions, 'registry' | 'backend' | 'metricsPrefix'>> & Pick<PoolOptions, 'backend'>;
  private readonly log: PoolLogger;
  private readonly metrics: PoolMetrics;
  private readonly queues = new Map<ModelName, BatchQueue<unknown, unknown>>();
  private readonly slots: Slot[] = [];
  private nextBatchId = 1;
  private nextWorkerId = 1;
  private delayTimer?: NodeJS.Timeout;
  private closing = false;
  private failure?: Error;
  private backendName: string | null = null;
  private backendReason: string | null = null;
  private models: Record<string, string> = {};
  private readonly readyPromise: Promise<void>;
  private markReady!: () => void;
  private markFailed!: (err: Error) => void;
  private drained?: () => void;
  /** Inputs per millisecond, smoothed; sizes the retry hint of OverloadedError. */
  private throughput = 0;

  constructor(options: PoolOptions = {}) {
    this.opts = {
      workers: options.workers ?? defaultWorkerCount(),
      backend: options.backend,
      modelDirs: options.modelDirs ?? defaultModelDirs(),
      maxBatchSize: options.maxBatchSize ?? DEFAULTS.maxBatchSize,
      maxQueueDelayMs: options.maxQueueDelayMs ?? DEFAULTS.maxQueueDelayMs,
      maxQueueLength: options.maxQueueLength ?? DEFAULTS.maxQueueLength,
      defaultDeadlineMs: options.defaultDeadlineMs ?? DEFAULTS.defaultDeadlineMs,
      logger: options.logger ?? defaultLogger,
    };
    this.log = this.opts.logger;
    this.metrics = createPoolMetrics(options.registry, options.metricsPrefix);
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.markFailed = reject;
    });
    this.readyPromise.catch(() => undefined);
    for (const name of Object.keys(this.opts.modelDirs) as ModelName[]) this.queues.set(name, new BatchQueue());
    for (let i = 0; i < Math.max(1, this.opts.workers); i++) this.slots.push(this.spawn());
  }

  moderate(texts: string[], opts?: InferenceCallOptions): Promise<ModerationResult[]> {
    return this.infer('moderation', texts, opts);
  }

  /** Runs any served model; `moderate` is this for 'moderation'. */
  infer<M extends ModelName>(model: M, inputs: ModelIO[M]['input'][], opts: InferenceCallOptions = {}): Promise<ModelIO[M]['output'][]> {
    const queue = this.queues.get(model);
    const fail = (err: InferenceError) => {
      this.metrics.errors.inc({ model, code: err.code });
      return Promise.reject(err);
    };
    if (this.closing) return fail(new PoolClosedError());
    if (this.failure) return fail(new BackendUnavailableError(this.failure.message));
    if (!queue) return fail(new InferenceFailedError(`model ${model} is not served by this pool`));
    if (inputs.length === 0) return Promise.resolve([]);
    if (queue.size + inputs.length > this.opts.maxQueueLength) return fail(new OverloadedError(this.retryHintMs(queue.size)));

    const deadlineMs = opts.deadlineMs ?? this.opts.defaultDeadlineMs;
    return new Promise((resolve, reject) => {
      const call: AnyCall = {
        inputs,
        outputs: new Array(inputs.length),
        remaining: inputs.length,
        settled: false,
        enqueuedAt: performance.now(),
        resolve: (out) => {
          clearTimeout(timer);
          resolve(out as ModelIO[M]['output'][]);
        },
        reject: (err) => {
          clearTimeout(timer);
          if (err instanceof InferenceError) this.metrics.errors.inc({ model, code: err.code });
          reject(err);
        },
      };
      const timer = setTimeout(() => this.settle(call, new DeadlineExceededError(deadlineMs)), deadlineMs);
      queue.push(chunksOf(call, this.opts.maxBatchSize));
      this.metrics.queueLength.set({ model }, queue.size);
      this.pump();
    });
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  backend(): string {
    return this.backendName ?? 'unknown';
  }

  health(): InferenceHealth {
    let queueLength = 0;
    for (const q of this.queues.values()) queueLength += q.size;
    return {
      ready: !this.failure && this.slots.some((s) => s.ready),
      backend: this.backendName,
      backendReason: this.backendReason,
      workers: this.slots.filter((s) => s.ready).length,
      queueLength,
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
      clearTimeout(this.delayTimer);
      this.pump();
      if (!this.isIdle()) await new Promise<void>((resolve) => (this.drained = resolve));
    }
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.ready = false;
        slot.worker.postMessage({ type: 'shutdown' } satisfies PoolToWorker);
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const id = this.nextWorkerId++;
    const init: WorkerInit = { workerId: id, backend: this.opts.backend, modelDirs: this.opts.modelDirs };
    const worker = new Worker(workerScript(), { workerData: init });
    const slot: Slot = { id, worker, ready: false };
    worker.on('message', (msg: WorkerToPool) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.log.error({ worker: id, err: err.message }, 'inference worker error'));
    worker.on('exit', (code) => this.onExit(slot, code));
    return slot;
  }

  private onMessage(slot: Slot, msg: WorkerToPool): void {
    switch (msg.type) {
      case 'ready':
        slot.ready = true;
        if (this.backendName && this.backendName !== msg.backend) {
          this.log.warn({ worker: slot.id, backend: msg.backend, others: this.backendName }, 'workers run different backends');
        }
        if (!this.backendName) {
          this.log.info({ backend: msg.backend, reason: msg.backendReason, models: msg.models }, 'inference pool ready');
          this.metrics.backendInfo.set({ backend: msg.backend }, 1);
        }
        this.backendName = msg.backend;
        this.backendReason = msg.backendReason;
        this.models = { ...this.models, ...msg.models };
        this.markReady();
        this.pump();
        return;
      case 'init-failed':
        this.fail(new BackendUnavailableError(msg.message));
        return;
      case 'result':
      case 'failed': {
        const batch = slot.batch;
        if (!batch || batch.id !== msg.batchId) return;
        slot.batch = undefined;
        if (msg.type === 'failed') {
          for (const c of batch.chunks) this.settle(c.call, new InferenceFailedError(msg.message));
        } else {
          this.deliver(batch.chunks, msg.outputs);
          this.metrics.inferenceSeconds.observe({ model: batch.model }, msg.inferMs / 1000);
          const rate = batch.items / Math.max(msg.inferMs, 0.01);
          this.throughput = this.throughput === 0 ? rate : 0.8 * this.throughput + 0.2 * rate;
        }
        this.pump();
      }
    }
  }

  private onExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || (this.closing && this.isIdle())) return;
    const batch = slot.batch;
    slot.batch = undefined;
    slot.ready = false;
    if (this.failure) return;
    this.log.warn({ worker: slot.id, code, lostBatch: batch?.id }, 'inference worker exited; replacing it');
    this.metrics.workerRestarts.inc();
    if (batch) {
      const retry = batch.chunks.filter((c) => !c.call.settled && c.attempt === 0);
      for (const c of batch.chunks) {
        if (!c.call.settled && c.attempt > 0) this.settle(c.call, new WorkerCrashedError('inference worker crashed twice on this call'));
      }
      for (const c of retry) c.attempt++;
      this.queues.get(batch.model)!.pushFront(retry);
    }
    this.slots[index] = this.spawn();
    this.pump();
  }

  /** Sends batches to idle workers while there is work and the batching policy allows it. */
  private pump(): void {
    for (const [model, queue] of this.queues) {
      for (const slot of this.slots) {
        if (!slot.ready || slot.batch) continue;
        const oldest = queue.oldestEnqueuedAt();
        if (oldest === undefined) break;
        const waited = performance.now() - oldest;
        if (!this.closing && queue.size < this.opts.maxBatchSize && waited < this.opts.maxQueueDelayMs) {
          if (!this.delayTimer) {
            this.delayTimer = setTimeout(() => {
              this.delayTimer = undefined;
              this.pump();
            }, this.opts.maxQueueDelayMs - waited);
          }
          break;
        }
        this.dispatch(slot, model, queue.take(this.opts.maxBatchSize));
      }
      this.metrics.queueLength.set({ model }, queue.size);
    }
    if (this.drained && this.isIdle()) this.drained();
  }

  private dispatch(slot: Slot, model: ModelName, chunks: AnyChunk[]): void {
    if (chunks.length === 0) return;
    const now = performance.now();
    const inputs: unknown[] = [];
    for (const c of chunks) {
      for (let i = 0; i < c.length; i++) inputs.push(c.call.inputs[c.offset + i]);
      this.metrics.queueWaitSeconds.observe({ model }, (now - c.call.enqueuedAt) / 1000);
    }
    const batchId = this.nextBatchId++;
    slot.batch = { id: batchId, model, chunks, items: inputs.length };
    this.metrics.batchSize.observe({ model }, inputs.length);
    slot.worker.postMessage({ type: 'infer', batchId, model, inputs } as PoolToWorker);
  }

  private deliver(chunks: AnyChunk[], outputs: unknown[]): void {
    let k = 0;
    for (const c of chunks) {
      const call = c.call;
      for (let i = 0; i < c.length; i++) call.outputs[c.offset + i] = outputs[k++];
      call.remaining -= c.length;
      if (call.remaining === 0 && !call.settled) {
        call.settled = true;
        call.resolve(call.outputs);
      }
    }
  }

  private settle(call: AnyCall, err: Error): void {
    if (call.settled) return;
    call.settled = true;
    call.reject(err);
    this.pump();
  }

  /** Workers cannot start (e.g. a forced backend is missing): fail loudly, reject everything. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.log.error({ err: err.message }, 'inference pool cannot start');
    this.markFailed(err);
    for (const queue of this.queues.values()) {
      for (const c of queue.drain()) this.settle(c.call, err);
    }
    for (const slot of this.slots) void slot.worker.terminate();
  }

  private isIdle(): boolean {
    for (const q of this.queues.values()) if (q.oldestEnqueuedAt() !== undefined) return false;
    return this.slots.every((s) => !s.batch);
  }

  private retryHintMs(queued: number): number {
    const estimate = this.throughput > 0 ? queued / this.throughput : 100;
    return Math.min(5000, Math.max(10, Math.ceil(estimate)));
  }
}

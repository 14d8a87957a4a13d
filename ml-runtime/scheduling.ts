/**
 * The pool's batching engine: one queue per model, idle workers fed in batches, deadlines, retry
 * of a crashed worker's batch, and answers routed back to their calls. Model-agnostic: a
 * moderation text and a recommend request are both one input of a call.
 */
import type { Worker } from 'node:worker_threads';
import { BatchQueue, chunksOf, type Call, type Chunk } from './batcher';
import { DeadlineExceededError, InferenceError, WorkerCrashedError } from './errors';
import type { PoolMetrics } from './metrics';
import { DEFAULTS, type ModelLimits } from './options';
import type { ModelName, PoolToWorker } from './protocol';

type AnyCall = Call<unknown, unknown>;
type AnyChunk = Chunk<unknown, unknown>;

export interface Batch {
  id: number;
  model: ModelName;
  chunks: AnyChunk[];
  items: number;
}

export interface Slot {
  id: number;
  worker: Worker;
  ready: boolean;
  /** Model → version this worker serves: what it started with, then each activated load. */
  models: Partial<Record<ModelName, string>>;
  batch?: Batch;
}

export interface SchedulerOptions extends ModelLimits {
  maxQueueDelayMs: number;
  defaultDeadlineMs: number;
  limits: Partial<Record<ModelName, Partial<ModelLimits>>>;
}

export class Scheduler {
  private readonly queues = new Map<ModelName, BatchQueue<unknown, unknown>>();
  /** Inputs per millisecond per model, smoothed; sizes the retry hint of OverloadedError. */
  private readonly throughput = new Map<ModelName, number>();
  private nextBatchId = 1;
  private delayTimer?: NodeJS.Timeout;
  private pumpQueued = false;
  private closing = false;
  private drained?: () => void;

  constructor(
    private readonly opts: SchedulerOptions,
    private readonly metrics: PoolMetrics,
    private readonly slots: readonly Slot[],
    /** Whether a slot may be sent this model's batches (it serves the version the pool serves). */
    private readonly serves: (slot: Slot, model: ModelName) => boolean,
  ) {}

  /** Per field: the model's option, else the model's default, else the pool-wide option. */
  limits(model: ModelName): ModelLimits {
    const own = this.opts.limits[model];
    const def = DEFAULTS.limits[model];
    return {
      // A batch of 0 would never drain the queue.
      maxBatchSize: Math.max(1, own?.maxBatchSize ?? def?.maxBatchSize ?? this.opts.maxBatchSize),
      maxQueueLength: own?.maxQueueLength ?? def?.maxQueueLength ?? this.opts.maxQueueLength,
    };
  }

  queued(model: ModelName): number {
    return this.queues.get(model)?.size ?? 0;
  }

  queuedTotal(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }

  retryHintMs(model: ModelName, queued: number): number {
    const rate = this.throughput.get(model) ?? 0;
    const estimate = rate > 0 ? queued / rate : 100;
    return Math.min(5000, Math.max(10, Math.ceil(estimate)));
  }

  enqueue(model: ModelName, inputs: unknown[], deadlineMs = this.opts.defaultDeadlineMs): Promise<unknown[]> {
    let queue = this.queues.get(model);
    if (!queue) this.queues.set(model, (queue = new BatchQueue()));
    const q = queue;
    return new Promise((resolve, reject) => {
      const call: AnyCall = {
        inputs,
        outputs: new Array(inputs.length),
        remaining: inputs.length,
        settled: false,
        enqueuedAt: performance.now(),
        resolve: (out) => {
          clearTimeout(timer);
          resolve(out);
        },
        reject: (err) => {
          clearTimeout(timer);
          if (err instanceof InferenceError) this.metrics.errors.inc({ model, code: err.code });
          reject(err);
        },
      };
      const timer = setTimeout(() => this.settle(call, new DeadlineExceededError(deadlineMs)), deadlineMs);
      q.push(chunksOf(call, this.limits(model).maxBatchSize));
      this.metrics.queueLength.set({ model }, q.size);
      this.pumpSoon();
    });
  }

  /**
   * Dispatches at the end of the current tick rather than at once, so calls made in the same tick
   * share a batch. When a batch's answers resolve many callers who each call again at once, the
   * first call alone would otherwise be sent to the idle worker as a batch of one, and the rest
   * would wait behind it.
   */
  private pumpSoon(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /**
   * Sends batches to idle workers while there is work and the batching policy allows it. Each idle
   * worker takes the model whose oldest call has waited longest, so a backlog of one model (a
   * burst of posts to moderate) cannot starve another (feeds to rank).
   */
  pump(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.batch) continue;
      let next: { model: ModelName; queue: BatchQueue<unknown, unknown>; oldest: number } | undefined;
      for (const [model, queue] of this.queues) {
        if (!this.serves(slot, model)) continue;
        const oldest = queue.oldestEnqueuedAt();
        if (oldest === undefined || !this.mayDispatch(model, queue, oldest)) continue;
        if (!next || oldest < next.oldest) next = { model, queue, oldest };
      }
      if (next) this.dispatch(slot, next.model, next.queue.take(this.limits(next.model).maxBatchSize));
    }
    for (const [model, queue] of this.queues) this.metrics.queueLength.set({ model }, queue.size);
    if (this.drained && this.isIdle()) this.drained();
  }

  onResult(slot: Slot, batchId: number, outputs: unknown[], inferMs: number): void {
    const batch = slot.batch;
    if (!batch || batch.id !== batchId) return;
    slot.batch = undefined;
    this.deliver(batch.chunks, outputs);
    this.metrics.inferenceSeconds.observe({ model: batch.model }, inferMs / 1000);
    const rate = batch.items / Math.max(inferMs, 0.01);
    const before = this.throughput.get(batch.model) ?? 0;
    this.throughput.set(batch.model, before === 0 ? rate : 0.8 * before + 0.2 * rate);
    this.pump();
  }

  onFailed(slot: Slot, batchId: number, err: Error): void {
    const batch = slot.batch;
    if (!batch || batch.id !== batchId) return;
    slot.batch = undefined;
    for (const c of batch.chunks) this.settle(c.call, err);
    this.pump();
  }

  /** Detaches the batch of a worker that exited. */
  takeBatch(slot: Slot): Batch | undefined {
    const batch = slot.batch;
    slot.batch = undefined;
    return batch;
  }

  /** A lost batch's calls go to the front of their queue once; lost twice, they fail. */
  retry(batch: Batch): void {
    const again = batch.chunks.filter((c) => !c.call.settled && c.attempt === 0);
    for (const c of batch.chunks) {
      if (!c.call.settled && c.attempt > 0) this.settle(c.call, new WorkerCrashedError('inference worker crashed twice on this call'));
    }
    for (const c of again) c.attempt++;
    this.queues.get(batch.model)!.pushFront(again);
  }

  /** Stops waiting for batches to fill and resolves once everything accepted has settled. */
  drain(): Promise<void> {
    this.closing = true;
    clearTimeout(this.delayTimer);
    this.pump();
    return this.isIdle() ? Promise.resolve() : new Promise<void>((resolve) => (this.drained = resolve));
  }

  rejectAll(err: Error): void {
    for (const queue of this.queues.values()) {
      for (const c of queue.drain()) this.settle(c.call, err);
    }
  }

  isIdle(): boolean {
    for (const q of this.queues.values()) if (q.oldestEnqueuedAt() !== undefined) return false;
    return this.slots.every((s) => !s.batch);
  }

  /** The queue-delay policy: an idle worker may wait briefly for a batch to fill. */
  private mayDispatch(model: ModelName, queue: BatchQueue<unknown, unknown>, oldest: number): boolean {
    const waited = performance.now() - oldest;
    if (this.closing || queue.size >= this.limits(model).maxBatchSize || waited >= this.opts.maxQueueDelayMs) return true;
    this.delayTimer ??= setTimeout(() => {
      this.delayTimer = undefined;
      this.pump();
    }, this.opts.maxQueueDelayMs - waited);
    return false;
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
}

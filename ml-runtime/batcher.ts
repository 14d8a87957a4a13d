/**
 * The pool's queue: calls split into chunks no larger than a batch, taken in arrival order.
 * Pure bookkeeping (no timers, no workers) so that the ordering and accounting rules can be unit
 * tested on their own.
 */

/** One caller's request. Settled exactly once; later answers for it are dropped. */
export interface Call<I, O> {
  inputs: I[];
  outputs: O[];
  /** Inputs not yet answered. */
  remaining: number;
  settled: boolean;
  enqueuedAt: number;
  resolve(outputs: O[]): void;
  reject(err: Error): void;
}

export interface Chunk<I, O> {
  call: Call<I, O>;
  offset: number;
  length: number;
  /** 0 on first dispatch; 1 once retried after a worker crash. */
  attempt: number;
}

export function chunksOf<I, O>(call: Call<I, O>, maxBatchSize: number): Array<Chunk<I, O>> {
  const chunks: Array<Chunk<I, O>> = [];
  for (let offset = 0; offset < call.inputs.length; offset += maxBatchSize) {
    chunks.push({ call, offset, length: Math.min(maxBatchSize, call.inputs.length - offset), attempt: 0 });
  }
  return chunks;
}

export class BatchQueue<I, O> {
  private chunks: Array<Chunk<I, O>> = [];
  private head = 0;
  /** Queued inputs, counting chunks of calls that have since settled until they are skipped. */
  size = 0;

  push(chunks: Array<Chunk<I, O>>): void {
    for (const c of chunks) {
      this.chunks.push(c);
      this.size += c.length;
    }
  }

  /** Puts retried chunks at the front: they have waited longest. */
  pushFront(chunks: Array<Chunk<I, O>>): void {
    this.chunks = [...chunks, ...this.chunks.slice(this.head)];
    this.head = 0;
    for (const c of chunks) this.size += c.length;
  }

  /** Arrival time of the oldest live chunk, dropping settled ones from the front. */
  oldestEnqueuedAt(): number | undefined {
    this.dropSettled();
    return this.head < this.chunks.length ? this.chunks[this.head].call.enqueuedAt : undefined;
  }

  /** Whole chunks, in order, up to `maxItems` inputs (always at least one chunk if any). */
  take(maxItems: number): Array<Chunk<I, O>> {
    const out: Array<Chunk<I, O>> = [];
    let items = 0;
    this.dropSettled();
    while (this.head < this.chunks.length) {
      const c = this.chunks[this.head];
      if (c.call.settled) {
        this.shift();
        continue;
      }
      if (out.length > 0 && items + c.length > maxItems) break;
      out.push(this.shift());
      items += c.length;
    }
    return out;
  }

  /** Removes and returns every live chunk (used when the pool can no longer serve). */
  drain(): Array<Chunk<I, O>> {
    const rest = this.chunks.slice(this.head).filter((c) => !c.call.settled);
    this.chunks = [];
    this.head = 0;
    this.size = 0;
    return rest;
  }

  private dropSettled(): void {
    while (this.head < this.chunks.length && this.chunks[this.head].call.settled) this.shift();
  }

  private shift(): Chunk<I, O> {
    const c = this.chunks[this.head++];
    this.size -= c.length;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return c;
  }
}

import { BatchQueue, chunksOf, type Call } from '../../../ml-runtime/batcher';

function call(n: number, enqueuedAt = 0): Call<number, number> {
  return {
    inputs: Array.from({ length: n }, (_, i) => i),
    outputs: [],
    remaining: n,
    settled: false,
    enqueuedAt,
    resolve: () => undefined,
    reject: () => undefined,
  };
}

describe('the batch queue', () => {
  it('splits a call larger than a batch into batch-sized chunks', () => {
    expect(chunksOf(call(600), 256).map((c) => [c.offset, c.length])).toEqual([
      [0, 256],
      [256, 256],
      [512, 88],
    ]);
  });

  it('fills a batch with whole chunks in arrival order without exceeding the batch size', () => {
    const q = new BatchQueue<number, number>();
    const [a, b, c] = [call(3, 1), call(4, 2), call(2, 3)];
    for (const x of [a, b, c]) q.push(chunksOf(x, 8));
    expect(q.size).toBe(9);
    expect(q.take(8).map((ch) => ch.call)).toEqual([a, b]);
    expect(q.take(8).map((ch) => ch.call)).toEqual([c]);
    expect(q.size).toBe(0);
  });

  it('skips calls that settled while queued (deadline passed)', () => {
    const q = new BatchQueue<number, number>();
    const [a, b] = [call(2, 1), call(2, 2)];
    q.push(chunksOf(a, 8));
    q.push(chunksOf(b, 8));
    a.settled = true;
    expect(q.oldestEnqueuedAt()).toBe(2);
    expect(q.take(8).map((ch) => ch.call)).toEqual([b]);
  });

  it('puts retried chunks ahead of newer work', () => {
    const q = new BatchQueue<number, number>();
    const [old, fresh] = [call(2, 1), call(2, 5)];
    q.push(chunksOf(fresh, 8));
    q.pushFront(chunksOf(old, 8));
    expect(q.take(2).map((ch) => ch.call)).toEqual([old]);
  });
});

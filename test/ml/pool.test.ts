/**
 * The inference pool with the committed moderation model in real worker threads (needs the build
 * output: `npm test` builds first).
 */
import { Registry } from 'prom-client';
import { InferencePool } from '../../ml-runtime/pool';
import type { PoolLogger, PoolOptions } from '../../ml-runtime/options';
import { BackendUnavailableError, DeadlineExceededError, OverloadedError, PoolClosedError } from '../../ml-runtime/errors';

const quiet: PoolLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const pool = (opts: PoolOptions = {}) => new InferencePool({ workers: 1, logger: quiet, ...opts });
const texts = Array.from({ length: 500 }, (_, i) =>
  i % 3 === 0 ? `you are a stupid idiot number ${i}` : i % 3 === 1 ? `WIN a FREE prize ${i}, txt CLAIM to 8${i}` : `lovely walk by the river ${i}`,
);

describe('the inference pool', () => {
  let shared: InferencePool;
  let registry: Registry;
  beforeAll(async () => {
    registry = new Registry();
    shared = pool({ workers: 2, registry });
    await shared.ready();
    // ready() resolves with the first worker; the crash test needs both.
    while (shared.health().workers < 2) await new Promise((r) => setTimeout(r, 10));
  });
  afterAll(() => shared.close());

  it('reports the backend it verified and is ready', () => {
    const health = shared.health();
    expect(health).toMatchObject({ ready: true, backend: 'wasm', workers: 2, models: { moderation: expect.stringMatching(/^moderation@/) } });
    expect(health.backendReason).toMatch(/tfjs-node: not installed/);
    expect(shared.backend()).toBe('wasm');
  });

  it('returns results in request order across concurrent calls that share batches', async () => {
    const alone = await shared.moderate(texts.slice(0, 30));
    const together = await Promise.all(texts.slice(0, 30).map((t) => shared.moderate([t])));
    expect(together.map((r) => r[0].scores)).toEqual(alone.map((r) => r.scores));
    const big = await shared.moderate(texts);
    expect(big).toHaveLength(texts.length);
    expect(big.slice(0, 30).map((r) => r.scores)).toEqual(alone.map((r) => r.scores));
  });

  it('sends the calls made in one tick to a worker as one batch, even when they are single texts', async () => {
    const own = new Registry();
    const p = pool({ registry: own });
    try {
      await p.ready();
      const results = await Promise.all(texts.slice(0, 40).map((t) => p.moderate([t])));
      expect(results.map((r) => r.length)).toEqual(Array(40).fill(1));
      const metrics = await own.metrics();
      expect(metrics).toContain('colloquy_ml_batch_size_count{model="moderation"} 1');
      expect(metrics).toContain('colloquy_ml_batch_size_sum{model="moderation"} 40');
    } finally {
      await p.close();
    }
  });

  it('loses no call and answers none twice when a worker is killed mid-batch', async () => {
    const reference = await shared.moderate(texts);
    const calls = Array.from({ length: 20 }, (_, i) => shared.moderate(texts.slice(i * 25, i * 25 + 25)));
    await null; // calls are dispatched at the end of the tick they were made in
    expect(shared.inFlightBatches()).toBeGreaterThan(0);
    await shared.terminateWorker(0);
    const results = await Promise.all(calls);
    expect(results.flat().map((r) => r.scores)).toEqual(reference.map((r) => r.scores));
    await new Promise((r) => setTimeout(r, 10));
    await shared.ready();
    expect((await shared.moderate(['still serving']))[0].modelVersion).toMatch(/^moderation@/);
  });

  it('exports queue, batch, latency, error and backend metrics on the given registry', async () => {
    const text = await registry.metrics();
    expect(text).toContain('colloquy_ml_backend_info{backend="wasm"} 1');
    expect(text).toMatch(/colloquy_ml_batch_size_count\{model="moderation"\} [1-9]/);
    expect(text).toContain('colloquy_ml_queue_wait_seconds_bucket');
    expect(text).toContain('colloquy_ml_inference_seconds_bucket');
    expect(text).toMatch(/colloquy_ml_worker_restarts_total [1-9]/);
  });
});

describe('the inference pool under pressure', () => {
  it('fails fast with OVERLOADED and a retry hint when the queue is full', async () => {
    const p = pool({ maxQueueLength: 10 });
    const accepted = p.moderate(texts.slice(0, 8));
    const err = await p.moderate(texts.slice(0, 5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverloadedError);
    expect(err).toMatchObject({ code: 'OVERLOADED', retryAfterMs: expect.any(Number) });
    expect((err as OverloadedError).retryAfterMs).toBeGreaterThan(0);
    await expect(accepted).resolves.toHaveLength(8);
    await p.close();
  });

  it('rejects a call whose deadline passes before it is served', async () => {
    const p = pool();
    await expect(p.moderate(['too late'], { deadlineMs: 1 })).rejects.toBeInstanceOf(DeadlineExceededError);
    await expect(p.moderate(['in time'], { deadlineMs: 20000 })).resolves.toHaveLength(1);
    await p.close();
  });

  it('drains accepted calls on close and refuses new ones afterwards', async () => {
    const p = pool();
    const calls = Array.from({ length: 10 }, (_, i) => p.moderate(texts.slice(i * 10, i * 10 + 10)));
    await p.close();
    for (const r of await Promise.all(calls)) expect(r).toHaveLength(10);
    await expect(p.moderate(['after close'])).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('refuses to start, loudly, when a forced backend is not installed', async () => {
    const p = pool({ backend: 'tensorflow' });
    await expect(p.ready()).rejects.toThrow(/tfjs-node: not installed/);
    await expect(p.moderate(['x'])).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(p.health()).toMatchObject({ ready: false, error: expect.stringMatching(/unavailable/) });
    await p.close();
  });
});

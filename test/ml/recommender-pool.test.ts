/**
 * The recommender served from the inference pool's worker threads (needs the build output:
 * `npm test` builds first). Models are tiny GF-CF filters trained here on two-community graphs.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Registry } from 'prom-client';
import { InferencePool } from '../../ml-runtime/pool';
import { optionsFromEnv, type PoolLogger, type PoolOptions } from '../../ml-runtime/options';
import type { RecommendRequest } from '../../ml-runtime/inference-client';
import { InvalidInputError, ModelLoadFailedError, ModelNotLoadedError, OverloadedError } from '../../ml-runtime/errors';
import { Recommender } from '../../ml-runtime/recommender/recommender';
import { recommenderVersion } from '../../ml-runtime/serve-recommender';
import { mulberry32 } from '../../ml-runtime/training/random';

const quiet: PoolLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const pool = (opts: PoolOptions = {}) => new InferencePool({ workers: 1, logger: quiet, ...opts });

/** 60 users: 0–29 hold 6 of items [0, per), 30–59 six of [per, 2·per). */
function communities(per: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  return Array.from({ length: 60 }, (_, u) => {
    const base = u < 30 ? 0 : per;
    const items = new Set<number>();
    while (items.size < 6) items.add(base + Math.floor(rand() * per));
    return [...items];
  });
}

const inCommunity = (items: number[], per: number, first: boolean) => items.every((i) => (first ? i < per : i >= per && i < 2 * per));
const users = communities(20, 3);
let root: string;
/** Model A: 40 items in communities [0, 20) and [20, 40). Model B: 60 items, [0, 30) and [30, 60). */
let dirA: string;
let dirB: string;

async function trainAndSave(lists: number[][], dir: string): Promise<void> {
  const model = await Recommender.train(lists, { rank: 4, oversample: 4 });
  model.save(dir);
  model.dispose();
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(path.join(tmpdir(), 'colloquy-recommender-pool-'));
  dirA = path.join(root, 'a');
  dirB = path.join(root, 'b');
  await trainAndSave(users, dirA);
  await trainAndSave(communities(30, 4), dirB);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const version = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { version: string }).version;

describe('the recommender in the inference pool', () => {
  let shared: InferencePool;
  let registry: Registry;
  beforeAll(async () => {
    registry = new Registry();
    // Batches of 4 requests, so that one call of 40 spans ten batches over two workers.
    shared = pool({ workers: 2, registry, limits: { recommender: { maxBatchSize: 4 } } });
    await shared.ready();
    while (shared.health().workers < 2) await new Promise((r) => setTimeout(r, 10));
  });
  afterAll(() => shared.close());

  it('rejects recommend with MODEL_NOT_LOADED until a recommender is loaded', async () => {
    const err = await shared.recommend([{ items: [1], k: 5 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotLoadedError);
    expect(err).toMatchObject({ code: 'MODEL_NOT_LOADED' });
  });

  it('loads a saved recommender into every worker and reports its size and saved version', async () => {
    const loaded = await shared.loadRecommender(dirA);
    expect(loaded).toEqual({ numItems: 40, version: version(dirA) });
    expect(loaded.version).toMatch(/^gf-cf@[0-9a-f]{12}$/);
    expect(shared.health().models).toMatchObject({ recommender: loaded.version, moderation: expect.stringMatching(/^moderation@/) });
  });

  it('recommends items from the user’s own community and never the user’s own items', async () => {
    const results = await shared.recommend([0, 7, 31, 59].map((u) => ({ items: users[u], k: 10 })));
    results.forEach((r, i) => {
      const u = [0, 7, 31, 59][i];
      expect(r.items).toHaveLength(10);
      expect(r.scores).toHaveLength(10);
      expect(inCommunity(r.items, 20, u < 30)).toBe(true);
      for (const item of r.items) expect(users[u]).not.toContain(item);
      expect(r.scores).toEqual([...r.scores].sort((a, b) => b - a));
      expect(r.modelVersion).toBe(version(dirA));
    });
  });

  it('ranks only the given candidates, at most k of them, ignoring unknown ids', async () => {
    // Three of the user's community (not their own), repeated, among the other community's,
    // the user's own and ids the model does not know.
    const mine = Array.from({ length: 20 }, (_, i) => i).filter((i) => !users[0].includes(i)).slice(0, 3);
    const candidates = [mine[0], 25, mine[1], 26, mine[2], mine[1], 500, users[0][0], -1, 27];
    const [r] = await shared.recommend([{ items: [...users[0], 1000], k: 3, candidates }]);
    expect([...r.items].sort((a, b) => a - b)).toEqual(mine);
    const [more] = await shared.recommend([{ items: users[0], k: 10, candidates }]);
    expect(more.items).toHaveLength(6);
    expect(more.items.slice(0, 3).sort((a, b) => a - b)).toEqual(mine);
    const [none] = await shared.recommend([{ items: users[0], k: 3, candidates: [] }]);
    expect(none.items).toEqual([]);
    const [zero] = await shared.recommend([{ items: users[0], k: 0 }]);
    expect(zero.items).toEqual([]);
  });

  it('answers in request order across batches and concurrent calls', async () => {
    const requests: RecommendRequest[] = users.slice(0, 40).map((items, u) => ({ items, k: 5 + (u % 3) }));
    const together = await shared.recommend(requests);
    const alone = await Promise.all(requests.map((r) => shared.recommend([r])));
    expect(together).toHaveLength(40);
    expect(together).toEqual(alone.map((r) => r[0]));
    together.forEach((r, u) => expect(r.items).toHaveLength(5 + (u % 3)));
  });

  it('rejects a malformed request alone, before it can fail a shared batch', async () => {
    await expect(shared.recommend([{ items: [1], k: 5 }, { items: [1], k: -1 }])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(shared.recommend([{ items: [1], k: 5 }])).resolves.toHaveLength(1);
  });

  it('loses no call when a worker dies mid-batch, and its replacement serves the recommender', async () => {
    const reference = await shared.recommend(users.map((items) => ({ items, k: 5 })));
    const calls = users.map((items) => shared.recommend([{ items, k: 5 }]));
    await null; // calls are dispatched at the end of the tick they were made in
    expect(shared.inFlightBatches()).toBeGreaterThan(0);
    await shared.terminateWorker(0);
    expect((await Promise.all(calls)).map((r) => r[0])).toEqual(reference);
    while (shared.health().workers < 2) await new Promise((r) => setTimeout(r, 10));
    // With the other original worker gone too, only replacements are left to serve.
    await shared.terminateWorker(1);
    expect(await shared.recommend(users.map((items) => ({ items, k: 5 })))).toEqual(reference);
  });

  it('replaces the first model with a second in every worker, without losing calls in flight', async () => {
    const inFlight = users.map((items) => shared.recommend([{ items, k: 5 }]));
    const loaded = await shared.loadRecommender(dirB);
    expect(loaded).toEqual({ numItems: 60, version: version(dirB) });
    expect(loaded.version).not.toBe(version(dirA));
    for (const [r] of await Promise.all(inFlight)) expect([version(dirA), version(dirB)]).toContain(r.modelVersion);
    // Items 40–59 exist only in model B; every batch from now on is ranked by it.
    const after = await shared.recommend(Array.from({ length: 12 }, () => ({ items: [45, 46, 50], k: 5 })));
    for (const r of after) {
      expect(r.modelVersion).toBe(loaded.version);
      expect(inCommunity(r.items, 30, false)).toBe(true);
    }
  });

  it('keeps a model loaded while a worker dies mid-load, and serves it from the replacement', async () => {
    const loading = shared.loadRecommender(dirA);
    await shared.terminateWorker(0);
    await expect(loading).resolves.toEqual({ numItems: 40, version: version(dirA) });
    while (shared.health().workers < 2) await new Promise((r) => setTimeout(r, 10));
    const results = await shared.recommend(users.map((items) => ({ items, k: 5 })));
    for (const r of results) expect(r.modelVersion).toBe(version(dirA));
  });

  it('keeps serving the current model when a new one fails to load', async () => {
    await expect(shared.loadRecommender(path.join(root, 'missing'))).rejects.toBeInstanceOf(ModelLoadFailedError);
    const [r] = await shared.recommend([{ items: users[0], k: 5 }]);
    expect(r.modelVersion).toBe(version(dirA));
  });

  it('exports recommender batches and the served version as metrics', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/colloquy_ml_batch_size_count\{model="recommender"\} [1-9]/);
    expect(text).toContain(`colloquy_ml_model_info{model="recommender",version="${version(dirA)}"} 1`);
    expect(text).not.toContain(`version="${version(dirB)}"`);
    expect(text).toContain('colloquy_ml_errors_total{model="recommender",code="MODEL_NOT_LOADED"} 1');
  });
});

describe('the recommender in a busy pool', () => {
  it('fails fast with OVERLOADED and a retry hint when the recommend queue is full', async () => {
    const p = pool({ limits: { recommender: { maxQueueLength: 3 } } });
    await p.loadRecommender(dirA);
    const err = await p.recommend(users.slice(0, 4).map((items) => ({ items, k: 5 }))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverloadedError);
    expect((err as OverloadedError).retryAfterMs).toBeGreaterThan(0);
    // The moderation queue is counted on its own.
    await expect(p.moderate(['a text', 'another'])).resolves.toHaveLength(2);
    await p.close();
  });

  it('bounds the recommend queue by ML_RECOMMEND_MAX_QUEUE_LENGTH, and by 512 requests without it', async () => {
    const requests = (n: number) => Array.from({ length: n }, (_, u) => ({ items: users[u % 60], k: 5 }));
    const configured = pool({ ...optionsFromEnv({ ML_RECOMMEND_MAX_QUEUE_LENGTH: '2' }), workers: 1, logger: quiet });
    const unset = pool({ ...optionsFromEnv({}), workers: 1, logger: quiet });
    await Promise.all([configured.loadRecommender(dirA), unset.loadRecommender(dirA)]);
    await expect(configured.recommend(requests(3))).rejects.toBeInstanceOf(OverloadedError);
    await expect(unset.recommend(requests(513))).rejects.toBeInstanceOf(OverloadedError);
    await expect(unset.recommend(requests(512))).resolves.toHaveLength(512);
    await Promise.all([configured.close(), unset.close()]);
  });
});

describe('the recommender version', () => {
  it('is the same content hash for a model saved before versions were written', () => {
    const old = path.join(root, 'unversioned');
    cpSync(dirA, old, { recursive: true });
    const meta = JSON.parse(readFileSync(path.join(old, 'meta.json'), 'utf8')) as Record<string, unknown>;
    delete meta.version;
    writeFileSync(path.join(old, 'meta.json'), JSON.stringify(meta));
    expect(recommenderVersion(old)).toBe(version(dirA));
  });
});

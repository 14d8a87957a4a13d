/**
 * The committed text encoder (ml-runtime/models/text-encoder), in process and served by the
 * inference pool's worker threads (the pool needs the build output: `npm test` builds first).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InferencePool } from '../../ml-runtime/pool';
import type { PoolLogger } from '../../ml-runtime/options';
import { InvalidInputError, ModelNotLoadedError, OverloadedError } from '../../ml-runtime/errors';
import { defaultDataRoot, defaultModelDir } from '../../ml-runtime/paths';
import { DUPLICATE_FILES, loadPairs } from '../../ml-runtime/encoder/data';
import { rocAuc } from '../../ml-runtime/eval/metrics';
import { loadEncoder } from '../../ml-runtime/encoder/weights';
import { TextEncoder, cosine } from '../../ml-runtime/encoder/model';
import { encoderInput } from '../../ml-runtime/encoder/text';

const quiet: PoolLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

// A duplicate pair as Stack Overflow sees them, and a question on another subject.
const mergeDicts = encoderInput('How do I merge two dictionaries in a single expression in Python?', '<p>I want a new dict with the keys of both.</p>');
const combineDicts = encoderInput('Combine two dicts into one new dict in python', '<p>Looking for the shortest way to join two dicts.</p>');
const gridOverflow = encoderInput('Why does my CSS grid overflow its container?', '<p>The last column is pushed outside the page.</p>');

let encoder: TextEncoder;
beforeAll(async () => {
  await tf.setBackend('cpu');
  encoder = new TextEncoder(loadEncoder(defaultModelDir('text-encoder')));
});

describe('the text encoder', () => {
  it('returns unit vectors of the model dimension', () => {
    const [v] = encoder.embed([mergeDicts]);
    expect(v).toHaveLength(encoder.dim);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  });

  it('puts a duplicate question closer than an unrelated one', () => {
    const [a, b, c] = encoder.embed([mergeDicts, combineDicts, gridOverflow]);
    expect(cosine(a, b)).toBeGreaterThan(cosine(a, c) + 0.2);
    expect(cosine(a, b)).toBeGreaterThan(cosine(b, c) + 0.2);
  });

  const pairsFile = path.join(defaultDataRoot(), 'qa', 'askubuntu-duplicates', DUPLICATE_FILES[0]);
  (existsSync(pairsFile) ? it : it.skip)('ranks AskUbuntu duplicates above non-duplicates (skipped without ../shared/datasets)', () => {
    const pairs = loadPairs(defaultDataRoot());
    const a = encoder.embed(pairs.map((p) => p.a));
    const b = encoder.embed(pairs.map((p) => p.b));
    const auc = rocAuc(pairs.map((_, i) => cosine(a[i], b[i])), pairs.map((p) => p.duplicate));
    // 0.83 measured by eval:encoder (MODEL_CARD.md); an untrained table of the same shape scores 0.81.
    expect(auc).toBeGreaterThan(0.8);
  }, 90_000);

  it('predicts the tags of Stack Overflow titles', () => {
    const probs = encoder.tagProbabilities([encoderInput('Python list comprehension with two for loops', ''), encoderInput('SQL query to select the latest row per group', '')]);
    const T = encoder.weights.tags.length;
    const top = (row: number) => encoder.weights.tags[Array.from(probs.subarray(row * T, (row + 1) * T)).reduce((best, p, i, all) => (p > all[best] ? i : best), 0)];
    expect(top(0)).toBe('python');
    expect(['sql', 'mysql', 'sql-server']).toContain(top(1));
  });
});

describe('embed requests in the inference pool', () => {
  let pool: InferencePool;
  beforeAll(async () => {
    pool = new InferencePool({ workers: 1, logger: quiet });
    await pool.ready();
  });
  afterAll(() => pool.close());

  it('serves the committed encoder and names its version', () => {
    expect(pool.health().models.encoder).toBe(encoder.modelVersion);
  });

  it('answers each text with the vector the model computes, in order, across batched calls', async () => {
    const texts = [mergeDicts, combineDicts, gridOverflow];
    const expected = encoder.embed(texts);
    const together = await Promise.all(texts.map((t) => pool.embed([t])));
    const alone = await pool.embed(texts);
    for (const [i, v] of alone.entries()) {
      // Typed arrays posted from a worker belong to another realm under Jest: compare by tag.
      expect(Object.prototype.toString.call(v)).toBe('[object Float32Array]');
      expect(Array.from(v)).toEqual(Array.from(expected[i]));
      expect(Array.from(together[i][0])).toEqual(Array.from(expected[i]));
    }
  });

  it('refuses a call holding something other than text before it can fail a shared batch', async () => {
    await expect(pool.embed([mergeDicts, 42 as unknown as string])).rejects.toBeInstanceOf(InvalidInputError);
    expect(await pool.embed([combineDicts])).toHaveLength(1);
  });

  it('answers OVERLOADED, with a retry hint, when the texts would overflow its queue', async () => {
    const small = new InferencePool({ workers: 1, logger: quiet, maxQueueLength: 4 });
    try {
      await small.ready();
      const err = await small.embed(Array.from({ length: 10 }, (_, i) => `text ${i}`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OverloadedError);
      expect((err as OverloadedError).retryAfterMs).toBeGreaterThan(0);
      expect(await small.embed([mergeDicts])).toHaveLength(1);
    } finally {
      await small.close();
    }
  });

  it('says the model is not loaded when the pool was started without an encoder', async () => {
    const bare = new InferencePool({ workers: 1, logger: quiet, modelDirs: { moderation: defaultModelDir('moderation') } });
    try {
      await bare.ready();
      await expect(bare.embed(['anything'])).rejects.toBeInstanceOf(ModelNotLoadedError);
    } finally {
      await bare.close();
    }
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Recommender } from '../../ml-runtime/recommender/recommender';
import { mulberry32 } from '../../ml-runtime/training/random';

/** Users 0–29 have items 0…per-1, users 30–59 the next `per` items; each has 6 of their community's. */
function communities(per = 20): number[][] {
  const rand = mulberry32(3);
  return Array.from({ length: 60 }, (_, u) => {
    const base = u < 30 ? 0 : per;
    const items = new Set<number>();
    while (items.size < 6) items.add(base + Math.floor(rand() * per));
    return [...items];
  });
}

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(tmpdir(), 'colloquy-recommender-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the GF-CF recommender', () => {
  it('recommends items from the user’s own community on a two-community graph', async () => {
    const lists = communities();
    const model = await Recommender.train(lists, { rank: 4, oversample: 4 });
    for (const u of [0, 7, 31, 59]) {
      const top = Array.from(model.recommend(lists[u], 10).items);
      expect(top).toHaveLength(10);
      for (const i of top) expect(u < 30 ? i < 20 : i >= 20).toBe(true);
      for (const i of top) expect(lists[u]).not.toContain(i);
    }
    model.dispose();
  });

  it('fold-in moves the ranking toward new interactions without retraining', async () => {
    const lists = communities();
    const model = await Recommender.train(lists, { rank: 4, oversample: 4 });
    const before = model.recommend(lists[0], 10).items;
    expect(Array.from(before).every((i) => i < 20)).toBe(true);
    // User 0 now mostly interacts with the other community.
    const after = model.recommend([...lists[0], 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31], 10).items;
    expect(Array.from(after).filter((i) => i >= 20).length).toBeGreaterThan(5);
    // A brand-new user (never seen in training) gets a ranking at once.
    const cold = model.recommend([35, 36], 5).items;
    expect(Array.from(cold).every((i) => i >= 20)).toBe(true);
    model.dispose();
  });

  it('batch scores, the factored low-pass term and a saved-and-loaded model agree with userVector', async () => {
    const lists = communities();
    const model = await Recommender.train(lists, { rank: 4, oversample: 4 });
    const v = model.userVector(lists[5]);
    const batch = model.scoreBatch([lists[4], lists[5]]).subarray(model.numItems, 2 * model.numItems);
    for (let i = 0; i < model.numItems; i++) expect(batch[i]).toBeCloseTo(v[i], 4);
    const e = model.userEmbedding(lists[5]);
    expect(e).toHaveLength(model.rank);
    model.save(dir);
    const loaded = Recommender.load(dir);
    expect(Array.from(loaded.userVector(lists[5]))).toEqual(Array.from(v));
    model.dispose();
    loaded.dispose();
  });
});

describe('the eval:recommender CLI', () => {
  it('prints two JSON lines, the method then popularity, on a tiny fixture', async () => {
    const lists = communities(50);
    const train = lists.map((items, u) => `${u} ${items.slice(1).join(' ')}`).join('\n');
    const test = lists.map((items, u) => `${u} ${items[0]}`).join('\n');
    writeFileSync(path.join(dir, 'train.txt'), train + '\n');
    writeFileSync(path.join(dir, 'test.txt'), test + '\n');
    const cli = path.join(__dirname, '../../dist/ml-runtime/eval/eval-recommender.js');
    const { stdout } = await promisify(execFile)('node', [
      cli, '--train', path.join(dir, 'train.txt'), '--test', path.join(dir, 'test.txt'), '--k', '20', '--rank', '4', '--backend', 'cpu',
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const [method, popularity] = lines.map((l) => JSON.parse(l) as Record<string, number | string>);
    expect(Object.keys(method).sort()).toEqual(['items', 'method', 'ndcg@20', 'recall@20', 'trainSeconds', 'users']);
    expect(method).toMatchObject({ method: 'gf-cf', users: 60, items: 100 });
    expect(popularity).toMatchObject({ method: 'popularity', users: 60, items: 100 });
    // Half the items are out of the user's community: the graph knows that, popularity does not.
    expect(method['recall@20'] as number).toBeGreaterThan(popularity['recall@20'] as number);
  });
});

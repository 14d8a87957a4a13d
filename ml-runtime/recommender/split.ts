/**
 * `npm run --silent split:gowalla -- --out DIR [--data FILE] [--fraction 0.2] [--seed 2024]`
 *
 * Makes a validation split from a LightGCN-format training file (by default Gowalla's, read in
 * place from the shared data folder, never copied into the project): each user's items are
 * shuffled with a fixed seed and a fraction of them held out, writing DIR/train.txt and
 * DIR/test.txt. Prints the two paths as one JSON line.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromLists, itemsOf, readLightGCN, writeLightGCN, type Interactions } from './interactions';
import { mulberry32, shuffleInPlace } from '../training/random';
import { flags } from '../training/args';
import { defaultDataRoot } from '../paths';

/**
 * Holds out round(fraction · n) of each user's n items (at least one when n ≥ 2, so every user
 * keeps at least one training item). The same seed always gives the same split.
 */
export function holdOut(x: Interactions, fraction: number, seed: number): { train: Interactions; test: Interactions } {
  const rand = mulberry32(seed);
  const train: number[][] = [];
  const test: number[][] = [];
  for (let u = 0; u < x.numUsers; u++) {
    const items = shuffleInPlace(Array.from(itemsOf(x, u)), rand);
    const n = items.length;
    const held = n >= 2 ? Math.min(n - 1, Math.max(1, Math.round(fraction * n))) : 0;
    test.push(items.slice(0, held));
    train.push(items.slice(held));
  }
  return { train: fromLists(train, x.numItems), test: fromLists(test, x.numItems) };
}

function main(): void {
  const args = flags(['out', 'data', 'fraction', 'seed'] as const);
  if (!args.out) throw new Error('--out DIR is required');
  const data = args.data ?? join(defaultDataRoot(), 'recommendation', 'gowalla', 'train.txt');
  const { train, test } = holdOut(fromLists(readLightGCN(data)), Number(args.fraction ?? 0.2), Number(args.seed ?? 2024));
  mkdirSync(args.out, { recursive: true });
  const paths = { train: join(args.out, 'train.txt'), test: join(args.out, 'test.txt') };
  writeLightGCN(paths.train, train);
  writeLightGCN(paths.test, test);
  process.stderr.write(`${data}: ${train.numUsers} users, ${train.numItems} items, ${train.indices.length} train and ${test.indices.length} held-out interactions\n`);
  process.stdout.write(JSON.stringify(paths) + '\n');
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}

/**
 * Evaluation CLI (a contract other tools call):
 *   npm run --silent eval:recommender -- --train F --test F [--k 20] [--method gf-cf|mf-als|linear|low-pass]
 *     [--backend wasm|cpu|…] [--rank 256] [--alpha 0.3] [--power-iterations 3] [--factors 64] [--mf-iterations 10]
 *
 * F files are LightGCN-format (`user item item …`, 0-based ids). Trains on --train, ranks every
 * item not in the user's training set for each user with test items, and prints two JSON lines,
 * {"recall@K","ndcg@K","users","items","trainSeconds","method"}: the chosen method (GF-CF by
 * default), then the popularity baseline. Diagnostics go to stderr.
 */
import { selectBackend, parseBackendName } from '../backends';
import { flags } from '../training/args';
import { fromLists, itemsOf, readLightGCN, type Interactions } from '../recommender/interactions';
import { evaluateRanking, type BatchScorer } from '../recommender/evaluate';
import { GfcfScorer, trainGfcf } from '../recommender/gfcf';
import { AlsScorer, PopularityScorer } from '../recommender/baselines';

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Trained {
  method: string;
  trainSeconds: number;
  score: BatchScorer;
}

function timed<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, (performance.now() - t) / 1000];
}

function train(method: string, x: Interactions, args: Record<string, string | undefined>): Trained {
  const num = (name: string) => (args[name] === undefined ? undefined : Number(args[name]));
  if (method === 'mf-als') {
    const [m, s] = timed(() => AlsScorer.train(x, { factors: num('factors'), iterations: num('mf-iterations'), log }));
    return { method, trainSeconds: s, score: (users) => m.scoreUsers(users) };
  }
  const variants: Record<string, { linearWeight?: number; lowPassWeight?: number }> = {
    'gf-cf': {},
    linear: { lowPassWeight: 0 },
    'low-pass': { linearWeight: 0, lowPassWeight: 1 },
  };
  const variant = variants[method];
  if (!variant) throw new Error(`unknown --method ${method} (gf-cf, mf-als, linear, low-pass)`);
  const [state, s] = timed(() =>
    trainGfcf(x, {
      rank: num('rank'),
      lowPassWeight: num('alpha') ?? variant.lowPassWeight,
      linearWeight: variant.linearWeight,
      powerIterations: num('power-iterations'),
      log,
    }),
  );
  const scorer = new GfcfScorer(state);
  return { method, trainSeconds: s, score: (users) => scorer.scoreBatch(users.map((u) => itemsOf(x, u))) };
}

async function main(): Promise<void> {
  console.log = console.error;
  const args = flags(['train', 'test', 'k', 'method', 'backend', 'rank', 'alpha', 'power-iterations', 'factors', 'mf-iterations'] as const);
  if (!args.train || !args.test) throw new Error('--train F and --test F are required');
  const k = Number(args.k ?? 20);
  if (!Number.isInteger(k) || k < 1) throw new Error('--k must be a positive integer');
  const choice = await selectBackend(args.backend ? parseBackendName(args.backend) : undefined);
  log(`backend: ${choice.backend} — ${choice.reason}`);

  const trainLists = readLightGCN(args.train);
  const testLists = readLightGCN(args.test);
  const maxId = (lists: number[][]) => lists.reduce((m, l) => l.reduce((a, b) => Math.max(a, b), m), -1);
  const numItems = Math.max(maxId(trainLists), maxId(testLists)) + 1;
  const numUsers = Math.max(trainLists.length, testLists.length);
  const pad = (lists: number[][]) => Array.from({ length: numUsers }, (_, u) => lists[u] ?? []);
  const train_ = fromLists(pad(trainLists), numItems);
  const test = fromLists(pad(testLists), numItems);
  log(`${numUsers} users, ${numItems} items, ${train_.indices.length} train / ${test.indices.length} test interactions`);

  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const report = (t: Trained) => {
    const started = performance.now();
    const r = evaluateRanking(train_, test, t.score, k, { log });
    log(`${t.method}: trained in ${t.trainSeconds.toFixed(2)} s, evaluated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(
      JSON.stringify({
        [`recall@${k}`]: round(r.recall),
        [`ndcg@${k}`]: round(r.ndcg),
        users: r.users,
        items: numItems,
        trainSeconds: Math.round(t.trainSeconds * 100) / 100,
        method: t.method,
      }) + '\n',
    );
  };
  report(train(args.method ?? 'gf-cf', train_, args));
  const [pop, popSeconds] = timed(() => new PopularityScorer(train_));
  report({ method: 'popularity', trainSeconds: popSeconds, score: (users) => pop.scoreBatch(users.length) });
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});

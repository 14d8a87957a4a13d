/**
 * Evaluation CLI: `npm run --silent eval:encoder [-- --model DIR --data DIR --backend B]`.
 * Prints JSON lines on stdout (diagnostics on stderr):
 *  - `{"task":"tags",…}`: tag prediction on the held-out 20% of so-titles-tags (the split the
 *    model's training seed makes): precision@1 and recall@5, for the encoder and for predicting
 *    the most frequent training tags to everyone;
 *  - `{"task":"similarity-scale",…}`: cosine quantiles of test title pairs sharing no tag and
 *    sharing their first tag;
 *  - `{"task":"duplicates",…}`: AskUbuntu duplicate detection, ROC-AUC of the cosine between the
 *    two questions' vectors, for the encoder, a TF-IDF cosine over words (IDF from the file's
 *    own questions), the same hashed bag with an untrained random table, and each half of the
 *    encoder's vector alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend, parseBackendName } from '../backends';
import { flags } from '../training/args';
import { mulberry32 } from '../training/random';
import { defaultDataRoot, defaultModelDir } from '../paths';
import { DUPLICATE_FILES, loadPairs, loadTaggedTitles, type Pair, type Tagged } from '../encoder/data';
import { loadEncoder } from '../encoder/weights';
import { TextEncoder, cosine } from '../encoder/model';
import { rankedTagFigures, tagMetrics } from './encoder-metrics';
import { rocAuc } from './metrics';

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const print = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

function words(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Cosine of TF-IDF word vectors, IDF smoothed as scikit-learn does: ln((1 + n) / (1 + df)) + 1,
 * fitted on the pairs' own questions unless `idfTexts` are given.
 */
function tfidfScores(pairs: Pair[], idfTexts?: string[]): number[] {
  const docs = pairs.flatMap((p) => [words(p.a), words(p.b)]);
  const idfDocs = idfTexts ? idfTexts.map(words) : docs;
  const df = new Map<string, number>();
  for (const d of idfDocs) for (const w of new Set(d)) df.set(w, (df.get(w) ?? 0) + 1);
  const n = idfDocs.length;
  const vec = (d: string[]) => {
    const tf = new Map<string, number>();
    for (const w of d) tf.set(w, (tf.get(w) ?? 0) + 1);
    for (const [w, c] of tf) tf.set(w, c * (Math.log((1 + n) / (1 + (df.get(w) ?? 0))) + 1));
    return tf;
  };
  return pairs.map((_, i) => {
    const a = vec(docs[2 * i]);
    const b = vec(docs[2 * i + 1]);
    let dot = 0;
    for (const [w, x] of a) dot += x * (b.get(w) ?? 0);
    const norm = (m: Map<string, number>) => Math.sqrt([...m.values()].reduce((s, x) => s + x * x, 0));
    return dot / Math.max(1e-12, norm(a) * norm(b));
  });
}

function encoderScores(model: TextEncoder, pairs: Pair[]): number[] {
  const a = model.embed(pairs.map((p) => p.a));
  const b = model.embed(pairs.map((p) => p.b));
  return pairs.map((_, i) => cosine(a[i], b[i]));
}

/**
 * Where cosines fall between test titles that share no tag and that share their first tag: the
 * scale the feed's similarity floor is set against (content-candidates.ts).
 */
function similarityScale(model: TextEncoder, examples: Tagged[], seed: number) {
  const rand = mulberry32(seed + 1);
  const vectors = model.embed(examples.map((e) => e.text));
  const unrelated: number[] = [];
  const sameTag: number[] = [];
  while (unrelated.length < 5000 || sameTag.length < 5000) {
    const i = Math.floor(rand() * examples.length);
    const j = Math.floor(rand() * examples.length);
    if (i === j) continue;
    const shared = examples[i].tags.some((t) => examples[j].tags.includes(t));
    const c = cosine(vectors[i], vectors[j]);
    if (!shared && unrelated.length < 5000) unrelated.push(c);
    else if (shared && examples[i].tags[0] === examples[j].tags[0] && sameTag.length < 5000) sameTag.push(c);
  }
  const q = (a: number[], p: number) => r4([...a].sort((x, y) => x - y)[Math.floor(p * (a.length - 1))]);
  return {
    task: 'similarity-scale', split: 'so-titles-tags test (20%)', method: model.modelVersion, pairs: 5000,
    noSharedTag: { p50: q(unrelated, 0.5), p95: q(unrelated, 0.95), p99: q(unrelated, 0.99) },
    sameFirstTag: { p50: q(sameTag, 0.5), p95: q(sameTag, 0.95) },
  };
}

async function main(): Promise<void> {
  console.log = console.error;
  const args = flags(['model', 'data', 'backend'] as const);
  const dataRoot = args.data ?? defaultDataRoot();
  const dir = args.model ?? defaultModelDir('text-encoder');
  const choice = await selectBackend(args.backend ? parseBackendName(args.backend) : undefined);
  process.stderr.write(`backend: ${choice.backend} — ${choice.reason}\n`);
  const weights = loadEncoder(dir);
  const model = new TextEncoder(weights);
  const seed = (JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { training?: { seed?: number } }).training?.seed ?? 20241122;

  const data = loadTaggedTitles(dataRoot, seed);
  const mine = tagMetrics(model, data.test, weights.tags);
  print({ task: 'tags', split: 'so-titles-tags test (20%)', method: model.modelVersion, n: mine.n, 'precision@1': r4(mine.precisionAt1), 'recall@5': r4(mine.recallAt5) });
  const counts = new Map<string, number>();
  for (const e of data.train) for (const t of e.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  const popular = weights.tags.map((_, i) => i).sort((a, b) => (counts.get(weights.tags[b]) ?? 0) - (counts.get(weights.tags[a]) ?? 0));
  const base = rankedTagFigures(data.test, weights.tags, () => popular);
  print({ task: 'tags', split: 'so-titles-tags test (20%)', method: 'popular-tags', n: base.n, 'precision@1': r4(base.precisionAt1), 'recall@5': r4(base.recallAt5) });

  print(similarityScale(model, data.test, seed));

  const rand = mulberry32(seed);
  const untrained = new TextEncoder({ ...weights, lexical: undefined, embedding: Float32Array.from({ length: weights.embedding.length }, () => rand() * 2 - 1) });
  for (const file of DUPLICATE_FILES) {
    const pairs = loadPairs(dataRoot, file);
    const labels = pairs.map((p) => p.duplicate);
    const started = performance.now();
    const mineAuc = rocAuc(encoderScores(model, pairs), labels);
    const msPerText = (performance.now() - started) / (2 * pairs.length);
    const line = (method: string, auc: number, extra = {}) => print({ task: 'duplicates', file, method, n: pairs.length, rocAuc: r4(auc), ...extra });
    line(model.modelVersion, mineAuc, { msPerText: r4(msPerText) });
    line('tfidf-cosine', rocAuc(tfidfScores(pairs), labels));
    line('tfidf-cosine, IDF from the training titles', rocAuc(tfidfScores(pairs, data.train.map((e) => e.text)), labels));
    line('untrained-hashed-bag', rocAuc(encoderScores(untrained, pairs), labels));
    if (weights.lexical) {
      line(`${model.modelVersion} topic half only`, rocAuc(encoderScores(new TextEncoder(weights, { lexicalShare: 0 }), pairs), labels));
      line(`${model.modelVersion} lexical half only`, rocAuc(encoderScores(new TextEncoder(weights, { lexicalShare: 1 }), pairs), labels));
    }
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

/**
 * Trains the text encoder: `npm run train:encoder [-- --data DIR --out DIR --seed N --epochs N
 * --dim N --buckets N --lr X --char-grams 3-5]`.
 *
 * fastText's supervised recipe (Joulin et al. 2017) over the moderation model's hashed features:
 * a text is the mean of its features' rows (an embedding bag), a linear layer and a softmax
 * predict its tags, and the target spreads evenly over the tags it has. Plain SGD, one example at
 * a time, with the learning rate decaying linearly to zero; only the rows of the example's
 * features change, so an epoch over 21,000 titles takes about a second. The table starts random
 * (uniform ±1/dim) rather than at zero, so words the tags say nothing about still keep distinct
 * directions, which matters when the vectors are compared to each other rather than to tags.
 *
 * The lexical half of the served vector (lexical.ts) needs no training: only the IDF of each word
 * and bigram bucket over the training titles.
 *
 * The epoch with the best tune precision@1 is kept; the figures in model.json are measured on the
 * saved (int8) weights; `npm run eval:encoder` reports the held-out test split and duplicates.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { DEFAULT_FEATURE_CONFIG, Featuriser, poolingScale, type FeatureConfig } from '../moderation/features';
import { loadTaggedTitles } from '../encoder/data';
import { loadEncoder, saveEncoder, type EncoderWeights } from '../encoder/weights';
import { TextEncoder } from '../encoder/model';
import { fitIdf } from '../encoder/lexical';
import { tagMetrics } from '../eval/encoder-metrics';
import { mulberry32, shuffleInPlace } from './random';
import { flags } from './args';
import { defaultDataRoot, defaultModelDir } from '../paths';

const log = (msg: string) => process.stderr.write(msg + '\n');

async function main(): Promise<void> {
  const args = flags(['data', 'out', 'seed', 'epochs', 'dim', 'buckets', 'lr', 'char-grams', 'version', 'lexical-dim', 'lexical-share'] as const);
  const dataRoot = args.data ?? defaultDataRoot();
  const outDir = args.out ?? defaultModelDir('text-encoder');
  const seed = Number(args.seed ?? 20241122);
  const epochs = Number(args.epochs ?? 8);
  const dim = Number(args.dim ?? 64);
  const lr0 = Number(args.lr ?? 0.5);
  const version = args.version ?? '1.0.0';
  const [minCharGram, maxCharGram] = (args['char-grams'] ?? '3-5').split('-').map(Number);
  const features: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, buckets: Number(args.buckets ?? 1 << 17), minCharGram, maxCharGram, pooling: 'mean' };
  await tf.setBackend('cpu');
  const started = Date.now();
  const rand = mulberry32(seed);

  const data = loadTaggedTitles(dataRoot, seed);
  const tags = [...new Set(data.train.flatMap((e) => e.tags))].sort();
  const tagIndex = new Map(tags.map((t, i) => [t, i]));
  log(`data: train ${data.train.length}, tune ${data.tune.length}, test ${data.test.length}; ${tags.length} tags`);

  const featuriser = new Featuriser(features);
  const encoded = data.train.map((e) => ({
    ids: featuriser.view().slice(0, featuriser.hashText(e.text)),
    tags: e.tags.flatMap((t) => tagIndex.get(t) ?? []),
  }));
  const T = tags.length;
  const embedding = new Float32Array(features.buckets * dim);
  for (let i = 0; i < embedding.length; i++) embedding[i] = (rand() * 2 - 1) / dim;
  const outW = new Float32Array(dim * T);
  const outB = new Float32Array(T);
  // Char n-grams are left out of the lexical half: they are what makes the topic half robust to
  // spelling, and in a sketch they would swamp the rare whole words that identify a subject.
  const lexicalFeatures: FeatureConfig = { ...features, buckets: 1 << 18, minCharGram: 1000, maxCharGram: 1000 };
  const lexical = {
    dim: Number(args['lexical-dim'] ?? 256),
    share: Number(args['lexical-share'] ?? 0.5),
    features: lexicalFeatures,
    idf: fitIdf(data.train.map((e) => e.text), lexicalFeatures),
  };
  const snapshot = (): EncoderWeights => ({ name: 'text-encoder', version, features, dim, tags, embedding: embedding.slice(), outW: outW.slice(), outB: outB.slice(), lexical });

  const h = new Float32Array(dim);
  const dh = new Float32Array(dim);
  const z = new Float32Array(T);
  const order = encoded.map((_, i) => i);
  const steps = epochs * encoded.length;
  let step = 0;
  let best: { p1: number; epoch: number; weights: EncoderWeights } | undefined;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffleInPlace(order, rand);
    let loss = 0;
    for (const i of order) {
      const { ids, tags: y } = encoded[i];
      const lr = lr0 * (1 - step++ / steps);
      if (!ids.length || !y.length) continue;
      const scale = poolingScale(features, ids.length);
      h.fill(0);
      for (const id of ids) for (let d = 0, r = id * dim; d < dim; d++) h[d] += embedding[r + d];
      for (let d = 0; d < dim; d++) h[d] *= scale;
      let max = -Infinity;
      for (let t = 0; t < T; t++) {
        let s = outB[t];
        for (let d = 0; d < dim; d++) s += h[d] * outW[d * T + t];
        z[t] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let t = 0; t < T; t++) sum += (z[t] = Math.exp(z[t] - max));
      for (let t = 0; t < T; t++) z[t] /= sum;
      const share = 1 / y.length;
      for (const t of y) {
        loss -= share * Math.log(Math.max(z[t], 1e-12));
        z[t] -= share;
      }
      // z now holds dLoss/dlogits; back-propagate to h before the output layer moves.
      dh.fill(0);
      for (let d = 0; d < dim; d++) {
        let g = 0;
        const row = d * T;
        for (let t = 0; t < T; t++) {
          g += outW[row + t] * z[t];
          outW[row + t] -= lr * h[d] * z[t];
        }
        dh[d] = g * scale * lr;
      }
      for (let t = 0; t < T; t++) outB[t] -= lr * z[t];
      for (const id of ids) for (let d = 0, r = id * dim; d < dim; d++) embedding[r + d] -= dh[d];
    }
    const model = new TextEncoder(snapshot());
    const tune = tagMetrics(model, data.tune, tags);
    log(`epoch ${epoch}: loss ${(loss / encoded.length).toFixed(4)}, tune precision@1 ${tune.precisionAt1.toFixed(4)}, recall@5 ${tune.recallAt5.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    if (!best || tune.precisionAt1 > best.p1) best = { p1: tune.precisionAt1, epoch, weights: model.weights };
  }
  if (!best) throw new Error('no epochs');

  saveEncoder(outDir, best.weights);
  const saved = new TextEncoder(loadEncoder(outDir));
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  const tune = tagMetrics(saved, data.tune, tags);
  const seconds = Math.round((Date.now() - started) / 1000);
  const training = {
    data: 'qa/so-titles-tags/validation.tsv (70% train, 10% tune, 20% test, shuffled with the seed)',
    seed, epochs: best.epoch, maxEpochs: epochs, lr: lr0, dim, lexicalDim: lexical.dim, lexicalShare: lexical.share, trainExamples: data.train.length, tuneExamples: data.tune.length,
    testExamples: data.test.length, seconds,
    tune: { precisionAt1: r4(tune.precisionAt1), recallAt5: r4(tune.recallAt5) },
  };
  saveEncoder(outDir, best.weights, training);
  log(JSON.stringify(training));
  log(`wrote ${join(outDir, 'model.json')} in ${seconds} s`);
}


main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

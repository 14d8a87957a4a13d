/**
 * Trains the moderation model: `npm run train:moderation [-- --data DIR --out DIR --seed N]`
 * (experiments: --epochs, --embed-lr, --dropout, --char-grams 3-5, --pooling mean|sqrt).
 *
 * Architecture: hashed word/bigram/char-n-gram features → mean embedding bag (dim 32, computed in
 * JS exactly as at serving time) → dense ReLU (32) → three sigmoid heads. TensorFlow.js computes
 * the loss and all gradients (including the gradient with respect to each bag); the dense layers
 * are updated by tfjs Adam and the embedding rows touched by a batch by row-wise Adagrad in JS
 * (a dense update of the 8M-entry table every step would be almost all wasted work).
 *
 * Each source labels only some tasks; the loss masks the others. Training stops at the epoch with
 * the best mean ROC-AUC on the tune split, and the operating thresholds are fixed on that split.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { DEFAULT_FEATURE_CONFIG, Featuriser, poolingScale } from '../moderation/features';
import { bagInto } from '../moderation/bag';
import { loadWeights, saveWeights, type ModerationWeights } from '../moderation/weights';
import { ModerationModel } from '../moderation/model';
import { MODERATION_LABELS, type ModerationLabel } from '../inference-client';
import { bestMacroF1Threshold, macroF1, positiveF1, rocAuc } from '../eval/metrics';
import { loadModerationData, type Example, type Source } from './datasets';
import { mulberry32, shuffleInPlace } from './random';
import { flags } from './args';
import { defaultDataRoot, defaultModelDir } from '../paths';

const DIM = 32;
const HIDDEN = 32;
const BATCH = 64;
const MAX_EPOCHS = 4;
const DENSE_LR = 2e-3;
let EMBED_LR = 0.1;

/** Which tune/validation examples judge each label: the domain its threshold is meant for. */
const LABEL_SOURCES: Record<ModerationLabel, Source[]> = {
  toxicity: ['tweeteval-offensive'],
  hate: ['tweeteval-hate'],
  spam: ['sms', 'spamassassin'],
};

const log = (msg: string) => process.stderr.write(msg + '\n');

function glorot(rows: number, cols: number, rand: () => number): Float32Array {
  const limit = Math.sqrt(6 / (rows + cols));
  return Float32Array.from({ length: rows * cols }, () => (rand() * 2 - 1) * limit);
}

interface Encoded {
  ids: Int32Array[];
  y: Float32Array;
  mask: Float32Array;
}

function encode(featuriser: Featuriser, examples: Example[]): Encoded {
  const L = MODERATION_LABELS.length;
  const y = new Float32Array(examples.length * L);
  const mask = new Float32Array(examples.length * L);
  const ids = examples.map((e, i) => {
    for (let l = 0; l < L; l++) {
      y[i * L + l] = Math.max(e.y[l], 0);
      mask[i * L + l] = e.y[l] >= 0 ? 1 : 0;
    }
    return featuriser.featurise(e.text).ids;
  });
  return { ids, y, mask };
}

function scoresFor(model: ModerationModel, examples: Example[], label: ModerationLabel) {
  const l = MODERATION_LABELS.indexOf(label);
  const subset = examples.filter((e) => LABEL_SOURCES[label].includes(e.source) && e.y[l] >= 0);
  const probs = model.probabilities(subset.map((e) => e.text));
  const scores = subset.map((_, i) => probs[i * MODERATION_LABELS.length + l]);
  return { scores, labels: subset.map((e) => e.y[l]) };
}

async function main(): Promise<void> {
  const args = flags(['data', 'out', 'seed', 'epochs', 'version', 'embed-lr', 'char-grams', 'dropout', 'pooling'] as const);
  const dropout = Number(args.dropout ?? 0);
  if (args['embed-lr']) EMBED_LR = Number(args['embed-lr']);
  const dataRoot = args.data ?? defaultDataRoot();
  const outDir = args.out ?? defaultModelDir('moderation');
  const seed = Number(args.seed ?? 20240601);
  const maxEpochs = Number(args.epochs ?? MAX_EPOCHS);
  await tf.setBackend('cpu');
  const started = Date.now();
  const rand = mulberry32(seed);

  const data = loadModerationData(dataRoot, seed);
  log(`data: train ${data.train.length}, tune ${data.tune.length}, test ${data.test.length}, val ${data.val.length}`);
  const [minCharGram, maxCharGram] = (args['char-grams'] ?? '3-5').split('-').map(Number);
  const config = { ...DEFAULT_FEATURE_CONFIG, minCharGram, maxCharGram, pooling: (args.pooling ?? 'mean') as 'mean' | 'sqrt' };
  const featuriser = new Featuriser(config);
  const train = encode(featuriser, data.train);
  const L = MODERATION_LABELS.length;

  const embedding = Float32Array.from({ length: config.buckets * DIM }, () => (rand() * 2 - 1) * 0.05);
  const adagrad = new Float32Array(config.buckets);
  const w1 = tf.variable(tf.tensor2d(glorot(DIM, HIDDEN, rand), [DIM, HIDDEN]), true, 'mod_w1');
  const b1 = tf.variable(tf.zeros([HIDDEN]), true, 'mod_b1');
  const w2 = tf.variable(tf.tensor2d(glorot(HIDDEN, L, rand), [HIDDEN, L]), true, 'mod_w2');
  const b2 = tf.variable(tf.zeros([L]), true, 'mod_b2');
  const optimizer = tf.train.adam(DENSE_LR);

  const snapshot = (version: string): ModerationWeights => ({
    name: 'moderation',
    version,
    features: config,
    labels: [...MODERATION_LABELS],
    dim: DIM,
    hidden: HIDDEN,
    embedding: embedding.slice(),
    w1: w1.dataSync() as Float32Array,
    b1: b1.dataSync() as Float32Array,
    w2: w2.dataSync() as Float32Array,
    b2: b2.dataSync() as Float32Array,
    thresholds: { toxicity: 0.5, hate: 0.5, spam: 0.5 },
  });

  const version = args.version ?? '1.0.0';
  let best: { auc: number; epoch: number; weights: ModerationWeights } | undefined;
  const order = Array.from({ length: train.ids.length }, (_, i) => i);
  for (let epoch = 1; epoch <= maxEpochs; epoch++) {
    shuffleInPlace(order, rand);
    let lossSum = 0;
    for (let s = 0; s < order.length; s += BATCH) {
      const batch = order.slice(s, s + BATCH);
      const B = batch.length;
      const bags = new Float32Array(B * DIM);
      const y = new Float32Array(B * L);
      const mask = new Float32Array(B * L);
      // Feature dropout: each epoch sees a random subset of each text's n-grams.
      const ids = batch.map((ex) => (dropout > 0 ? train.ids[ex].filter(() => rand() >= dropout) : train.ids[ex]));
      batch.forEach((ex, b) => {
        bagInto(embedding, DIM, ids[b], bags, b * DIM, poolingScale(config, ids[b].length));
        y.set(train.y.subarray(ex * L, ex * L + L), b * L);
        mask.set(train.mask.subarray(ex * L, ex * L + L), b * L);
      });
      const x = tf.tensor2d(bags, [B, DIM]);
      const targets = { y: tf.tensor2d(y, [B, L]), mask: tf.tensor2d(mask, [B, L]) };
      const { value, grads } = lossAndGradients(x, targets.y, targets.mask, w1, b1, w2, b2);
      lossSum += value.dataSync()[0] * B;
      optimizer.applyGradients(['mod_w1', 'mod_b1', 'mod_w2', 'mod_b2'].map((name, i) => ({ name, tensor: grads[i + 1] })));
      const gx = grads[0].dataSync();
      tf.dispose([x, value, ...grads, targets.y, targets.mask]);
      ids.forEach((exIds, b) => applyRowAdagrad(embedding, adagrad, exIds, gx, b, poolingScale(config, exIds.length)));
    }
    const model = new ModerationModel(snapshot(version));
    const aucs = MODERATION_LABELS.map((label) => {
      const { scores, labels } = scoresFor(model, data.tune, label);
      return rocAuc(scores, labels);
    });
    model.dispose();
    const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    log(`epoch ${epoch}: loss ${(lossSum / order.length).toFixed(4)}, tune ROC-AUC ${MODERATION_LABELS.map((l, i) => `${l} ${aucs[i].toFixed(4)}`).join(', ')} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    if (!best || mean > best.auc) best = { auc: mean, epoch, weights: snapshot(version) };
  }
  if (!best) throw new Error('no epochs');

  // Thresholds and reported metrics come from the weights as committed (int8 embedding).
  saveWeights(outDir, best.weights);
  let model = new ModerationModel(loadWeights(outDir));
  const thresholds = {} as Record<ModerationLabel, number>;
  for (const label of MODERATION_LABELS) {
    const { scores, labels } = scoresFor(model, data.tune, label);
    thresholds[label] = Number(bestMacroF1Threshold(scores, labels).toFixed(4));
  }
  const report: Record<string, unknown> = {};
  const evaluate = (name: string, examples: Example[], label: ModerationLabel, sources: Source[]) => {
    const l = MODERATION_LABELS.indexOf(label);
    const subset = examples.filter((e) => sources.includes(e.source) && e.y[l] >= 0);
    const probs = model.probabilities(subset.map((e) => e.text));
    const scores = subset.map((_, i) => probs[i * L + l]);
    const labels = subset.map((e) => e.y[l]);
    const t = thresholds[label];
    report[name] = {
      label,
      n: subset.length,
      rocAuc: round4(rocAuc(scores, labels)),
      macroF1: round4(macroF1(scores, labels, t)),
      positiveF1: round4(positiveF1(scores, labels, t)),
      threshold: t,
    };
  };
  evaluate('tweeteval-offensive-val', data.val, 'toxicity', ['tweeteval-offensive']);
  evaluate('tweeteval-hate-val', data.val, 'hate', ['tweeteval-hate']);
  evaluate('sms-test', data.test, 'spam', ['sms']);
  evaluate('spamassassin-test', data.test, 'spam', ['spamassassin']);
  evaluate('davidson-test-toxicity', data.test, 'toxicity', ['davidson']);
  model.dispose();

  const seconds = Math.round((Date.now() - started) / 1000);
  const training = { seed, epochs: best.epoch, maxEpochs, dim: DIM, hidden: HIDDEN, batch: BATCH, denseLr: DENSE_LR, embedLr: EMBED_LR, trainExamples: data.train.length, tuneExamples: data.tune.length, seconds, metrics: report };
  saveWeights(outDir, { ...best.weights, thresholds }, training);
  model = new ModerationModel(loadWeights(outDir));
  model.dispose();
  log(JSON.stringify({ thresholds, ...training }, null, 1));
  log(`wrote ${join(outDir, 'model.json')} in ${seconds} s`);
}

/**
 * Masked binary cross-entropy and its gradients, back-propagated by hand in tfjs ops: the CommonJS
 * build of tfjs-core registers no gradient functions (tfjs-layers does that for its users), and
 * for two dense layers the backward pass is five lines.
 */
function lossAndGradients(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  mask: tf.Tensor2D,
  w1: tf.Variable,
  b1: tf.Variable,
  w2: tf.Variable,
  b2: tf.Variable,
): { value: tf.Scalar; grads: tf.Tensor[] } {
  return tf.tidy(() => {
    const h = tf.relu(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1));
    const z = tf.add(tf.matMul(h, w2 as tf.Tensor2D), b2);
    const count = tf.maximum(tf.sum(mask), 1);
    // Stable BCE with logits: max(z, 0) − z·y + log(1 + e^−|z|).
    const bce = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    const value = tf.div(tf.sum(tf.mul(bce, mask)), count) as tf.Scalar;
    const dz = tf.div(tf.mul(tf.sub(tf.sigmoid(z), y), mask), count) as tf.Tensor2D;
    const dh = tf.mul(tf.matMul(dz, w2 as tf.Tensor2D, false, true), tf.step(h)) as tf.Tensor2D;
    const grads = [
      tf.matMul(dh, w1 as tf.Tensor2D, false, true),
      tf.matMul(x, dh, true, false),
      tf.sum(dh, 0),
      tf.matMul(h, dz, true, false),
      tf.sum(dz, 0),
    ];
    return { value, grads };
  });
}

/** Row-wise Adagrad: one accumulator per row keeps optimiser state at 1 MB instead of 34 MB. */
function applyRowAdagrad(
  embedding: Float32Array,
  acc: Float32Array,
  ids: Int32Array,
  gx: ArrayLike<number>,
  b: number,
  inv: number,
): void {
  const n = ids.length;
  if (n === 0) return;
  let ms = 0;
  for (let d = 0; d < DIM; d++) ms += (gx[b * DIM + d] * inv) ** 2;
  ms /= DIM;
  for (let i = 0; i < n; i++) {
    const r = ids[i];
    acc[r] += ms;
    const step = (EMBED_LR * inv) / Math.sqrt(acc[r] + 1e-10);
    const row = r * DIM;
    for (let d = 0; d < DIM; d++) embedding[row + d] -= step * gx[b * DIM + d];
  }
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

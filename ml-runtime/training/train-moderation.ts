/**
 * Trains the moderation model: `npm run train:moderation [-- --data DIR --out DIR --seed N]`
 * (experiments: --epochs, --lr, --l2, --davidson-weight, --char-grams 3-5, --buckets, --tox-pos-weight,
 * --beta (NB-SVM interpolation), --members nb,plain,nb (logit-averaged members folded into one
 * table; each after the first shuffles with its own seed), --member-weights, --per-label-stop).
 *
 * Model: per label, a logistic regression over hashed word/bigram/char-n-gram features whose
 * values are NB-SVM log-count ratios (Wang & Manning 2012) scaled by 1/√n. The ratios are folded
 * into the weights when saving, so serving is an embedding bag whose rows hold one weight per
 * label: 3 floats a feature instead of a 32-float row, and exact explanations. A 32-dimensional
 * bag with a hidden layer scored lower on every tune split (toxicity ROC-AUC 0.78 vs 0.81).
 *
 * TensorFlow.js computes the masked binary cross-entropy and its gradient with respect to the
 * logits; the weights of the features in a batch get per-coordinate Adagrad in JS (a dense update
 * of the whole table every step would be almost all wasted work). Each source labels only some
 * tasks and the loss masks the others; Davidson's toxicity labels are down-weighted because its
 * notion of "offensive" differs from TweetEval's, the domain the toxicity threshold serves.
 * Training stops at the epoch with the best mean tune ROC-AUC, and the operating thresholds are
 * fixed on the tune split.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { DEFAULT_FEATURE_CONFIG, Featuriser, poolingScale, type FeatureConfig } from '../moderation/features';
import { loadWeights, saveWeights, type ModerationWeights } from '../moderation/weights';
import { ModerationModel } from '../moderation/model';
import { MODERATION_LABELS, type ModerationLabel } from '../inference-client';
import { bestMacroF1Threshold, macroF1, positiveF1, rocAuc } from '../eval/metrics';
import { loadModerationData, type Example, type Source } from './datasets';
import { FEEDBACK_WEIGHT, loadFeedback } from './feedback';
import { mulberry32, shuffleInPlace } from './random';
import { flags } from './args';
import { defaultDataRoot, defaultModelDir, projectRoot } from '../paths';

const L = MODERATION_LABELS.length;
const BATCH = 32;

/** Which tune/validation examples judge each label: the domain its threshold is meant for. */
const LABEL_SOURCES: Record<ModerationLabel, Source[]> = {
  toxicity: ['tweeteval-offensive'],
  hate: ['tweeteval-hate'],
  spam: ['sms', 'spamassassin'],
};

const log = (msg: string) => process.stderr.write(msg + '\n');

interface Encoded {
  ids: Int32Array[];
  y: Float32Array;
  /** Loss weight per example and label; 0 where the source says nothing. */
  mask: Float32Array;
}

function encode(featuriser: Featuriser, examples: Example[], davidsonWeight: number): Encoded {
  const y = new Float32Array(examples.length * L);
  const mask = new Float32Array(examples.length * L);
  const ids = examples.map((e, i) => {
    for (let l = 0; l < L; l++) {
      y[i * L + l] = Math.max(e.y[l], 0);
      mask[i * L + l] = e.y[l] < 0 ? 0 : e.source === 'davidson' ? davidsonWeight : e.source === 'feedback' ? FEEDBACK_WEIGHT : 1;
    }
    return featuriser.view().slice(0, featuriser.hashText(e.text));
  });
  return { ids, y, mask };
}

/** log((p_f / |p|) / (q_f / |q|)) per bucket and label, from weighted counts smoothed by 1. */
function logCountRatios(train: Encoded, buckets: number): Float32Array {
  const pos = new Float32Array(buckets * L).fill(1);
  const neg = new Float32Array(buckets * L).fill(1);
  train.ids.forEach((ids, i) => {
    for (let l = 0; l < L; l++) {
      const w = train.mask[i * L + l];
      if (w === 0) continue;
      const into = train.y[i * L + l] === 1 ? pos : neg;
      for (const id of ids) into[id * L + l] += w;
    }
  });
  const r = new Float32Array(buckets * L);
  for (let l = 0; l < L; l++) {
    let sp = 0;
    let sn = 0;
    for (let b = 0; b < buckets; b++) {
      sp += pos[b * L + l];
      sn += neg[b * L + l];
    }
    for (let b = 0; b < buckets; b++) r[b * L + l] = Math.log(pos[b * L + l] / sp / (neg[b * L + l] / sn));
  }
  return r;
}

function scoresFor(model: ModerationModel, examples: Example[], label: ModerationLabel, sources = LABEL_SOURCES[label]) {
  const l = MODERATION_LABELS.indexOf(label);
  const subset = examples.filter((e) => sources.includes(e.source) && e.y[l] >= 0);
  const probs = model.probabilities(subset.map((e) => e.text));
  return { scores: subset.map((_, i) => probs[i * L + l]), labels: subset.map((e) => e.y[l]) };
}

async function main(): Promise<void> {
  const args = flags(['data', 'out', 'seed', 'epochs', 'version', 'lr', 'l2', 'davidson-weight', 'char-grams', 'buckets', 'feedback-file', 'tox-pos-weight', 'beta', 'members', 'member-weights'] as const, ['feedback', 'per-label-stop'] as const);
  const dataRoot = args.data ?? defaultDataRoot();
  const outDir = args.out ?? defaultModelDir('moderation');
  const seed = Number(args.seed ?? 20240601);
  const maxEpochs = Number(args.epochs ?? 4);
  const lr = Number(args.lr ?? 0.2);
  const l2 = Number(args.l2 ?? 1e-6);
  const davidsonWeight = Number(args['davidson-weight'] ?? 0.3);
  const version = args.version ?? '2.0.0';
  await tf.setBackend('cpu');
  const started = Date.now();
  const rand = mulberry32(seed);

  const data = loadModerationData(dataRoot, seed);
  if (args.feedback || args['feedback-file']) {
    const feedback = loadFeedback(args['feedback-file'], projectRoot());
    data.train.push(...feedback);
    log(`feedback: ${feedback.length} human decisions added to training (weight ${FEEDBACK_WEIGHT})`);
  }
  log(`data: train ${data.train.length}, tune ${data.tune.length}, test ${data.test.length}, val ${data.val.length}`);
  const [minCharGram, maxCharGram] = (args['char-grams'] ?? '3-5').split('-').map(Number);
  const buckets = Number(args.buckets ?? DEFAULT_FEATURE_CONFIG.buckets);
  const config: FeatureConfig = {
    ...DEFAULT_FEATURE_CONFIG,
    buckets,
    minCharGram,
    maxCharGram,
    pooling: 'sqrt',
  };
  const train = encode(new Featuriser(config), data.train, davidsonWeight);
  const toxPosWeight = Number(args['tox-pos-weight'] ?? 1);
  if (toxPosWeight !== 1) for (let i = 0; i < train.ids.length; i++) if (train.y[i * L] === 1) train.mask[i * L] *= toxPosWeight;
  const ratios = logCountRatios(train, buckets);
  const beta = Number(args.beta ?? 1);
  const memberKinds = (args.members ?? 'nb').split(',') as Array<'nb' | 'plain'>;
  const members = memberKinds.map((kind, mi) => ({
    kind,
    rand: mi === 0 ? rand : mulberry32(seed + 1000 * mi),
    order: Array.from({ length: train.ids.length }, (_, i) => i),
    w: new Float32Array(buckets * L),
    acc: new Float32Array(buckets * L),
    bias: new Float32Array(L),
    biasAcc: new Float32Array(L),
    scale: kind === 'nb' ? ratios : undefined,
  }));
  const memberWeights = (args['member-weights'] ?? memberKinds.map(() => String(1 / memberKinds.length)).join(',')).split(',').map(Number);

  const snapshot = (thresholds = { toxicity: 0.5, hate: 0.5, spam: 0.5 }): ModerationWeights => {
    const embedding = new Float32Array(buckets * L);
    const bias = new Float32Array(L);
    members.forEach((m, mi) => {
      const mw = memberWeights[mi];
      // Wang & Manning's interpolation w' = (1 − β)·mean|w| + β·w, per label (only for NB members).
      const mean = new Float32Array(L);
      if (m.kind === 'nb' && beta !== 1) {
        const count = new Float32Array(L);
        for (let i = 0; i < m.w.length; i++) if (m.acc[i] > 0) { mean[i % L] += Math.abs(m.w[i]); count[i % L]++; }
        for (let l = 0; l < L; l++) mean[l] /= Math.max(count[l], 1);
      }
      for (let i = 0; i < embedding.length; i++) {
        const wi = m.kind === 'nb' && beta !== 1 ? (1 - beta) * mean[i % L] + beta * m.w[i] : m.w[i];
        embedding[i] += mw * wi * (m.scale ? m.scale[i] : 1);
      }
      for (let l = 0; l < L; l++) bias[l] += mw * m.bias[l];
    });
    const none = new Float32Array(0);
    return { name: 'moderation', version, features: config, labels: [...MODERATION_LABELS], dim: L, hidden: 0, embedding, w1: none, b1: none, w2: none, b2: bias, thresholds };
  };

  const perLabelStop = Boolean(args['per-label-stop']);
  let best: { auc: number; epoch: number; weights: ModerationWeights } | undefined;
  const bestPerLabel = MODERATION_LABELS.map(() => ({ auc: -1, epoch: 0 }));
  for (let epoch = 1; epoch <= maxEpochs; epoch++) {
    let lossSum = 0;
    for (const m of members) {
      shuffleInPlace(m.order, m.rand);
      for (let s = 0; s < m.order.length; s += BATCH) {
        const batch = m.order.slice(s, s + BATCH);
        const B = batch.length;
        const y = new Float32Array(B * L);
        const mask = new Float32Array(B * L);
        batch.forEach((ex, b) => {
          y.set(train.y.subarray(ex * L, ex * L + L), b * L);
          mask.set(train.mask.subarray(ex * L, ex * L + L), b * L);
        });
        const { w, acc, bias, biasAcc, scale: fs } = m;
        const z = new Float32Array(B * L);
        batch.forEach((ex, b) => {
          const ids = train.ids[ex];
          const scale = poolingScale(config, ids.length);
          for (let l = 0; l < L; l++) {
            let sum = 0;
            if (fs) for (const id of ids) sum += w[id * L + l] * fs[id * L + l];
            else for (const id of ids) sum += w[id * L + l];
            z[b * L + l] = bias[l] + sum * scale;
          }
        });
        const { loss, dz } = lossAndLogitGradient(z, y, mask, B);
        lossSum += loss * B;
        batch.forEach((ex, b) => {
          const ids = train.ids[ex];
          const scale = poolingScale(config, ids.length);
          for (let l = 0; l < L; l++) {
            const g = dz[b * L + l];
            if (g === 0) continue;
            for (const id of ids) {
              const k = id * L + l;
              const gk = g * (fs ? fs[k] : 1) * scale + l2 * w[k];
              acc[k] += gk * gk;
              w[k] -= (lr * gk) / Math.sqrt(acc[k] + 1e-8);
            }
            biasAcc[l] += g * g;
            bias[l] -= (lr * g) / Math.sqrt(biasAcc[l] + 1e-8);
          }
        });
      }
    }
    const current = snapshot();
    const model = new ModerationModel(current);
    const aucs = MODERATION_LABELS.map((label) => {
      const { scores, labels } = scoresFor(model, data.tune, label);
      return rocAuc(scores, labels);
    });
    model.dispose();
    const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    log(`epoch ${epoch}: loss ${(lossSum / train.ids.length / members.length).toFixed(4)}, tune ROC-AUC ${MODERATION_LABELS.map((l, i) => `${l} ${aucs[i].toFixed(4)}`).join(', ')} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    if (perLabelStop) {
      // Each label keeps its own best epoch: its column of the table and its bias.
      if (!best) best = { auc: mean, epoch, weights: current };
      aucs.forEach((auc, l) => {
        if (auc <= bestPerLabel[l].auc) return;
        bestPerLabel[l] = { auc, epoch };
        const e = best!.weights.embedding;
        for (let i = l; i < e.length; i += L) e[i] = current.embedding[i];
        best!.weights.b2[l] = current.b2[l];
      });
      best.epoch = Math.max(...bestPerLabel.map((b) => b.epoch));
    } else if (!best || mean > best.auc) best = { auc: mean, epoch, weights: current };
  }
  if (!best) throw new Error('no epochs');

  // Thresholds and reported metrics come from the weights as committed (int8 embedding).
  saveWeights(outDir, best.weights);
  const model = new ModerationModel(loadWeights(outDir));
  const thresholds = {} as Record<ModerationLabel, number>;
  for (const label of MODERATION_LABELS) {
    const { scores, labels } = scoresFor(model, data.tune, label);
    thresholds[label] = Number(bestMacroF1Threshold(scores, labels).toFixed(4));
  }
  const report: Record<string, unknown> = {};
  const evaluate = (name: string, examples: Example[], label: ModerationLabel, sources: Source[]) => {
    const { scores, labels } = scoresFor(model, examples, label, sources);
    const t = thresholds[label];
    const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
    report[name] = { label, n: scores.length, rocAuc: r4(rocAuc(scores, labels)), macroF1: r4(macroF1(scores, labels, t)), positiveF1: r4(positiveF1(scores, labels, t)), threshold: t };
  };
  evaluate('tweeteval-offensive-val', data.val, 'toxicity', ['tweeteval-offensive']);
  evaluate('tweeteval-hate-val', data.val, 'hate', ['tweeteval-hate']);
  evaluate('sms-test', data.test, 'spam', ['sms']);
  evaluate('spamassassin-test', data.test, 'spam', ['spamassassin']);
  evaluate('davidson-test-toxicity', data.test, 'toxicity', ['davidson']);
  model.dispose();

  const seconds = Math.round((Date.now() - started) / 1000);
  const training = { seed, epochs: best.epoch, maxEpochs, batch: BATCH, lr, l2, davidsonWeight, trainExamples: data.train.length, tuneExamples: data.tune.length, seconds, metrics: report };
  saveWeights(outDir, { ...best.weights, thresholds }, training);
  log(JSON.stringify({ thresholds, ...training }, null, 1));
  log(`wrote ${join(outDir, 'model.json')} in ${seconds} s`);
}

/**
 * Masked binary cross-entropy of logits `z` and its gradient with respect to them, in tfjs (the
 * CommonJS build of tfjs-core registers no gradient functions; for a sigmoid output it is one line).
 */
function lossAndLogitGradient(z: Float32Array, y: Float32Array, mask: Float32Array, B: number): { loss: number; dz: Float32Array } {
  const [loss, dz] = tf.tidy(() => {
    const zt = tf.tensor2d(z, [B, L]);
    const yt = tf.tensor2d(y, [B, L]);
    const mt = tf.tensor2d(mask, [B, L]);
    const count = tf.maximum(tf.sum(mt), 1);
    // Stable BCE with logits: max(z, 0) − z·y + log(1 + e^−|z|).
    const bce = tf.add(tf.sub(tf.relu(zt), tf.mul(zt, yt)), tf.log1p(tf.exp(tf.neg(tf.abs(zt)))));
    return [tf.div(tf.sum(tf.mul(bce, mt)), count), tf.div(tf.mul(tf.sub(tf.sigmoid(zt), yt), mt), count)];
  });
  const out = { loss: loss.dataSync()[0], dz: dz.dataSync() as Float32Array };
  tf.dispose([loss, dz]);
  return out;
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

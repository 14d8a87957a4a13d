/**
 * Trains the moderation model: `npm run train:moderation [-- --data DIR --out DIR --seed N]`
 * (experiments: --epochs, --lr, --l2, --davidson-weight, --char-grams 3-5, --buckets, --tox-pos-weight,
 * --beta (NB-SVM interpolation), --members nb,plain,nb (logit-averaged members folded into one
 * table; each after the first shuffles with its own seed), --member-weights, --per-label-stop,
 * --folds K (default 10; 0: the model and thresholds of the first stage, as in 2.0),
 * --epochs-from oof|tune (how the epoch count is chosen when cross-fitting; default oof).
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
 * The model is cross-fitted: train + tune are split into K folds, and a model fitted on the other
 * folds scores each fold after every epoch, so each example gets an out-of-fold score per epoch
 * count. Per label, the epoch count with the best out-of-fold ROC-AUC is refitted on train +
 * tune, and the operating threshold maximises macro-F1 over that epoch count's out-of-fold
 * scores: ten times as many examples as the tune split alone, so the choices are less a matter
 * of chance, and the model sees the tune split's examples too. Without folds (or with
 * --epochs-from tune) a first fit on the train split picks the epoch with the best mean tune
 * ROC-AUC, as in 2.0. TweetEval's validation splits are never used for any choice.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { DEFAULT_FEATURE_CONFIG, Featuriser, type FeatureConfig } from '../moderation/features';
import { loadWeights, saveWeights, type ModerationWeights } from '../moderation/weights';
import { ModerationModel } from '../moderation/model';
import { MODERATION_LABELS, type ModerationLabel } from '../inference-client';
import { bestMacroF1Threshold, macroF1, positiveF1, rocAuc } from '../eval/metrics';
import { loadModerationData, type Example, type Source } from './datasets';
import { FEEDBACK_WEIGHT, loadFeedback } from './feedback';
import { mulberry32, shuffleInPlace } from './random';
import { flags } from './args';
import { BATCH, encode, L, ModerationFit, type FitOptions } from './moderation-fit';
import { defaultDataRoot, defaultModelDir, projectRoot } from '../paths';


/** Which tune/validation examples judge each label: the domain its threshold is meant for. */
const LABEL_SOURCES: Record<ModerationLabel, Source[]> = {
  toxicity: ['tweeteval-offensive'],
  hate: ['tweeteval-hate'],
  spam: ['sms', 'spamassassin'],
};

const log = (msg: string) => process.stderr.write(msg + '\n');

function scoresFor(model: ModerationModel, examples: Example[], label: ModerationLabel, sources = LABEL_SOURCES[label]) {
  const l = MODERATION_LABELS.indexOf(label);
  const subset = examples.filter((e) => sources.includes(e.source) && e.y[l] >= 0);
  const probs = model.probabilities(subset.map((e) => e.text));
  return { scores: subset.map((_, i) => probs[i * L + l]), labels: subset.map((e) => e.y[l]) };
}

async function main(): Promise<void> {
  const args = flags(['data', 'out', 'seed', 'epochs', 'version', 'lr', 'l2', 'davidson-weight', 'char-grams', 'buckets', 'feedback-file', 'tox-pos-weight', 'beta', 'members', 'member-weights', 'folds', 'epochs-from'] as const, ['feedback', 'per-label-stop'] as const);
  const dataRoot = args.data ?? defaultDataRoot();
  const outDir = args.out ?? defaultModelDir('moderation');
  const seed = Number(args.seed ?? 20240601);
  const maxEpochs = Number(args.epochs ?? 4);
  const version = args.version ?? '2.1.0';
  const folds = Number(args.folds ?? 10);
  await tf.setBackend('cpu');
  const started = Date.now();

  const data = loadModerationData(dataRoot, seed);
  if (args.feedback || args['feedback-file']) {
    const feedback = loadFeedback(args['feedback-file'], projectRoot());
    data.train.push(...feedback);
    log(`feedback: ${feedback.length} human decisions added to training (weight ${FEEDBACK_WEIGHT})`);
  }
  log(`data: train ${data.train.length}, tune ${data.tune.length}, test ${data.test.length}, val ${data.val.length}`);
  const [minCharGram, maxCharGram] = (args['char-grams'] ?? '3-5').split('-').map(Number);
  const config: FeatureConfig = {
    ...DEFAULT_FEATURE_CONFIG,
    buckets: Number(args.buckets ?? DEFAULT_FEATURE_CONFIG.buckets),
    minCharGram,
    maxCharGram,
    pooling: 'sqrt',
  };
  const members = (args.members ?? 'nb').split(',') as Array<'nb' | 'plain'>;
  const opts: FitOptions = {
    config,
    version,
    lr: Number(args.lr ?? 0.2),
    l2: Number(args.l2 ?? 1e-6),
    davidsonWeight: Number(args['davidson-weight'] ?? 0.3),
    toxPosWeight: Number(args['tox-pos-weight'] ?? 1),
    beta: Number(args.beta ?? 1),
    members,
    memberWeights: (args['member-weights'] ?? members.map(() => String(1 / members.length)).join(',')).split(',').map(Number),
  };
  const featuriser = new Featuriser(config);
  let stage1: ModerationFit | undefined;

  const perLabelStop = Boolean(args['per-label-stop']);
  const crossFit = folds > 1 && !perLabelStop;
  const epochsFrom = crossFit ? (args['epochs-from'] ?? 'oof') : 'tune';
  let best: { auc: number; epoch: number; weights: ModerationWeights } | undefined;
  const bestPerLabel = MODERATION_LABELS.map(() => ({ auc: -1, epoch: 0 }));
  // The first stage (a fit on the train split, judged on the tune split) is needed only when the
  // tune split chooses the epoch count.
  for (let epoch = 1; epochsFrom === 'tune' && epoch <= maxEpochs; epoch++) {
    const fit = epoch === 1 ? new ModerationFit(encode(featuriser, data.train, opts), opts, seed) : stage1!;
    stage1 = fit;
    const loss = fit.epoch();
    const current = fit.snapshot();
    const model = new ModerationModel(current);
    const aucs = MODERATION_LABELS.map((label) => {
      const { scores, labels } = scoresFor(model, data.tune, label);
      return rocAuc(scores, labels);
    });
    model.dispose();
    const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
    log(`epoch ${epoch}: loss ${loss.toFixed(4)}, tune ROC-AUC ${MODERATION_LABELS.map((l, i) => `${l} ${aucs[i].toFixed(4)}`).join(', ')} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
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

  // Cross-fitting: every example of train + tune gets a score from a model that did not see it,
  // after each candidate epoch; per label, the epoch count with the best out-of-fold ROC-AUC is
  // refitted on train + tune and its out-of-fold scores set the threshold.
  let oof: Record<ModerationLabel, { scores: number[]; labels: number[] }> | undefined;
  let labelEpochs: number[] | undefined;
  if (crossFit) {
    const candidates = epochsFrom === 'oof' ? maxEpochs : best!.epoch;
    const all = [...data.train, ...data.tune];
    const fold = shuffleInPlace(all.map((_, i) => i % folds), mulberry32(seed + 7));
    const byEpoch = Array.from({ length: candidates }, () => Object.fromEntries(MODERATION_LABELS.map((l) => [l, { scores: [] as number[], labels: [] as number[] }])) as NonNullable<typeof oof>);
    for (let k = 0; k < folds; k++) {
      const foldFit = new ModerationFit(encode(featuriser, all.filter((_, i) => fold[i] !== k), opts), opts, seed + 100 * (k + 1));
      const held = all.filter((_, i) => fold[i] === k);
      for (let e = 1; e <= candidates; e++) {
        foldFit.epoch();
        if (epochsFrom !== 'oof' && e < candidates) continue;
        const model = new ModerationModel(foldFit.snapshot());
        for (const label of MODERATION_LABELS) {
          const { scores, labels } = scoresFor(model, held, label);
          byEpoch[e - 1][label].scores.push(...scores);
          byEpoch[e - 1][label].labels.push(...labels);
        }
        model.dispose();
      }
      log(`fold ${k + 1}/${folds} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    const oofAuc = byEpoch.map((r) => MODERATION_LABELS.map((l) => (r[l].scores.length ? rocAuc(r[l].scores, r[l].labels) : -1)));
    oofAuc.forEach((aucs, e) => epochsFrom === 'oof' && log(`out-of-fold ROC-AUC after epoch ${e + 1}: ${MODERATION_LABELS.map((l, i) => `${l} ${aucs[i].toFixed(4)}`).join(', ')}`));
    labelEpochs = MODERATION_LABELS.map((_, l) => (epochsFrom === 'oof' ? 1 + oofAuc.reduce((bestE, aucs, e) => (aucs[l] > oofAuc[bestE][l] ? e : bestE), 0) : candidates));
    oof = Object.fromEntries(MODERATION_LABELS.map((label, l) => [label, byEpoch[labelEpochs![l] - 1][label]])) as NonNullable<typeof oof>;
    const refit = new ModerationFit(encode(featuriser, all, opts), opts, seed);
    let weights: ModerationWeights | undefined;
    for (let e = 1; e <= Math.max(...labelEpochs); e++) {
      refit.epoch();
      const current = refit.snapshot();
      weights ??= current;
      // Each label's column of the table and its bias come from its own epoch count.
      labelEpochs.forEach((le, l) => {
        if (le !== e) return;
        for (let i = l; i < current.embedding.length; i += L) weights!.embedding[i] = current.embedding[i];
        weights!.b2[l] = current.b2[l];
      });
    }
    best = { auc: NaN, epoch: Math.max(...labelEpochs), weights: weights! };
    log(`refit on train + tune: ${MODERATION_LABELS.map((l, i) => `${l} ${labelEpochs![i]} epochs`).join(', ')} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  if (!best) throw new Error('no epochs');

  // Thresholds and reported metrics come from the weights as committed (int8 embedding).
  saveWeights(outDir, best.weights);
  const model = new ModerationModel(loadWeights(outDir));
  const thresholds = {} as Record<ModerationLabel, number>;
  for (const label of MODERATION_LABELS) {
    const { scores, labels } = oof?.[label] ?? scoresFor(model, data.tune, label);
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
  const training = { seed, epochs: best.epoch, labelEpochs: labelEpochs ? Object.fromEntries(MODERATION_LABELS.map((l, i) => [l, labelEpochs![i]])) : undefined, epochsFrom, maxEpochs, folds: oof ? folds : 0, batch: BATCH, lr: opts.lr, l2: opts.l2, davidsonWeight: opts.davidsonWeight, trainExamples: data.train.length + (oof ? data.tune.length : 0), tuneExamples: data.tune.length, thresholdsFrom: oof ? 'out-of-fold scores on train + tune' : 'tune split', seconds, metrics: report };
  saveWeights(outDir, { ...best.weights, thresholds }, training);
  log(JSON.stringify({ thresholds, ...training }, null, 1));
  log(`wrote ${join(outDir, 'model.json')} in ${seconds} s`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

/**
 * Evaluation CLI (a contract other tools call):
 *   npm run --silent eval:moderation -- --label hate --texts F --labels F [--model DIR] [--backend B]
 * F files are TweetEval-style: one text per line, one 0/1 label per line. Prints exactly one JSON
 * line {"label","n","rocAuc","macroF1","threshold"} on stdout, where threshold is the model's own
 * operating threshold from its metadata (never tuned on the file). Diagnostics go to stderr.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, parseBackendName } from '../backends';
import { loadWeights } from '../moderation/weights';
import { ModerationModel } from '../moderation/model';
import { MODERATION_LABELS, type ModerationLabel } from '../inference-client';
import { readLines } from '../training/datasets';
import { flags } from '../training/args';
import { defaultModelDir } from '../paths';
import { bestMacroF1Threshold, macroF1, rocAuc } from './metrics';

async function main(): Promise<void> {
  // Anything a library prints must not corrupt the one JSON line on stdout.
  console.log = console.error;
  const args = flags(['label', 'texts', 'labels', 'model', 'backend'] as const);
  const label = args.label as ModerationLabel;
  if (!MODERATION_LABELS.includes(label)) throw new Error(`--label must be one of ${MODERATION_LABELS.join(', ')}`);
  if (!args.texts || !args.labels) throw new Error('--texts and --labels are required');
  const texts = readLines(args.texts);
  const labels = readLines(args.labels).map((l) => Number(l.trim()));
  if (texts.length !== labels.length) throw new Error(`${texts.length} texts but ${labels.length} labels`);

  const choice = await selectBackend(args.backend ? parseBackendName(args.backend) : undefined);
  process.stderr.write(`backend: ${choice.backend} — ${choice.reason}\n`);
  const model = new ModerationModel(loadWeights(args.model ?? defaultModelDir('moderation')));
  const l = model.weights.labels.indexOf(label);
  const scores: number[] = [];
  for (let i = 0; i < texts.length; i += 512) {
    const probs = model.probabilities(texts.slice(i, i + 512));
    for (let b = 0; b * model.weights.labels.length < probs.length; b++) scores.push(probs[b * model.weights.labels.length + l]);
  }
  const threshold = model.weights.thresholds[label];
  const oracle = bestMacroF1Threshold(scores, labels);
  process.stderr.write(
    `${model.modelVersion} on ${tf.getBackend()}; for reference only, the best threshold on this file would be ` +
      `${oracle.toFixed(4)} (macro-F1 ${macroF1(scores, labels, oracle).toFixed(4)})\n`,
  );
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  process.stdout.write(
    JSON.stringify({
      label,
      n: texts.length,
      rocAuc: round(rocAuc(scores, labels)),
      macroF1: round(macroF1(scores, labels, threshold)),
      threshold,
    }) + '\n',
  );
  model.dispose();
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});

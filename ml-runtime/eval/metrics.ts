/** Binary classification metrics used by training (model selection, thresholds) and the eval CLI. */

/** ROC-AUC as the Mann–Whitney statistic, with tied scores counted as half. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]] === 1) {
        pos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

function f1(tp: number, fp: number, fn: number): number {
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Mean of the F1 of the positive and of the negative class, predicting positive at score ≥ threshold. */
export function macroF1(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i] >= threshold;
    if (labels[i] === 1) p ? tp++ : fn++;
    else p ? fp++ : tn++;
  }
  return (f1(tp, fp, fn) + f1(tn, fn, fp)) / 2;
}

/** F1 of the positive class alone. */
export function positiveF1(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i] >= threshold;
    if (labels[i] === 1) p ? tp++ : fn++;
    else if (p) fp++;
  }
  return f1(tp, fp, fn);
}

/** The threshold (midway between adjacent distinct scores) that maximises macro-F1 on this data. */
export function bestMacroF1Threshold(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const totalPos = idx.reduce((s, i) => s + (labels[i] === 1 ? 1 : 0), 0);
  const totalNeg = n - totalPos;
  let tp = 0;
  let fp = 0;
  let best = -1;
  let bestT = 0.5;
  for (let k = 0; k < n; k++) {
    labels[idx[k]] === 1 ? tp++ : fp++;
    if (k + 1 < n && scores[idx[k + 1]] === scores[idx[k]]) continue;
    const fn = totalPos - tp;
    const tn = totalNeg - fp;
    const m = (f1(tp, fp, fn) + f1(tn, fn, fp)) / 2;
    if (m > best) {
      best = m;
      bestT = k + 1 < n ? (scores[idx[k]] + scores[idx[k + 1]]) / 2 : scores[idx[k]];
    }
  }
  return bestT;
}

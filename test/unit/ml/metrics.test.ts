import { bestMacroF1Threshold, macroF1, positiveF1, rocAuc } from '../../../ml-runtime/eval/metrics';

describe('classification metrics', () => {
  it('computes ROC-AUC as the probability a positive outranks a negative, ties counting half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBeCloseTo(0.5);
    expect(rocAuc([0.9, 0.8, 0.1], [1, 1, 0])).toBe(1);
    expect(rocAuc([0.2, 0.3], [1, 1])).toBeNaN();
  });

  it('computes macro-F1 as the mean of both classes’ F1 at a threshold', () => {
    // tp 1, fn 1, fp 1, tn 1: F1 0.5 for both classes.
    expect(macroF1([0.9, 0.1, 0.8, 0.2], [1, 1, 0, 0], 0.5)).toBeCloseTo(0.5);
    expect(macroF1([0.9, 0.1], [1, 0], 0.5)).toBe(1);
    expect(positiveF1([0.9, 0.6, 0.1], [1, 0, 1], 0.5)).toBeCloseTo(0.5);
  });

  it('finds the threshold that separates the classes when one exists', () => {
    const scores = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9];
    const labels = [0, 0, 0, 1, 1, 1];
    const t = bestMacroF1Threshold(scores, labels);
    expect(t).toBeGreaterThan(0.3);
    expect(t).toBeLessThanOrEqual(0.7);
    expect(macroF1(scores, labels, t)).toBe(1);
  });
});

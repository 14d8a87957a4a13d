import { ndcgAtK, recallAtK } from '../../../ml-runtime/eval/ranking-metrics';
import { topK } from '../../../ml-runtime/recommender/topk';

describe('ranking metrics as in the LightGCN paper', () => {
  it('recall is the hits in the top k over the number of test items', () => {
    expect(recallAtK([5, 1, 9, 2], new Set([1, 2, 7]), 3)).toBeCloseTo(1 / 3);
    expect(recallAtK([5, 1, 9, 2], [1, 2, 7], 4)).toBeCloseTo(2 / 3);
    expect(recallAtK([5, 9], [1], 2)).toBe(0);
  });

  it('NDCG uses binary relevance with the ideal DCG over min(k, |test|) ranks', () => {
    // hits at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); 3 test items, k = 4: IDCG = 1 + 1/log2(3) + 1/2
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
    expect(ndcgAtK([5, 1, 9, 2], [1, 2, 7], 4)).toBeCloseTo(dcg / (1 + 1 / Math.log2(3) + 0.5), 10);
    // 3 test items but k = 2: IDCG over 2 ranks only
    expect(ndcgAtK([1, 5], [1, 2, 7], 2)).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 10);
    expect(ndcgAtK([1, 2], [2, 1], 2)).toBeCloseTo(1, 10);
    expect(ndcgAtK([4, 3], [2], 2)).toBe(0);
  });

  it('an empty test set has undefined metrics rather than a misleading zero', () => {
    expect(recallAtK([1], [], 1)).toBeNaN();
    expect(ndcgAtK([1], [], 1)).toBeNaN();
  });
});

describe('top-k selection', () => {
  it('returns the k best items, best first, with ties to the lower id', () => {
    const r = topK(Float32Array.from([0.1, 0.9, 0.5, 0.9, -1, 0.7]), 3);
    expect(Array.from(r.items)).toEqual([1, 3, 5]);
    expect(Array.from(r.scores)).toEqual([Math.fround(0.9), Math.fround(0.9), Math.fround(0.7)]);
  });

  it('skips excluded items and ranks only the candidates when given', () => {
    const s = Float32Array.from([0.1, 0.9, 0.5, 0.8, 0.2]);
    expect(Array.from(topK(s, 2, { exclude: new Set([1]) }).items)).toEqual([3, 2]);
    expect(Array.from(topK(s, 2, { exclude: [1, 3] }).items)).toEqual([2, 4]);
    expect(Array.from(topK(s, 5, { candidates: Int32Array.from([0, 4, 2]) }).items)).toEqual([2, 4, 0]);
  });

  it('returns fewer than k items when fewer exist', () => {
    expect(Array.from(topK([3, 1], 5).items)).toEqual([0, 1]);
  });
});

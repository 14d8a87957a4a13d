/**
 * Full-ranking evaluation as in the LightGCN paper: for every user with test items, rank all items
 * not in their training set and average Recall@k and NDCG@k over those users.
 */
import { itemsOf, type Interactions } from './interactions';
import { topK } from './topk';
import { ndcgAtK, recallAtK } from '../eval/ranking-metrics';

/** Scores for a batch of users, row-major batch × numItems. */
export type BatchScorer = (users: number[]) => Float32Array;

export interface RankingResult {
  recall: number;
  ndcg: number;
  /** Users evaluated (those with at least one test item). */
  users: number;
}

export function evaluateRanking(
  train: Interactions,
  test: Interactions,
  score: BatchScorer,
  k: number,
  opts: { batchSize?: number; log?: (line: string) => void } = {},
): RankingResult {
  const numItems = train.numItems;
  const users: number[] = [];
  for (let u = 0; u < test.numUsers; u++) if (itemsOf(test, u).length) users.push(u);
  const batchSize = opts.batchSize ?? 512;
  let recall = 0;
  let ndcg = 0;
  for (let b0 = 0; b0 < users.length; b0 += batchSize) {
    const batch = users.slice(b0, b0 + batchSize);
    const scores = score(batch);
    batch.forEach((u, b) => {
      const row = scores.subarray(b * numItems, (b + 1) * numItems);
      for (const i of itemsOf(train, u)) row[i] = -Infinity;
      const ranked = topK(row, k).items;
      const relevant = new Set(itemsOf(test, u));
      recall += recallAtK(ranked, relevant, k);
      ndcg += ndcgAtK(ranked, relevant, k);
    });
    if (opts.log && (b0 / batchSize) % 10 === 0) opts.log(`evaluated ${Math.min(b0 + batchSize, users.length)}/${users.length} users`);
  }
  return { recall: recall / users.length, ndcg: ndcg / users.length, users: users.length };
}

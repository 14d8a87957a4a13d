/** Figures for the text encoder, shared by its training (model selection) and the eval CLI. */
import type { TextEncoder } from '../encoder/model';
import type { Tagged } from '../encoder/data';

export interface TagFigures {
  n: number;
  /** Share of texts whose top-ranked tag is one of theirs. */
  precisionAt1: number;
  /** Mean over texts of the share of their tags found in the top 5. */
  recallAt5: number;
}

/** Precision@1 and recall@5 of a ranking of tag indices per text. */
export function rankedTagFigures(examples: Tagged[], tags: string[], rank: (i: number) => number[]): TagFigures {
  let p1 = 0;
  let r5 = 0;
  examples.forEach((e, i) => {
    const top = rank(i).slice(0, 5).map((t) => tags[t]);
    const truth = new Set(e.tags);
    if (truth.has(top[0])) p1++;
    r5 += top.filter((t) => truth.has(t)).length / truth.size;
  });
  const n = examples.length;
  return { n, precisionAt1: p1 / n, recallAt5: r5 / n };
}

export function tagMetrics(model: TextEncoder, examples: Tagged[], tags: string[]): TagFigures {
  const T = tags.length;
  const batch = 1024;
  const ranked: number[][] = [];
  for (let s = 0; s < examples.length; s += batch) {
    const part = examples.slice(s, s + batch);
    const probs = model.tagProbabilities(part.map((e) => e.text));
    part.forEach((_, b) => {
      const row = probs.subarray(b * T, (b + 1) * T);
      ranked.push(topIndices(row, 5));
    });
  }
  return rankedTagFigures(examples, tags, (i) => ranked[i]);
}

export function topIndices(row: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: row.length }, (_, i) => i).sort((a, b) => row[b] - row[a]).slice(0, k);
}

/**
 * The encoder's data, read by path from the shared folder (never copied into the project):
 * Stack Overflow titles with their tags (training and the tag-prediction test), and AskUbuntu
 * question pairs labelled duplicate or not (the similarity test).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { mulberry32, shuffleInPlace } from '../training/random';
import { encoderInput } from './text';

export interface Tagged {
  text: string;
  tags: string[];
}

export interface TagSplits {
  train: Tagged[];
  /** Early stopping. */
  tune: Tagged[];
  /** Held out from training and model selection: the reported figures. */
  test: Tagged[];
}

export const SO_TITLES = join('qa', 'so-titles-tags', 'validation.tsv');

/** `['php', 'sql']` (a Python list literal) → ['php', 'sql']. */
function parseTags(cell: string): string[] {
  return [...cell.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? m[2]);
}

/** 70% train, 10% tune, 20% test, shuffled with `seed` (the eval CLI rebuilds the same split). */
export function loadTaggedTitles(dataRoot: string, seed: number): TagSplits {
  const rows = parse(readFileSync(join(dataRoot, SO_TITLES)), { delimiter: '\t', columns: true, relax_quotes: true, skip_empty_lines: true }) as Array<{ title: string; tags: string }>;
  const all = rows.map((r) => ({ text: encoderInput(r.title, ''), tags: parseTags(r.tags) })).filter((r) => r.tags.length > 0);
  shuffleInPlace(all, mulberry32(seed));
  const a = Math.round(all.length * 0.7);
  const b = Math.round(all.length * 0.8);
  return { train: all.slice(0, a), tune: all.slice(a, b), test: all.slice(b) };
}

export interface Pair {
  a: string;
  b: string;
  duplicate: 0 | 1;
}

export const DUPLICATE_FILES = ['askubuntu_noclue_val.tsv', 'askubuntu_clue_val.tsv'] as const;

/**
 * `label <TAB> question <TAB> question`. The `noclue` file (labels duplicate / non-duplicate) holds
 * title + HTML body, the body starting at the first tag: the fair test. The `clue` file (labels
 * true / false) is lower-cased, stripped text that keeps the "possible duplicate" notes Bogdanova
 * et al. left in, which give many duplicates away.
 */
export function loadPairs(dataRoot: string, file: string = DUPLICATE_FILES[0]): Pair[] {
  const lines = readFileSync(join(dataRoot, 'qa', 'askubuntu-duplicates', file), 'utf8').split('\n').filter((l) => l.trim());
  const question = (s: string) => {
    const i = s.search(/<[a-z]/i);
    return i < 0 ? encoderInput(s, '') : encoderInput(s.slice(0, i), s.slice(i));
  };
  return lines.map((line) => {
    const [label, a, b] = line.split('\t');
    return { a: question(a ?? ''), b: question(b ?? ''), duplicate: label === 'duplicate' || label === 'true' ? 1 : 0 };
  });
}

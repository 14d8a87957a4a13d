/**
 * The community's own moderation decisions as training examples. They come from the server's
 * database through its operator command (`admin export-feedback`), so training never needs to know
 * the schema; `--feedback-file` takes a saved export instead.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Example } from './datasets';

/** Feedback outweighs a crowd-labelled tweet: it is this community's judgement on its own content. */
export const FEEDBACK_WEIGHT = 2;

export function parseFeedback(jsonl: string): Example[] {
  return jsonl
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const e = JSON.parse(line) as { text: string; y: [number, number, number] };
      if (typeof e.text !== 'string' || !Array.isArray(e.y) || e.y.length !== 3) throw new Error(`bad feedback line: ${line.slice(0, 80)}`);
      return { text: e.text, y: e.y, source: 'feedback' as const };
    });
}

export function loadFeedback(file: string | undefined, projectRoot: string): Example[] {
  if (file) return parseFeedback(readFileSync(file, 'utf8'));
  const out = execFileSync(process.execPath, [join(projectRoot, 'dist/src/cli/admin.js'), 'export-feedback'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  return parseFeedback(out);
}

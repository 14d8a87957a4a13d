/**
 * What the encoder reads of a post: its title and body as plain words. Markup and punctuation are
 * dropped because `<p>`, `**` or the full stops of a long body occur in every post alike and,
 * counted many times over, would pull unrelated posts together; `+` and `#` stay (C++, C#).
 */
import { decodeHTML } from '../training/datasets';

const TAG = /<\/?[a-z][^>]*>/gi;
const PUNCTUATION = /[^\p{L}\p{N}\s+#']+|(?<![\p{L}\p{N}])'|'(?![\p{L}\p{N}])/gu;

export function plainText(s: string): string {
  return decodeHTML(s.replace(TAG, ' ')).replace(PUNCTUATION, ' ').replace(/\s+/g, ' ').trim();
}

/** The title is repeated: it is what a post is about, the body mostly how the author got there. */
export function encoderInput(title: string | null | undefined, body: string | null | undefined): string {
  const t = plainText(title ?? '');
  const b = plainText(body ?? '');
  return t ? `${t} ${t} ${b}` : b;
}

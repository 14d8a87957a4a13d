import { badInput } from '../../shared/errors';
import type { PostKind } from './post.entity';

/** Shape rules for posts: pure, so they are unit-tested and shared by create, edit and import. */

export const TITLE_MIN = 5;
export const TITLE_MAX = 200;
export const BODY_MAX = 30_000;
export const MAX_TAGS = 5;
export const TAG_PATTERN = /^[a-z0-9][a-z0-9+#.-]{0,34}$/;

export const TOP_LEVEL_KINDS: readonly PostKind[] = ['QUESTION', 'ARTICLE', 'DISCUSSION'];
export const hasTitle = (kind: PostKind): boolean => TOP_LEVEL_KINDS.includes(kind);

/** Which parent kinds a post of this kind may hang under; null means it must have no parent. */
export function allowedParents(kind: PostKind): readonly PostKind[] | null {
  if (kind === 'ANSWER') return ['QUESTION'];
  if (kind === 'COMMENT') return ['QUESTION', 'ANSWER', 'ARTICLE', 'DISCUSSION', 'COMMENT'];
  return null;
}

export function normaliseTags(raw: readonly string[]): string[] {
  const tags = [...new Set(raw.map((t) => t.trim().toLowerCase()).filter(Boolean))];
  for (const t of tags) {
    if (!TAG_PATTERN.test(t)) throw badInput(`"${t}" is not a valid tag: use a-z, 0-9, "+", "#", "." or "-"`, 'tags');
  }
  if (tags.length > MAX_TAGS) throw badInput(`At most ${MAX_TAGS} tags`, 'tags');
  return tags;
}

export function checkTitle(kind: PostKind, title: string | null | undefined): string | null {
  const t = title?.trim() ?? '';
  if (!hasTitle(kind)) {
    if (t) throw badInput(`A ${kind.toLowerCase()} has no title`, 'title');
    return null;
  }
  if (t.length < TITLE_MIN || t.length > TITLE_MAX) {
    throw badInput(`Title must be ${TITLE_MIN}–${TITLE_MAX} characters`, 'title');
  }
  return t;
}

export function checkBody(body: string): string {
  const b = body.trim();
  if (!b) throw badInput('Body must not be empty', 'body');
  if (b.length > BODY_MAX) throw badInput(`Body must be at most ${BODY_MAX} characters`, 'body');
  return b;
}

export function checkTags(kind: PostKind, tags: readonly string[] | null | undefined): string[] {
  const list = normaliseTags(tags ?? []);
  if (!hasTitle(kind) && list.length) throw badInput(`A ${kind.toLowerCase()} takes its parent's tags`, 'tags');
  if (kind === 'QUESTION' && !list.length) throw badInput('A question needs at least one tag', 'tags');
  return list;
}

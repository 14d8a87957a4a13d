/**
 * Pure mapping rules from Stack Exchange data-dump values to Colloquy's column constraints.
 * Kept free of I/O so the rules can be tested on their own.
 */

/** Same rule as the users.handle CHECK. */
export const HANDLE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{1,38}$/;
/** Same rule as the tags.name CHECK. */
export const TAG_RE = /^[a-z0-9][a-z0-9+#.-]{0,34}$/;
/** Same limit as post.rules MAX_TAGS. */
export const MAX_IMPORTED_TAGS = 5;
const HANDLE_MAX = 39;

function stripAccents(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '');
}

/**
 * A handle-shaped slug of a display name, or null when nothing usable is left (names in scripts
 * other than Latin, or a single character); the caller then falls back to the account id.
 */
export function handleBase(displayName: string): string | null {
  const slug = stripAccents(displayName)
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, HANDLE_MAX)
    .replace(/[._-]+$/, '');
  return HANDLE_RE.test(slug) ? slug : null;
}

/**
 * Picks a free handle for an imported account. The same inputs always give the same handle, so a
 * re-import against the same database state is stable; `taken` holds lower-cased handles and is
 * updated with the one returned.
 */
export function allocateHandle(displayName: string, sourceId: string, taken: Set<string>): string {
  const idPart = sourceId.replace(/[^A-Za-z0-9]/g, '') || '0';
  const base = handleBase(displayName) ?? `user${idPart}`;
  const candidates = function* (): Generator<string> {
    yield base;
    const suffix = `_${idPart}`;
    yield base.slice(0, HANDLE_MAX - suffix.length) + suffix;
    for (let n = 2; ; n++) {
      const s = `_${idPart}_${n}`;
      yield base.slice(0, HANDLE_MAX - s.length) + s;
    }
  };
  for (const c of candidates()) {
    if (HANDLE_RE.test(c) && !taken.has(c.toLowerCase())) {
      taken.add(c.toLowerCase());
      return c;
    }
  }
  throw new Error('unreachable');
}

/** A tag name that satisfies the tags CHECK, or null when nothing usable is left. */
export function normaliseTagName(raw: string): string | null {
  const name = stripAccents(raw.trim().toLowerCase())
    .replace(/[\s_]+/g, '-')
    .replace(/[^a-z0-9+#.-]/g, '')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 35);
  return TAG_RE.test(name) ? name : null;
}

/**
 * The `Tags` attribute of a question: `<a><b>` in older dumps, `|a|b|` in newer ones (the XML
 * parser has already decoded `&lt;`). Returns normalised, de-duplicated names, at most five.
 */
export function parseTagsAttribute(attr: string | undefined): string[] {
  if (!attr) return [];
  const parts = attr.includes('<') ? [...attr.matchAll(/<([^>]*)>/g)].map((m) => m[1]) : attr.split('|');
  const out: string[] = [];
  for (const p of parts) {
    const name = normaliseTagName(p);
    if (name && !out.includes(name)) out.push(name);
    if (out.length === MAX_IMPORTED_TAGS) break;
  }
  return out;
}

/** Dump timestamps are UTC without a zone designator; PostgreSQL would read them as local time. */
export function dumpTimestamp(value: string | undefined): string | null {
  if (!value) return null;
  return /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
}

/** An integer attribute, or null when absent or malformed. */
export function intAttr(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/** `stackexchange:<site>`; the site defaults to the dump folder's name. */
export function sourceName(site: string): string {
  return `stackexchange:${site.trim().toLowerCase()}`;
}

import type { EntityManager } from 'typeorm';
import type { Candidate, CandidateSource } from './rank';
import type { MemberState } from './member-state';
import { queryPrepared } from '../../shared/db/prepared';
import * as tagSources from './tag-sources';
import { similarContent } from './content-candidates';

/**
 * Candidate generators: each asks one question of the database and returns at most `limit`
 * published top-level posts with a score in [0, 1] and a reason a reader understands.
 */

const LIMIT = 200;

interface Row {
  id: number;
  author_id: number;
  published_at: Date;
  tags: string[] | null;
  score: number;
  via: string | null;
}

const VISIBLE = `p.deleted_at IS NULL AND p.status = 'PUBLISHED' AND p.parent_id IS NULL`;
/**
 * Tags of a candidate matter only for "show less like this" penalties and the wording of hot and
 * fresh reasons, so the per-member sources skip them (see `withTags`): a subquery per candidate
 * row was most of a feed's database time.
 *
 * The shared lists that do need them take the top rows first and join their tags once: as a
 * subquery per row, PostgreSQL hashed the whole tags table for every row (4 ms for 100 rows
 * against 0.7 ms).
 */
function withTagNames(top: string, order: string): string {
  return `WITH top AS MATERIALIZED (${top})
    SELECT top.id, top.author_id, top.published_at, top.score, NULL AS via,
           array_agg(t.name ORDER BY t.name) FILTER (WHERE t.name IS NOT NULL) AS tags
      FROM top LEFT JOIN post_tags pt ON pt.post_id = top.id LEFT JOIN tags t ON t.id = pt.tag_id
     GROUP BY top.id, top.author_id, top.published_at, top.score, top.sort_key ORDER BY ${order}`;
}

function toCandidates(rows: Row[], source: CandidateSource, reason: (r: Row) => string): Candidate[] {
  const max = Math.max(1e-9, ...rows.map((r) => Number(r.score)));
  return rows.map((r) => ({
    postId: r.id, authorId: r.author_id, source, score: Number(r.score) / max, reason: reason(r),
    tags: r.tags ?? [], publishedAt: new Date(r.published_at),
  }));
}

/**
 * Published-at as epoch milliseconds (a float8, exact for timestamptz(3)): node-postgres parses a
 * timestamptz from its text on every row, about 40% of the client's CPU on `describe`'s 200 rows.
 */
const PUBLISHED_MS = `(extract(epoch FROM p.first_published_at) * 1000)::float8`;

export async function followedUsers(m: EntityManager, userId: number): Promise<Candidate[]> {
  // Per followee, only their newest posts can make the list: read in order from
  // posts_author_published_idx and cut at the limit, however much each of them has written.
  const rows = await queryPrepared<Array<{ id: number; author_id: number; published_ms: number; via: string }>>(m, 'feed_followed_users',
    `SELECT p.id, p.author_id, ${PUBLISHED_MS} AS published_ms, u.handle AS via
       FROM user_follows f JOIN users u ON u.id = f.followee_id
       CROSS JOIN LATERAL (
         SELECT p.id, p.author_id, p.first_published_at FROM posts p WHERE p.author_id = f.followee_id AND ${VISIBLE}
          ORDER BY p.first_published_at DESC, p.id DESC LIMIT ${LIMIT}) p
      WHERE f.follower_id = $1
      ORDER BY p.first_published_at DESC, p.id DESC LIMIT ${LIMIT}`,
    [userId],
  );
  // The score is the publication time in seconds, as extract(epoch) gave it before.
  const max = Math.max(1e-9, ...rows.map((r) => r.published_ms / 1000));
  return rows.map((r) => ({
    postId: r.id, authorId: r.author_id, source: 'FOLLOWED_USER', score: r.published_ms / 1000 / max, reason: `because you follow @${r.via}`,
    tags: [], publishedAt: new Date(r.published_ms),
  }));
}

/** Newest posts with the tags the member follows (in memory, over shared per-tag lists). */
export function followedTags(m: EntityManager, state: MemberState): Promise<Candidate[]> {
  return tagSources.followedTags(m, state);
}

/**
 * The content source: posts sharing the tags of what the member bookmarked, voted up or wrote,
 * and, where the text encoder runs, recent posts whose text is close to those
 * (`content-candidates.ts`), which reaches fresh posts that share no tag.
 */
export async function contentAffinity(m: EntityManager, state: MemberState): Promise<Candidate[]> {
  // Without the encoder (disabled, busy, past its deadline) the tags alone still rank.
  const [byTags, byText] = await Promise.all([tagSources.contentAffinity(m, state), similarContent(m, state).catch(() => [] as Candidate[])]);
  return [...byTags, ...byText];
}

export async function hot(m: EntityManager, limit = LIMIT): Promise<Candidate[]> {
  const rows: Row[] = await m.query(
    withTagNames(`SELECT p.id, p.author_id, p.first_published_at AS published_at, p.hot AS score, p.hot AS sort_key
                    FROM posts p WHERE ${VISIBLE} ORDER BY p.hot DESC, p.id DESC LIMIT $1`, 'top.sort_key DESC, top.id DESC'),
    [limit],
  );
  // Hot values are large (they grow with time); rank within the list instead.
  rows.forEach((r, i) => (r.score = rows.length - i));
  return toCandidates(rows, 'HOT', (r) => (r.tags?.length ? `popular in #${r.tags[0]}` : 'popular now'));
}

export async function fresh(m: EntityManager, limit = 100): Promise<Candidate[]> {
  const rows: Row[] = await m.query(
    withTagNames(`SELECT p.id, p.author_id, p.first_published_at AS published_at, extract(epoch FROM p.first_published_at) AS score,
                         p.first_published_at AS sort_key
                    FROM posts p WHERE ${VISIBLE} ORDER BY p.first_published_at DESC, p.id DESC LIMIT $1`, 'top.sort_key DESC, top.id DESC'),
    [limit],
  );
  return toCandidates(rows, 'FRESH', (r) => (r.tags?.length ? `new in #${r.tags[0]}` : 'new'));
}

/** Metadata of recommended posts, keeping only those a feed may show. */
export async function describe(m: EntityManager, scored: Array<{ postId: number; score: number }>, source: CandidateSource, reason: string): Promise<Candidate[]> {
  if (!scored.length) return [];
  const rows = await queryPrepared<Array<{ id: number; author_id: number; published_ms: number }>>(m, 'feed_describe',
    `SELECT p.id, p.author_id, ${PUBLISHED_MS} AS published_ms FROM posts p WHERE p.id = ANY($1) AND ${VISIBLE}`,
    [scored.map((s) => s.postId)],
  );
  const meta = new Map(rows.map((r) => [r.id, r]));
  const max = Math.max(1e-9, ...scored.map((s) => s.score));
  return scored.flatMap((s) => {
    const r = meta.get(s.postId);
    return r ? [{ postId: r.id, authorId: r.author_id, source, score: Math.max(0, s.score) / max, reason, tags: [], publishedAt: new Date(r.published_ms) }] : [];
  });
}

/** Fills in candidates' tags in one query (needed only when the member has dismissed something). */
export async function withTags(m: EntityManager, list: Candidate[]): Promise<Candidate[]> {
  const missing = [...new Set(list.filter((c) => !c.tags.length).map((c) => c.postId))];
  if (!missing.length) return list;
  const rows: Array<{ post_id: number; tags: string[] }> = await m.query(
    `SELECT pt.post_id, array_agg(t.name ORDER BY t.name) AS tags FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
      WHERE pt.post_id = ANY($1) GROUP BY pt.post_id`,
    [missing],
  );
  const tags = new Map(rows.map((r) => [r.post_id, r.tags]));
  return list.map((c) => (c.tags.length ? c : { ...c, tags: tags.get(c.postId) ?? [] }));
}

/**
 * Hot and fresh are the same for everyone: shared for a few seconds instead of queried per request,
 * and dropped at once when a post is published or taken down (`invalidateSharedLists`).
 */
const SHARED_TTL_MS = 5_000;
const shared = new WeakMap<object, Map<string, { at: number; value: Promise<Candidate[]> }>>();

export function sharedList(m: EntityManager, key: 'hot' | 'fresh', load: () => Promise<Candidate[]>): Promise<Candidate[]> {
  const scope = m.connection as object;
  let entries = shared.get(scope);
  if (!entries) shared.set(scope, (entries = new Map()));
  const hit = entries.get(key);
  if (hit && Date.now() - hit.at < SHARED_TTL_MS) return hit.value;
  const value = load();
  entries.set(key, { at: Date.now(), value });
  value.catch(() => entries!.delete(key));
  return value;
}

export function invalidateSharedLists(scope: object): void {
  shared.delete(scope);
}

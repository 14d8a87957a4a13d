import type { EntityManager } from 'typeorm';
import type { Candidate, CandidateSource, Negative } from './rank';

/**
 * Candidate generators: each asks one question of the database and returns at most `limit`
 * published top-level posts with a score in [0, 1] and a reason a reader understands.
 */

const LIMIT = 200;
/** Posts per affinity tag considered by the content source. */
const PER_TAG = 300;

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
 */
const TAGS = `(SELECT array_agg(t.name ORDER BY t.name) FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id)`;

function toCandidates(rows: Row[], source: CandidateSource, reason: (r: Row) => string): Candidate[] {
  const max = Math.max(1e-9, ...rows.map((r) => Number(r.score)));
  return rows.map((r) => ({
    postId: r.id, authorId: r.author_id, source, score: Number(r.score) / max, reason: reason(r),
    tags: r.tags ?? [], publishedAt: new Date(r.published_at),
  }));
}

export async function followedUsers(m: EntityManager, userId: number): Promise<Candidate[]> {
  const rows: Row[] = await m.query(
    `SELECT p.id, p.author_id, p.first_published_at AS published_at, NULL::text[] AS tags, u.handle AS via,
            extract(epoch FROM p.first_published_at) AS score
       FROM user_follows f JOIN posts p ON p.author_id = f.followee_id JOIN users u ON u.id = p.author_id
      WHERE f.follower_id = $1 AND ${VISIBLE}
      ORDER BY p.first_published_at DESC LIMIT ${LIMIT}`,
    [userId],
  );
  return toCandidates(rows, 'FOLLOWED_USER', (r) => `because you follow @${r.via}`);
}

export async function followedTags(m: EntityManager, userId: number): Promise<Candidate[]> {
  // Pick the newest matches first (cheap), then describe only those: tags are large.
  const rows: Row[] = await m.query(
    `WITH top AS (
        SELECT pt.post_id AS id, min(t.name) AS via, count(*) AS n, max(p.first_published_at) AS at
          FROM tag_follows f JOIN tags t ON t.id = f.tag_id
               CROSS JOIN LATERAL (SELECT post_id FROM post_tags WHERE tag_id = f.tag_id ORDER BY post_id DESC LIMIT ${PER_TAG}) pt
               JOIN posts p ON p.id = pt.post_id
         WHERE f.user_id = $1 AND ${VISIBLE}
         GROUP BY pt.post_id ORDER BY at DESC LIMIT ${LIMIT})
     SELECT p.id, p.author_id, p.first_published_at AS published_at, NULL::text[] AS tags, top.via,
            extract(epoch FROM p.first_published_at) * top.n AS score
       FROM top JOIN posts p ON p.id = top.id`,
    [userId],
  );
  return toCandidates(rows, 'FOLLOWED_TAG', (r) => `because you follow #${r.via}`);
}

/**
 * Content affinity: tags of what the member bookmarked (weight 3), voted up (2) or wrote (1) —
 * the ten strongest — scored over each tag's newest posts by shared tags, newest first among equals. The reason
 * names the strongest kind of signal.
 */
export async function contentAffinity(m: EntityManager, userId: number): Promise<Candidate[]> {
  const rows: Row[] = await m.query(
    `WITH signals AS (
        SELECT pt.tag_id, 3 AS w, 'bookmarked' AS kind FROM bookmarks b JOIN post_tags pt ON pt.post_id = b.post_id WHERE b.user_id = $1
        UNION ALL SELECT pt.tag_id, 2, 'voted up' FROM votes v JOIN post_tags pt ON pt.post_id = v.post_id WHERE v.user_id = $1 AND v.value = 1
        UNION ALL SELECT pt.tag_id, 1, 'wrote' FROM posts o JOIN post_tags pt ON pt.post_id = coalesce(o.parent_id, o.id) WHERE o.author_id = $1),
      affinity AS (SELECT tag_id, sum(w) AS w, (array_agg(kind ORDER BY w DESC))[1] AS kind FROM signals GROUP BY tag_id ORDER BY 2 DESC LIMIT 10),
      -- The newest posts of each tag (ids grow with time), so the cost does not grow with the tag's history.
      scored AS (SELECT pt.post_id AS id, sum(a.w) AS score, (array_agg(a.kind ORDER BY a.w DESC))[1] AS via
                   FROM affinity a CROSS JOIN LATERAL (
                     SELECT post_id FROM post_tags WHERE tag_id = a.tag_id ORDER BY post_id DESC LIMIT ${PER_TAG}) pt
                  GROUP BY pt.post_id),
      top AS (SELECT s.id, s.score, s.via FROM scored s JOIN posts p ON p.id = s.id
               WHERE ${VISIBLE} ORDER BY s.score DESC, p.first_published_at DESC LIMIT ${LIMIT})
     SELECT p.id, p.author_id, p.first_published_at AS published_at, NULL::text[] AS tags, top.score, top.via
       FROM top JOIN posts p ON p.id = top.id`,
    [userId],
  );
  return toCandidates(rows, 'CONTENT', (r) => (r.via === 'wrote' ? 'related to what you write about' : `similar to posts you ${r.via}`));
}

export async function hot(m: EntityManager, limit = LIMIT): Promise<Candidate[]> {
  const rows: Row[] = await m.query(
    `SELECT p.id, p.author_id, p.first_published_at AS published_at, ${TAGS} AS tags, NULL AS via, p.hot AS score
       FROM posts p WHERE ${VISIBLE} ORDER BY p.hot DESC, p.id DESC LIMIT $1`,
    [limit],
  );
  // Hot values are large (they grow with time); rank within the list instead.
  rows.forEach((r, i) => (r.score = rows.length - i));
  return toCandidates(rows, 'HOT', (r) => (r.tags?.length ? `popular in #${r.tags[0]}` : 'popular now'));
}

export async function fresh(m: EntityManager, limit = 100): Promise<Candidate[]> {
  const rows: Row[] = await m.query(
    `SELECT p.id, p.author_id, p.first_published_at AS published_at, ${TAGS} AS tags, NULL AS via,
            extract(epoch FROM p.first_published_at) AS score
       FROM posts p WHERE ${VISIBLE} ORDER BY p.first_published_at DESC, p.id DESC LIMIT $1`,
    [limit],
  );
  return toCandidates(rows, 'FRESH', (r) => (r.tags?.length ? `new in #${r.tags[0]}` : 'new'));
}

export async function feedback(m: EntityManager, userId: number): Promise<{ seen: Set<number>; dismissed: Set<number>; negative: Negative }> {
  const [seen, dismissed, negTags, negAuthors] = await Promise.all([
    m.query(`SELECT post_id FROM feed_seen WHERE user_id = $1`, [userId]),
    m.query(`SELECT post_id FROM feed_dismissals WHERE user_id = $1`, [userId]),
    m.query(`SELECT t.name, count(*)::int AS n FROM feed_dismissals d JOIN post_tags pt ON pt.post_id = d.post_id JOIN tags t ON t.id = pt.tag_id
              WHERE d.user_id = $1 GROUP BY t.name`, [userId]),
    m.query(`SELECT p.author_id, count(*)::int AS n FROM feed_dismissals d JOIN posts p ON p.id = d.post_id WHERE d.user_id = $1 GROUP BY p.author_id`, [userId]),
  ]);
  return {
    seen: new Set(seen.map((r: { post_id: number }) => r.post_id)),
    dismissed: new Set(dismissed.map((r: { post_id: number }) => r.post_id)),
    negative: {
      tags: new Map(negTags.map((r: { name: string; n: number }) => [r.name, r.n])),
      authors: new Map(negAuthors.map((r: { author_id: number; n: number }) => [r.author_id, r.n])),
    },
  };
}

/** Metadata of recommended posts, keeping only those a feed may show. */
export async function describe(m: EntityManager, scored: Array<{ postId: number; score: number }>, source: CandidateSource, reason: string): Promise<Candidate[]> {
  if (!scored.length) return [];
  const rows: Array<{ id: number; author_id: number; published_at: Date; tags: string[] | null }> = await m.query(
    `SELECT p.id, p.author_id, p.first_published_at AS published_at, NULL::text[] AS tags FROM posts p WHERE p.id = ANY($1) AND ${VISIBLE}`,
    [scored.map((s) => s.postId)],
  );
  const meta = new Map(rows.map((r) => [r.id, r]));
  const max = Math.max(1e-9, ...scored.map((s) => s.score));
  return scored.flatMap((s) => {
    const r = meta.get(s.postId);
    return r ? [{ postId: r.id, authorId: r.author_id, source, score: Math.max(0, s.score) / max, reason, tags: r.tags ?? [], publishedAt: new Date(r.published_at) }] : [];
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

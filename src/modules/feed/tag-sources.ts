import type { EntityManager } from 'typeorm';
import type { Candidate } from './rank';
import type { MemberState } from './member-state';

/**
 * The followed-tag and content-affinity sources, computed in memory from each tag's newest
 * visible posts. Those lists are the same for every member, so a process reads a tag's list once
 * and keeps it until a post with that tag is published, a post in it is taken down or shown again,
 * or `LIST_TTL_MS` passes (an edit that changes a post's tags announces nothing); ranking a member
 * then costs no per-tag scan (those two queries were most of a cold feed's database time).
 */

/** Newest posts per tag that the sources consider, so the cost does not grow with a tag's history. */
const PER_TAG = 300;
const LIMIT = 200;
/** Tags kept per process (a list is ~300 small rows). */
const MAX_TAGS = 5_000;
const LIST_TTL_MS = 60_000;

interface TagPost {
  id: number;
  authorId: number;
  publishedAt: Date;
}
interface TagList {
  name: string;
  posts: TagPost[];
}

const scopes = new WeakMap<object, Map<number, Promise<TagList>>>();
/** When each list's query was sent. */
const loadedAt = new WeakMap<Promise<TagList>, number>();

function listsOf(owner: object): Map<number, Promise<TagList>> {
  let lists = scopes.get(owner);
  if (!lists) scopes.set(owner, (lists = new Map()));
  return lists;
}

/**
 * Drops the lists of these tag names (a post with them was published), or the lists holding this
 * post (it was taken down), or all lists when neither is given (a post came back and its tags are
 * not known here).
 */
export function invalidateTagLists(owner: object, which?: { names: string[] } | { holding: number }): void {
  const lists = scopes.get(owner);
  if (!lists) return;
  if (!which) return void lists.clear();
  const drop = 'names' in which ? ((names) => (l: TagList) => names.has(l.name))(new Set(which.names)) : (l: TagList) => l.posts.some((p) => p.id === which.holding);
  for (const [id, list] of lists) {
    void list.then((l) => drop(l) && lists.get(id) === list && lists.delete(id), () => undefined);
  }
}

async function tagLists(m: EntityManager, tagIds: number[]): Promise<Map<number, TagList>> {
  const lists = listsOf(m.connection);
  const now = Date.now();
  const missing = [...new Set(tagIds)].filter((id) => {
    const list = lists.get(id);
    return !list || now - loadedAt.get(list)! > LIST_TTL_MS;
  });
  if (missing.length) {
    const loading = m.query(
      `SELECT t.id AS tag_id, t.name, p.id, p.author_id, p.first_published_at AS published_at
         FROM tags t LEFT JOIN LATERAL (
           SELECT p.id, p.author_id, p.first_published_at FROM post_tags pt JOIN posts p ON p.id = pt.post_id
            WHERE pt.tag_id = t.id AND p.deleted_at IS NULL AND p.status = 'PUBLISHED' AND p.parent_id IS NULL
            ORDER BY pt.post_id DESC LIMIT ${PER_TAG}) p ON true
        WHERE t.id = ANY($1)`,
      [missing],
    ) as Promise<Array<{ tag_id: number; name: string; id: number | null; author_id: number; published_at: Date }>>;
    for (const id of missing) {
      const list = loading.then((rows) => {
        const l: TagList = { name: '', posts: [] };
        for (const r of rows) {
          if (r.tag_id !== id) continue;
          l.name = r.name;
          if (r.id !== null) l.posts.push({ id: r.id, authorId: r.author_id, publishedAt: new Date(r.published_at) });
        }
        return l;
      });
      list.catch(() => lists.get(id) === list && lists.delete(id));
      loadedAt.set(list, now);
      lists.delete(id); // re-inserted last: the Map's order is oldest load first
      lists.set(id, list);
    }
    while (lists.size > MAX_TAGS) lists.delete(lists.keys().next().value as number);
  }
  const out = new Map<number, TagList>();
  await Promise.all([...new Set(tagIds)].map(async (id) => out.set(id, await lists.get(id)!)));
  return out;
}

function candidates(top: Array<{ p: TagPost; score: number; reason: string }>, source: Candidate['source']): Candidate[] {
  const max = Math.max(1e-9, ...top.map((t) => t.score));
  return top.map(({ p, score, reason }) => ({ postId: p.id, authorId: p.authorId, source, score: score / max, reason, tags: [], publishedAt: p.publishedAt }));
}

/**
 * A source's last answer for a member's state, with the lists it was computed from: a cached
 * ranking catching up with a post published elsewhere (`feed.service.ts`) passes the same state,
 * and when none of its tags' lists was reloaded the answer is the same.
 */
const memo = { followed: new WeakMap<MemberState, Memo>(), affinity: new WeakMap<MemberState, Memo>() };
interface Memo {
  lists: TagList[];
  result: Candidate[];
}

function remembered(cache: WeakMap<MemberState, Memo>, state: MemberState, ids: number[], lists: Map<number, TagList>, compute: () => Candidate[]): Candidate[] {
  const used = ids.map((id) => lists.get(id)!);
  const hit = cache.get(state);
  if (hit && hit.lists.length === used.length && hit.lists.every((l, i) => l === used[i])) return hit.result;
  const result = compute();
  cache.set(state, { lists: used, result });
  return result;
}

/** Newest posts with a tag the member follows; more followed tags on a post count for more. */
export async function followedTags(m: EntityManager, state: MemberState): Promise<Candidate[]> {
  if (!state.followedTags.length) return [];
  const lists = await tagLists(m, state.followedTags);
  return remembered(memo.followed, state, state.followedTags, lists, () => followedTagsOf(state, lists));
}

function followedTagsOf(state: MemberState, lists: Map<number, TagList>): Candidate[] {
  const byPost = new Map<number, { p: TagPost; n: number; via: string }>();
  for (const id of state.followedTags) {
    const l = lists.get(id)!;
    for (const p of l.posts) {
      const e = byPost.get(p.id);
      if (!e) byPost.set(p.id, { p, n: 1, via: l.name });
      else {
        e.n++;
        if (l.name < e.via) e.via = l.name;
      }
    }
  }
  const top = [...byPost.values()].sort((a, b) => b.p.publishedAt.getTime() - a.p.publishedAt.getTime() || b.p.id - a.p.id).slice(0, LIMIT);
  return candidates(top.map((e) => ({ p: e.p, score: (e.p.publishedAt.getTime() / 1000) * e.n, reason: `because you follow #${e.via}` })), 'FOLLOWED_TAG');
}

const KINDS = [['bookmarkTags', 3, 'bookmarked'], ['voteTags', 2, 'voted up'], ['wroteTags', 1, 'wrote']] as const;

/**
 * Content affinity: tags of what the member bookmarked (weight 3), voted up (2) or wrote (1) — the
 * ten strongest — scored over each tag's newest posts by shared tags, newest first among equals.
 * The reason names the strongest kind of signal.
 */
export async function contentAffinity(m: EntityManager, state: MemberState): Promise<Candidate[]> {
  const affinity = new Map<number, { w: number; best: number; kind: string }>();
  for (const [field, w, kind] of KINDS) {
    for (const tag of state[field]) {
      const a = affinity.get(tag);
      if (!a) affinity.set(tag, { w, best: w, kind });
      else {
        a.w += w;
        if (w > a.best) Object.assign(a, { best: w, kind });
      }
    }
  }
  const strongest = [...affinity].sort((a, b) => b[1].w - a[1].w || a[0] - b[0]).slice(0, 10);
  if (!strongest.length) return [];
  const ids = strongest.map(([id]) => id);
  const lists = await tagLists(m, ids);
  return remembered(memo.affinity, state, ids, lists, () => affinityOf(strongest, lists));
}

function affinityOf(strongest: Array<[number, { w: number; kind: string }]>, lists: Map<number, TagList>): Candidate[] {
  const byPost = new Map<number, { p: TagPost; score: number; best: number; via: string }>();
  for (const [id, a] of strongest) {
    for (const p of lists.get(id)!.posts) {
      const e = byPost.get(p.id);
      if (!e) byPost.set(p.id, { p, score: a.w, best: a.w, via: a.kind });
      else {
        e.score += a.w;
        if (a.w > e.best) Object.assign(e, { best: a.w, via: a.kind });
      }
    }
  }
  const top = [...byPost.values()].sort((a, b) => b.score - a.score || b.p.publishedAt.getTime() - a.p.publishedAt.getTime()).slice(0, LIMIT);
  return candidates(top.map((e) => ({ p: e.p, score: e.score, reason: e.via === 'wrote' ? 'related to what you write about' : `similar to posts you ${e.via}` })), 'CONTENT');
}

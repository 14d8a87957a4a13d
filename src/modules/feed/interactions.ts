import type { EntityManager } from 'typeorm';

/**
 * The user–content graph the recommender learns from, read from the database. An edge joins a
 * member and a top-level post when they bookmarked it, voted it (or one of its answers) up, or
 * wrote it or something in its thread. Items are posts that are published and not deleted.
 */
const ROOTS = `WITH RECURSIVE roots AS (
    SELECT id, id AS root FROM posts WHERE parent_id IS NULL
    UNION ALL SELECT p.id, r.root FROM posts p JOIN roots r ON p.parent_id = r.id)`;

const EDGES = `
    SELECT b.user_id, r.root FROM bookmarks b JOIN roots r ON r.id = b.post_id
    UNION SELECT v.user_id, r.root FROM votes v JOIN roots r ON r.id = v.post_id WHERE v.value = 1
    UNION SELECT p.author_id, r.root FROM posts p JOIN roots r ON r.id = p.id WHERE p.deleted_at IS NULL`;

const ITEM = `JOIN posts i ON i.id = e.root AND i.deleted_at IS NULL AND i.status = 'PUBLISHED'`;

export interface InteractionGraph {
  /** Model item index → post id. */
  postIds: number[];
  /** Per user (in no particular order): indices of the items they interacted with. */
  lists: number[][];
  edges: number;
}

export async function loadInteractionGraph(m: EntityManager): Promise<InteractionGraph> {
  const rows: Array<{ user_id: number; root: number }> = await m.query(
    `${ROOTS} SELECT e.user_id, e.root FROM (${EDGES}) AS e(user_id, root) ${ITEM} ORDER BY e.user_id, e.root`,
  );
  const index = new Map<number, number>();
  const postIds: number[] = [];
  const byUser = new Map<number, number[]>();
  for (const r of rows) {
    let i = index.get(r.root);
    if (i === undefined) {
      index.set(r.root, (i = postIds.length));
      postIds.push(r.root);
    }
    const list = byUser.get(r.user_id) ?? [];
    list.push(i);
    byUser.set(r.user_id, list);
  }
  return { postIds, lists: [...byUser.values()], edges: rows.length };
}

import type { EntityManager } from 'typeorm';

/** Answers and comments carry no tags of their own; subscribers filter them by their thread's. */
export async function threadTagNames(m: EntityManager, postId: number): Promise<string[]> {
  const rows: Array<{ name: string }> = await m.query(
    `WITH RECURSIVE up AS (SELECT id, parent_id FROM posts WHERE id = $1
       UNION ALL SELECT p.id, p.parent_id FROM posts p JOIN up ON p.id = up.parent_id)
     SELECT t.name FROM up JOIN post_tags pt ON pt.post_id = up.id JOIN tags t ON t.id = pt.tag_id
      WHERE up.parent_id IS NULL ORDER BY t.name`,
    [postId],
  );
  return rows.map((r) => r.name);
}

/** Announces posts that just became visible to everyone (after commit). */
export async function announcePublished(
  m: EntityManager,
  publish: (payload: { postId: number; tags: string[]; kind: string }) => void,
  postIds: number[],
): Promise<void> {
  if (!postIds.length) return;
  const rows: Array<{ id: number; kind: string }> = await m.query(`SELECT id, kind FROM posts WHERE id = ANY($1) ORDER BY id`, [postIds]);
  for (const r of rows) publish({ postId: r.id, kind: r.kind, tags: await threadTagNames(m, r.id) });
}

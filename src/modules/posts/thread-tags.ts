import type { EntityManager } from 'typeorm';
import type { PostAdded } from '../../shared/pubsub';

/**
 * Announces posts that just became visible to everyone (after commit). Answers and comments carry
 * no tags of their own, so each is announced with its thread's tags (subscribers filter by them);
 * one query resolves the threads of the whole batch.
 */
export async function announcePublished(
  m: EntityManager,
  publish: (payload: PostAdded) => void,
  postIds: number[],
): Promise<void> {
  if (!postIds.length) return;
  const rows: Array<{ id: number; kind: string; author_id: number; top_level: boolean; tags: string[] | null }> = await m.query(
    `WITH RECURSIVE up AS (SELECT id AS start, id, parent_id FROM posts WHERE id = ANY($1)
       UNION ALL SELECT up.start, p.id, p.parent_id FROM posts p JOIN up ON p.id = up.parent_id)
     SELECT s.id, s.kind, s.author_id, s.parent_id IS NULL AS top_level,
            (SELECT array_agg(t.name ORDER BY t.name) FROM up JOIN post_tags pt ON pt.post_id = up.id JOIN tags t ON t.id = pt.tag_id
              WHERE up.start = s.id AND up.parent_id IS NULL) AS tags
       FROM posts s WHERE s.id = ANY($1) ORDER BY s.id`,
    [postIds],
  );
  for (const r of rows) publish({ postId: r.id, kind: r.kind, tags: r.tags ?? [], authorId: r.author_id, topLevel: r.top_level });
}

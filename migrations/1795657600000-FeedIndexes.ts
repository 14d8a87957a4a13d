import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The followed-users feed source reads each followee's newest visible top-level posts. With only
 * `posts_author_idx` (by `created_at`, over every post) it fetched all of an author's posts from
 * the heap, filtered and sorted them; this index hands them over in order, from the index alone,
 * so the source stops after its limit per followee however much they have written.
 */
export class FeedIndexes1795657600000 implements MigrationInterface {
  name = 'FeedIndexes1795657600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX posts_author_published_idx ON posts (author_id, first_published_at DESC, id DESC)
      WHERE deleted_at IS NULL AND status = 'PUBLISHED' AND parent_id IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS posts_author_published_idx`);
  }
}

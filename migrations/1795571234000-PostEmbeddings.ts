import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The text encoder's vector of each top-level post, tagged with the model that made it: vectors
 * of different models are not comparable, so a new model re-embeds what it reads. The vector is
 * stored as its float32 bytes (little-endian), not `real[]`: a feed reads hundreds of vectors at
 * once, and parsing a 320-element array from text took about a third of a millisecond each.
 */
export class PostEmbeddings1795571234000 implements MigrationInterface {
  name = 'PostEmbeddings1795571234000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE post_embeddings (
        post_id integer PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
        model text NOT NULL,
        vector bytea NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS post_embeddings`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Feed feedback (seen, "show less like this") and ranked snapshots that keep pagination stable. */
export class Feeds1795478400000 implements MigrationInterface {
  name = 'Feeds1795478400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX posts_published_idx ON posts (first_published_at DESC, id DESC)
      WHERE deleted_at IS NULL AND status = 'PUBLISHED' AND parent_id IS NULL`);
    await q.query(`
      CREATE TABLE feed_seen (
        user_id integer NOT NULL REFERENCES users (id),
        post_id integer NOT NULL REFERENCES posts (id),
        seen_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, post_id)
      )`);
    await q.query(`
      CREATE TABLE feed_dismissals (
        user_id integer NOT NULL REFERENCES users (id),
        post_id integer NOT NULL REFERENCES posts (id),
        reason text NOT NULL CHECK (reason IN ('NOT_INTERESTED', 'SEEN_TOO_OFTEN', 'OFF_TOPIC', 'LOW_QUALITY')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, post_id)
      )`);
    // One ranked list per first page; later pages read positions in it, so nothing moves under them.
    await q.query(`
      CREATE TABLE feed_snapshots (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id integer REFERENCES users (id),
        mode text NOT NULL,
        post_ids integer[] NOT NULL,
        reasons text[] NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX feed_snapshots_created_idx ON feed_snapshots (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['feed_snapshots', 'feed_dismissals', 'feed_seen']) await q.query(`DROP TABLE IF EXISTS ${t}`);
    await q.query(`DROP INDEX IF EXISTS posts_published_idx`);
  }
}

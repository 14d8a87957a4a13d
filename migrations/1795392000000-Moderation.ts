import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Moderation as append-only events plus a derived status per subject (Bluesky Ozone's model), an
 * outbox of jobs for the model, member reports and the policy admins edit.
 */
export class Moderation1795392000000 implements MigrationInterface {
  name = 'Moderation1795392000000';

  async up(q: QueryRunner): Promise<void> {
    // PENDING: stored but not yet scored by the model; visible only to its author and moderators.
    await q.query(`ALTER TABLE posts DROP CONSTRAINT posts_status_check`);
    await q.query(`ALTER TABLE posts ADD CONSTRAINT posts_status_check
      CHECK (status IN ('PENDING', 'PUBLISHED', 'PENDING_REVIEW', 'HIDDEN', 'REMOVED'))`);
    // Set when a post is first shown to everyone: that moment, not creation, is when it is "added".
    await q.query(`ALTER TABLE posts ADD COLUMN first_published_at timestamptz(3)`);
    await q.query(`UPDATE posts SET first_published_at = created_at WHERE status = 'PUBLISHED'`);

    await q.query(`
      CREATE TABLE moderation_jobs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        subject_id integer NOT NULL REFERENCES posts (id),
        state text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'DONE')),
        attempts integer NOT NULL DEFAULT 0,
        available_at timestamptz(3) NOT NULL DEFAULT now(),
        locked_until timestamptz(3),
        last_error text,
        created_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
        decided_at timestamptz(3)
      )`);
    await q.query(`CREATE INDEX moderation_jobs_pending_idx ON moderation_jobs (available_at, id) WHERE state = 'PENDING'`);

    await q.query(`
      CREATE TABLE moderation_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        subject_id integer NOT NULL REFERENCES posts (id),
        type text NOT NULL CHECK (type IN ('AUTOMATED', 'HUMAN', 'REPORT', 'APPEAL', 'APPEAL_RESOLVED')),
        action text NOT NULL,
        actor_id integer REFERENCES users (id),
        model_version text,
        scores jsonb,
        explanations jsonb,
        reason text,
        previous_status text NOT NULL,
        new_status text NOT NULL,
        job_id bigint UNIQUE REFERENCES moderation_jobs (id),
        created_at timestamptz(3) NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX moderation_events_subject_idx ON moderation_events (subject_id, id)`);
    await q.query(`CREATE INDEX moderation_events_actor_idx ON moderation_events (actor_id) WHERE actor_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE moderation_status (
        subject_id integer PRIMARY KEY REFERENCES posts (id),
        status text NOT NULL,
        last_event_id bigint NOT NULL,
        model_version text,
        scores jsonb,
        explanations jsonb,
        report_count integer NOT NULL DEFAULT 0,
        appeal_state text NOT NULL DEFAULT 'NONE' CHECK (appeal_state IN ('NONE', 'OPEN', 'RESOLVED')),
        escalated boolean NOT NULL DEFAULT false,
        priority double precision NOT NULL DEFAULT 0,
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX moderation_status_queue_idx ON moderation_status (priority DESC, subject_id DESC)`);

    await q.query(`
      CREATE TABLE reports (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        subject_id integer NOT NULL REFERENCES posts (id),
        reporter_id integer NOT NULL REFERENCES users (id),
        reason text NOT NULL CHECK (reason IN ('SPAM', 'TOXIC', 'HATE', 'OFF_TOPIC', 'OTHER')),
        note text NOT NULL DEFAULT '',
        outcome text CHECK (outcome IN ('UPHELD', 'REJECTED')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        UNIQUE (subject_id, reporter_id)
      )`);
    await q.query(`CREATE INDEX reports_reporter_idx ON reports (reporter_id) WHERE outcome IS NOT NULL`);

    await q.query(`
      CREATE TABLE moderation_policy (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        policy jsonb NOT NULL,
        updated_by integer REFERENCES users (id),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['moderation_policy', 'reports', 'moderation_status', 'moderation_events', 'moderation_jobs']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
    await q.query(`ALTER TABLE posts DROP COLUMN first_published_at`);
    await q.query(`UPDATE posts SET status = 'PENDING_REVIEW' WHERE status = 'PENDING'`);
    await q.query(`ALTER TABLE posts DROP CONSTRAINT posts_status_check`);
    await q.query(`ALTER TABLE posts ADD CONSTRAINT posts_status_check
      CHECK (status IN ('PUBLISHED', 'PENDING_REVIEW', 'HIDDEN', 'REMOVED'))`);
  }
}

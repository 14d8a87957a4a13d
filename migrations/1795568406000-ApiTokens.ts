import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Personal API tokens: only a hash of each secret is stored, so a database leak yields no usable token. */
export class ApiTokens1795568406000 implements MigrationInterface {
  name = 'ApiTokens1795568406000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_tokens (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
        hint text NOT NULL,
        scopes text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['read', 'write', 'moderate']),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3),
        last_used_at timestamptz(3),
        revoked_at timestamptz(3)
      )`);
    // The owner's list, newest first, without revoked tokens.
    await q.query(`CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id DESC) WHERE revoked_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS api_tokens`);
  }
}

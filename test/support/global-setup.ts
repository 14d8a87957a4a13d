import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/shared/db/embedded';

/**
 * One PostgreSQL server for the whole run: the one in DATABASE_URL, or an embedded one in a
 * temporary folder. Each test file then creates its own database on it (test/support/harness.ts).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.COLLOQUY_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'colloquy-test-'));
  const pg = await startEmbeddedPostgres(dir, { persistent: false });
  process.env.COLLOQUY_TEST_ADMIN_URL = pg.url;
  (globalThis as { __colloquyPg?: typeof pg }).__colloquyPg = pg;
}

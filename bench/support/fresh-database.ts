import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { databaseUrlFromEnv } from '../../src/config';

/**
 * A fresh database: on DATABASE_URL's server when set, else an embedded server in a temp folder
 * (started by createAppContext under DATA_DIR). `cleanup` drops it and removes the folder.
 */
export async function freshDatabase(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-bench-'));
  const removeDir = async () => rmSync(dataDir, { recursive: true, force: true });
  const admin = databaseUrlFromEnv();
  if (!admin) return { env: { DATA_DIR: dataDir }, cleanup: removeDir };
  const name = `colloquy_bench_${randomBytes(6).toString('hex')}`;
  const run = async (sql: string) => {
    const c = new Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    async cleanup() {
      await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await removeDir();
    },
  };
}

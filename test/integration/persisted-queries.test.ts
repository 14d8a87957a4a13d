import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import Redis from 'ioredis';
import { buildManifest } from '../../src/cli/persisted-manifest';
import { ConfigError, loadConfig } from '../../src/config';
import { createPersistedQueries, sha256 } from '../../src/server/persisted-queries';
import { createPost, signUp, startTestServer, type TestServer, waitFor } from '../support/harness';

type Result = { status?: number; data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };

const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

async function overHttp(t: TestServer, body: Record<string, unknown>): Promise<Result> {
  const res = await t.post(JSON.stringify(body));
  return { status: res.status, ...((await res.json()) as Result) };
}

async function overGet(t: TestServer, params: Record<string, unknown>): Promise<Result> {
  const url = new URL(t.url);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  const res = await fetch(url);
  return { status: res.status, ...((await res.json()) as Result) };
}

/** One operation over graphql-ws; errors the server refuses the subscribe with come back as `errors`. */
function overWs(client: Client, payload: { query: string; extensions?: Record<string, unknown>; variables?: Record<string, unknown> }): Promise<Result> {
  return new Promise((resolve, reject) => {
    let result: Result = {};
    client.subscribe(payload, {
      next: (value) => (result = value as Result),
      error: (err) => (Array.isArray(err) ? resolve({ errors: err }) : reject(err)),
      complete: () => resolve(result),
    });
  });
}

const codeOf = (r: Result) => r.errors?.map((e) => e.extensions?.code);

describe('automatic persisted queries (PERSISTED_QUERIES=apq, the default)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('over HTTP answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, then runs the query by hash once it was sent in full', async () => {
    const query = `query ApqHttp { tags(first: 3) { nodes { name } } }`;
    const miss = await overHttp(t, { extensions: persisted(sha256(query)) });
    expect(miss.status).toBe(200);
    expect(miss.errors).toEqual([expect.objectContaining({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } })]);

    const registered = await overHttp(t, { query, extensions: persisted(sha256(query)) });
    expect(registered.errors).toBeUndefined();
    expect(registered.data).toEqual({ tags: { nodes: [] } });

    const hit = await overHttp(t, { extensions: persisted(sha256(query)) });
    expect(hit).toMatchObject({ status: 200, data: { tags: { nodes: [] } } });
    // The CDN-friendly form: the whole request is a short URL.
    const getHit = await overGet(t, { extensions: persisted(sha256(query)) });
    expect(getHit).toMatchObject({ status: 200, data: { tags: { nodes: [] } } });
  });

  it('does not register a query under a hash that is not its own', async () => {
    const query = `query Mismatch { tags(first: 1) { nodes { name } } }`;
    const wrong = sha256('something else');
    const res = await overHttp(t, { query, extensions: persisted(wrong) });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toEqual(['BAD_USER_INPUT']);
    expect(codeOf(await overHttp(t, { extensions: persisted(wrong) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('over WebSocket answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, then runs the query by hash once it was sent in full', async () => {
    const client = t.ws();
    const query = `query ApqWs { tags(first: 2) { nodes { name } } }`;
    // graphql-ws requires a string query, so "no query" is the empty string.
    const miss = await overWs(client, { query: '', extensions: persisted(sha256(query)) });
    expect(miss.errors).toEqual([expect.objectContaining({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } })]);
    expect(await overWs(client, { query, extensions: persisted(sha256(query)) })).toEqual({ data: { tags: { nodes: [] } } });
    expect(await overWs(client, { query: '', extensions: persisted(sha256(query)) })).toEqual({ data: { tags: { nodes: [] } } });
    const mismatch = await overWs(client, { query, extensions: persisted(sha256('other')) });
    expect(codeOf(mismatch)).toEqual(['BAD_USER_INPUT']);
  });

  it('shares one store between HTTP and WebSocket, so a query registered over one runs by hash over the other', async () => {
    const viaHttp = `query SharedOne { tags(first: 4) { nodes { name } } }`;
    const viaWs = `query SharedTwo { tags(first: 5) { nodes { name } } }`;
    const client = t.ws();
    await overHttp(t, { query: viaHttp, extensions: persisted(sha256(viaHttp)) });
    await overWs(client, { query: viaWs, extensions: persisted(sha256(viaWs)) });
    expect(await overWs(client, { query: '', extensions: persisted(sha256(viaHttp)) })).toEqual({ data: { tags: { nodes: [] } } });
    expect((await overHttp(t, { extensions: persisted(sha256(viaWs)) })).data).toEqual({ tags: { nodes: [] } });
  });

  it('runs a subscription sent by hash over WebSocket', async () => {
    const { token } = await signUp(t, 'apqsubscriber');
    const query = `subscription ApqPosts { postAdded { title } }`;
    const hash = sha256(query);
    const first = t.ws(token);
    const second = t.ws(token);
    expect(codeOf(await overWs(first, { query: '', extensions: persisted(hash) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const events: Array<[string, Result]> = [];
    const listen = (client: Client, who: string, payload: { query: string; extensions: Record<string, unknown> }) =>
      client.subscribe(payload, { next: (v) => void events.push([who, v as Result]), error: () => undefined, complete: () => undefined });
    listen(first, 'in full', { query, extensions: persisted(hash) });
    await new Promise((r) => setTimeout(r, 200));
    listen(second, 'by hash', { query: '', extensions: persisted(hash) });
    await new Promise((r) => setTimeout(r, 200));
    const writer = await signUp(t, 'apqwriter');
    await createPost(t, writer.token, { kind: 'ARTICLE', title: 'Sent by hash', body: 'x', tags: ['apq'] });
    await waitFor(async () => events.length >= 2, 5_000, 'both subscribers to hear the post');
    expect(events.sort((a, b) => a[0].localeCompare(b[0]))).toEqual([
      ['by hash', { data: { postAdded: { title: 'Sent by hash' } } }],
      ['in full', { data: { postAdded: { title: 'Sent by hash' } } }],
    ]);
  });
});

describe('automatic persisted queries across server processes (REDIS_URL)', () => {
  const REDIS_URL = process.env.REDIS_URL;
  if (!REDIS_URL) console.warn('persisted-queries: REDIS_URL is not set, so sharing registrations through Redis is not tested. Set it (e.g. redis://127.0.0.1:6379) to run that test.');

  (REDIS_URL ? it : it.skip)('shares registrations through Redis: a query registered on one server runs by hash on another', async () => {
    const prefix = `test-apq-${randomBytes(4).toString('hex')}:`;
    const env = { REDIS_URL: REDIS_URL!, REDIS_PREFIX: prefix };
    const a = await startTestServer({}, env);
    const b = await startTestServer({}, env);
    const redis = new Redis(REDIS_URL!);
    try {
      const query = `query AcrossProcesses { tags(first: 6) { nodes { name } } }`;
      expect(codeOf(await overHttp(b, { extensions: persisted(sha256(query)) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      expect((await overHttp(a, { query, extensions: persisted(sha256(query)) })).data).toEqual({ tags: { nodes: [] } });
      // Apollo stores a registration after it has answered.
      await waitFor(async () => (await overHttp(b, { extensions: persisted(sha256(query)) })).data, 5_000, 'the hash to run on the other server');
      expect(await overWs(b.ws(), { query: '', extensions: persisted(sha256(query)) })).toEqual({ data: { tags: { nodes: [] } } });
      expect(await redis.keys(`${prefix}persisted:*`)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });
});

describe('persisted queries turned off (PERSISTED_QUERIES=off)', () => {
  it('refuses a persisted-query request with PERSISTED_QUERY_NOT_SUPPORTED over HTTP and WebSocket', async () => {
    const t = await startTestServer({}, { PERSISTED_QUERIES: 'off' });
    try {
      const query = `{ tags(first: 1) { nodes { name } } }`;
      expect(codeOf(await overHttp(t, { query, extensions: persisted(sha256(query)) }))).toEqual(['PERSISTED_QUERY_NOT_SUPPORTED']);
      expect(codeOf(await overWs(t.ws(), { query, extensions: persisted(sha256(query)) }))).toEqual(['PERSISTED_QUERY_NOT_SUPPORTED']);
      expect((await overHttp(t, { query })).data).toEqual({ tags: { nodes: [] } });
    } finally {
      await t.close();
    }
  });
});

describe('allow-list mode (PERSISTED_QUERIES=allowlist)', () => {
  let t: TestServer;
  let manifest: ReturnType<typeof buildManifest>;
  let manifestFile: string;
  const idOf = (name: string) => manifest.operations.find((op) => op.name === name)!.id;
  const bodyOf = (name: string) => manifest.operations.find((op) => op.name === name)!.body;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'colloquy-operations-'));
    writeFileSync(path.join(dir, 'tags.graphql'), `query Tags($first: Int!) { tags(first: $first) { nodes { ...TagName } } }\n`);
    writeFileSync(path.join(dir, 'fragments.graphql'), `fragment TagName on Tag { name }\nfragment Unused on Tag { id }\n`);
    writeFileSync(path.join(dir, 'posts.graphql'), `subscription NewPosts { postAdded { title } }\n`);
    manifest = buildManifest(dir);
    manifestFile = path.join(dir, 'manifest.json');
    writeFileSync(manifestFile, JSON.stringify(manifest));
    t = await startTestServer({}, { PERSISTED_QUERIES: 'allowlist', PERSISTED_QUERIES_MANIFEST: manifestFile });
  });
  afterAll(() => t.close());

  it("builds Apollo's manifest from a folder of .graphql files: named operations, the fragments each uses, the SHA-256 of the body as id", () => {
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    expect(manifest.version).toBe(1);
    expect(manifest.operations.map((op) => [op.name, op.type])).toEqual([
      ['NewPosts', 'subscription'],
      ['Tags', 'query'],
    ]);
    expect(bodyOf('Tags')).toContain('fragment TagName on Tag');
    expect(bodyOf('Tags')).not.toContain('Unused');
    for (const op of manifest.operations) expect(op.id).toBe(sha256(op.body));
  });

  it('runs a registered operation sent by its id over HTTP (POST and GET) and WebSocket', async () => {
    const variables = { first: 2 };
    expect(await overHttp(t, { extensions: persisted(idOf('Tags')), variables })).toMatchObject({ status: 200, data: { tags: { nodes: [] } } });
    expect(await overGet(t, { extensions: persisted(idOf('Tags')), variables })).toMatchObject({ status: 200, data: { tags: { nodes: [] } } });
    expect(await overWs(t.ws(), { query: '', extensions: persisted(idOf('Tags')), variables })).toEqual({ data: { tags: { nodes: [] } } });
  });

  it('runs a registered operation sent in full, byte for byte as in the manifest', async () => {
    const res = await overHttp(t, { query: bodyOf('Tags'), variables: { first: 1 } });
    expect(res.data).toEqual({ tags: { nodes: [] } });
  });

  it('refuses an unregistered operation over HTTP before running it: 403, FORBIDDEN, reason PERSISTED_QUERY_NOT_ALLOWED', async () => {
    const res = await overHttp(t, {
      query: `mutation { signUp(input: { handle: "intruder", password: "correct horse battery", email: "intruder@example.test" }) { token } }`,
    });
    expect(res.status).toBe(403);
    expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'FORBIDDEN', reason: 'PERSISTED_QUERY_NOT_ALLOWED' } })]);
    expect(res.data).toBeUndefined();
    expect(await t.app.db.query(`SELECT 1 FROM users WHERE handle = 'intruder'`)).toHaveLength(0);
    // A registered body with one character changed is another operation.
    expect(codeOf(await overHttp(t, { query: bodyOf('Tags') + ' ', variables: { first: 1 } }))).toEqual(['FORBIDDEN']);
  });

  it('refuses an unregistered operation over WebSocket, and does not let a client register one by APQ', async () => {
    const client = t.ws();
    const query = `{ tags(first: 1) { nodes { name } } }`;
    const ws = await overWs(client, { query });
    expect(ws.errors).toEqual([expect.objectContaining({ extensions: { code: 'FORBIDDEN', reason: 'PERSISTED_QUERY_NOT_ALLOWED' } })]);
    expect(codeOf(await overWs(client, { query, extensions: persisted(sha256(query)) }))).toEqual(['FORBIDDEN']);
    expect(codeOf(await overHttp(t, { query, extensions: persisted(sha256(query)) }))).toEqual(['FORBIDDEN']);
    expect(codeOf(await overHttp(t, { extensions: persisted(sha256(query)) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(codeOf(await overWs(client, { query: '', extensions: persisted(sha256(query)) }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('would refuse a whole batch that holds one unregistered operation', () => {
    const pq = createPersistedQueries({ mode: 'allowlist', manifestPath: manifestFile });
    const batch = [{ query: bodyOf('Tags') }, { query: `{ tags(first: 1) { nodes { name } } }` }];
    expect(pq.refusal(batch)).toMatchObject({ status: 403, error: { extensions: { reason: 'PERSISTED_QUERY_NOT_ALLOWED' } } });
    expect(pq.refusal([{ query: bodyOf('Tags') }])).toBeNull();
  });

  it('will not start without a manifest, or with a file that is not one', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', TOKEN_SECRET: 'x'.repeat(32), PERSISTED_QUERIES: 'allowlist' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'test', TOKEN_SECRET: 'x'.repeat(32), PERSISTED_QUERIES: 'sometimes' })).toThrow(ConfigError);
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'colloquy-manifest-')), 'm.json');
    writeFileSync(bad, JSON.stringify({ operations: [] }));
    expect(() => createPersistedQueries({ mode: 'allowlist', manifestPath: bad })).toThrow(/apollo-persisted-query-manifest/);
  });
});

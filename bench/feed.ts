import 'reflect-metadata';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { selectBackend } from '../ml-runtime/backends';
import { Recommender } from '../ml-runtime/recommender/recommender';
import { loadConfig } from '../src/config';
import { createAppContext, type AppContext } from '../src/context/app-context';
import { loadInteractionGraph } from '../src/modules/feed/interactions';
import { postEmbeddings } from '../src/modules/feed/content-candidates';
import { feedCacheStats } from '../src/modules/feed/member-cache';
import { currentModelFile } from '../src/modules/feed/recommender-store';
import { createLogger } from '../src/shared/logger';
import { statementsSent } from '../src/shared/db/query-counter';
import { startServer, type RunningServer } from '../src/server/http';
import { freshDatabase } from './support/fresh-database';
import type { FeedLoadJob, FeedLoadResult } from './support/feed-load';
import { generateCommunity } from './support/synthetic-community';
import { backendCpuMs, backendCpuUsed } from './support/peer-pg-cpu';

const USAGE = 'Usage: npm run bench:feed -- [--users N] [--posts N] [--duration S] [--connections N] [--members N] [--catch-up-ms MS]';
const FEED = `query Feed { feed(mode: FOR_YOU, first: 20) { edges { node { rank reason post { id title author { handle } tags { name } score } } } } }`;

function load(job: FeedLoadJob): Promise<FeedLoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'support', 'feed-load.js'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m: { ok: true; result: FeedLoadResult } | { ok: false; error: string }) => (m.ok ? resolve(m.result) : reject(new Error(m.error))));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    child.send(job);
  });
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });
  const json = (await res.json()) as { data?: any; errors?: unknown[]; extensions?: Record<string, unknown> };
  if (json.errors?.length) throw new Error(JSON.stringify(json.errors));
  return json;
}

const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    users: { type: 'string', default: '10000' }, posts: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' }, members: { type: 'string', default: '200' },
    // FEED_CATCH_UP_MS for the server; 0 takes every new post into cached rankings at once.
    'catch-up-ms': { type: 'string' }, help: { type: 'boolean' },
  } });
  const [users, posts, duration, connections, members] = [values.users, values.posts, values.duration, values.connections, values.members].map(Number);
  const catchUp = values['catch-up-ms'];
  if (values.help || ![users, posts, duration, connections, members].every((n) => Number.isInteger(n) && n > 0) || (catchUp !== undefined && !/^\d+$/.test(catchUp))) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const db = await freshDatabase();
  const recommenderDir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-bench-rec-'));
  let app: AppContext | undefined;
  let server: RunningServer | undefined;
  try {
    // Production mode, as the server is deployed: outside it every request counts its SQL in an
    // AsyncLocalStorage scope, whose hooks tax every promise. Statements are counted process-wide here.
    const config = loadConfig({ ...db.env, NODE_ENV: 'production', TOKEN_SECRET: randomBytes(32).toString('hex'), SEED_DEMO: 'false', LOG_LEVEL: 'warn',
      ML_WORKERS: '1', RECOMMENDER_DIR: recommenderDir, RECOMMENDER_RELOAD_MS: '3600000', FEED_UPDATE_INTERVAL_MS: '500',
      // Measures the feed, not the per-token budget (one member's token carries the last round).
      RATE_LIMIT_ENABLED: 'false', ...(catchUp !== undefined ? { FEED_CATCH_UP_MS: catchUp } : {}) });
    app = await createAppContext(config, createLogger(config.logLevel));
    let t = process.hrtime.bigint();
    await generateCommunity(app.db, { users, posts, tags: 200, bookmarks: users * 20, votes: users * 20, communities: 20 });
    const generated = seconds(t);

    t = process.hrtime.bigint();
    const graph = await loadInteractionGraph(app.db.manager);
    await selectBackend();
    const model = await Recommender.train(graph.lists);
    const modelDir = path.join(recommenderDir, 'models', 'bench');
    mkdirSync(modelDir, { recursive: true });
    model.save(modelDir);
    writeFileSync(path.join(modelDir, 'post-ids.json'), JSON.stringify(graph.postIds));
    writeFileSync(currentModelFile(recommenderDir), JSON.stringify({ dir: modelDir, trainedAt: new Date().toISOString() }));
    const trainSeconds = seconds(t);
    await app.inference!.ready();
    await app.recommender!.refresh();

    // Members with real histories (bookmarks, up votes, followed tags), in a fixed pseudo-random
    // order: the first `members` are measured, the next 50 only warm the server up, so every
    // measured member's first request meets a cold per-member cache.
    const active: Array<{ id: number }> = await app.db.query(
      `SELECT u.id FROM users u
        WHERE u.handle LIKE 'user%' AND EXISTS (SELECT 1 FROM tag_follows f WHERE f.user_id = u.id)
          AND (SELECT count(*) FROM bookmarks b WHERE b.user_id = u.id) + (SELECT count(*) FROM votes v WHERE v.user_id = u.id AND v.value = 1) >= 20
        ORDER BY md5(u.id::text) LIMIT $1`,
      [members + 50],
    );
    // Posts are embedded as they are published; these were inserted by SQL, so the text vectors
    // the content source reads (the recent window and the measured members' own posts) are
    // computed here, as they would already be in a running community.
    const embeddings = postEmbeddings(app.db.manager);
    let embedSeconds: string | null = null;
    if (embeddings?.version) {
      t = process.hrtime.bigint();
      const ids: Array<{ id: number }> = await app.db.query(
        `(SELECT id FROM posts WHERE parent_id IS NULL AND status = 'PUBLISHED' AND deleted_at IS NULL ORDER BY first_published_at DESC LIMIT 1000)
         UNION SELECT post_id FROM bookmarks WHERE user_id = ANY($1) UNION SELECT post_id FROM votes WHERE user_id = ANY($1) AND value = 1
         UNION SELECT coalesce(parent_id, id) FROM posts WHERE author_id = ANY($1)`,
        [active.map((u) => u.id)],
      );
      await embeddings.warm(app.db.manager, ids.map((r) => r.id));
      embedSeconds = `${seconds(t).toFixed(1)} s for ${ids.length} posts`;
    }

    server = await startServer(app, 0, '127.0.0.1');
    const token = (await gql(server.url, `mutation($i: SignUpInput!) { signUp(input: $i) { token } }`, { i: { handle: 'bench_reader', password: 'bench-password-1' } })).data.signUp.token as string;
    // The reader bookmarks a few posts of one community, so every source has something to say.
    const seedPosts: Array<{ id: number }> = await app.db.query(`SELECT id FROM posts WHERE id % 20 = 3 ORDER BY id LIMIT 8`);
    for (const p of seedPosts) await gql(server.url, `mutation($id: ID!) { bookmark(postId: $id) { id } }`, { id: Buffer.from(`Post:${p.id}`).toString('base64url') }, token);
    // Statements the whole process sent while one request ran (nothing else is loading it then).
    const counted = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
      const before = statementsSent();
      const out = await fn();
      return [out, statementsSent() - before];
    };
    const [probe, probeSql] = await counted(() => gql(server!.url, FEED, {}, token));
    const reasons: Record<string, number> = {};
    for (const e of probe.data.feed.edges) reasons[e.node.reason.replace(/#\S+|@\S+/, '…')] = (reasons[e.node.reason.replace(/#\S+|@\S+/, '…')] ?? 0) + 1;
    console.log(JSON.stringify({ bench: 'feed', users, posts, interactions: graph.edges, generatedSeconds: generated.toFixed(1), recommenderTrainSeconds: trainSeconds.toFixed(1),
      backend: app.inference!.backend(), sqlStatements: probeSql, reasonsOnFirstPage: reasons, cpus: os.cpus().length, load: os.loadavg().map((l) => l.toFixed(2)) }));

    const tokens = await Promise.all(active.map((u) => app!.tokens.issue(u.id, 'MEMBER')));
    const [measured, warmup] = [tokens.slice(0, members), tokens.slice(members)];
    const [, coldSql] = await counted(() => gql(server!.url, FEED, {}, warmup[0]));
    const [, warmSql] = await counted(() => gql(server!.url, FEED, {}, warmup[0]));
    console.log(JSON.stringify({ members: measured.length, textEmbeddings: embedSeconds ?? 'no encoder served', sqlStatementsPerRequest: { cold: coldSql, warm: warmSql } }));

    const body = JSON.stringify({ query: FEED });
    await load({ url: server.url, body, tokens: warmup, connections, durationSeconds: 2 });
    const fmt = (p: { n: number; p50: number; p99: number }) => `p50 ${p.p50} ms, p99 ${p.p99} ms (n=${p.n})`;
    // The load generator runs on the same machine; what it spends is taken from the server.
    const loadCpu = (x: FeedLoadResult) => `load generator CPU ${x.clientCpuMsPerRequest} ms/request`;
    // CPU per request is steadier than latency on a shared machine: the server process (its pool
    // workers included) and the database's backends, read around each phase.
    const stats = async () => ({ ...feedCacheStats(app!.db), sql: statementsSent(), cpu: process.cpuUsage(), pg: await backendCpuMs(app!.db) });
    type Stats = Awaited<ReturnType<typeof stats>>;
    const cpuPer = (a: Stats, b: Stats, requests: number) => {
      const server = (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000 / requests;
      const pg = backendCpuUsed(a.pg, b.pg);
      return `CPU per request: server ${server.toFixed(2)} ms, PostgreSQL ${pg === null ? 'unknown' : `${(pg / requests).toFixed(2)} ms`}`;
    };
    // SQL per request counts everything the server sent meanwhile: moderation, publishing, embedding.
    const delta = (a: Stats, b: Stats, requests: number) => `${cpuPer(a, b, requests)}; SQL statements per request ${((b.sql - a.sql) / requests).toFixed(2)}; cache ${b.hits - a.hits} hits (${b.caughtUp - a.caughtUp} caught up with new content), ${b.misses - a.misses} misses, ${b.refilters - a.refilters} re-filters`;
    const loadAvg = () => `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cpus`;
    // The first pass asks for each member's feed once, all cold; the steady state then rotates
    // over the same members, whose rankings stay cached for the run (it is shorter than their TTL).
    let before = await stats();
    const first = await load({ url: server.url, body, tokens: measured, connections, durationSeconds: 600, maxRequests: measured.length });
    let after = await stats();
    console.log(`FOR_YOU feed(first: 20) × ${connections} connections, ${posts} posts / ${users} users, ${measured.length} members with histories:`);
    console.log(`  first pass, each member once (cold): ${first.requestsPerSecond} req/s, ${fmt(first.cold)}, errors ${first.errors}; ${loadCpu(first)}; ` +
      `${delta(before, after, first.all.n)}; ${loadAvg()}`);
    before = await stats();
    const r = await load({ url: server.url, body, tokens: measured, connections, durationSeconds: duration });
    after = await stats();
    console.log(`  then ${duration} s rotating over them: ${r.requestsPerSecond} req/s, ${fmt(r.all)}, errors ${r.errors}; ${loadCpu(r)}; ` +
      `${delta(before, after, r.all.n)}; ${loadAvg()}`);
    // A community that keeps publishing: every published post leaves the members' cached rankings
    // behind the content epoch, to be caught up on their next request, so this is the steady state
    // of a busy site.
    before = await stats();
    let published = 0;
    const publishing = setInterval(() => {
      void gql(server!.url, `mutation($input: CreatePostInput!) { createPost(input: $input) { id } }`,
        { input: { kind: 'QUESTION', title: `A new question ${published}`, body: 'Asked while feeds are being read.', tags: ['bench'] } }, warmup[1])
        .then(() => published++, () => undefined);
    }, 1000);
    const busy = await load({ url: server.url, body, tokens: measured, connections, durationSeconds: duration }).finally(() => clearInterval(publishing));
    after = await stats();
    console.log(`  then ${duration} s rotating while one post a second is published (${published} posts; cached rankings take new posts in within ${app.config.feed.catchUpMs} ms): ${busy.requestsPerSecond} req/s, ${fmt(busy.all)}, errors ${busy.errors}; ${loadCpu(busy)}; ` +
      `${delta(before, after, busy.all.n)}; ${loadAvg()}`);
    // The earlier form of this benchmark: one member's token for all the load.
    before = await stats();
    const one = await load({ url: server.url, body, tokens: [token], connections, durationSeconds: duration });
    after = await stats();
    console.log(`  one member for all the load (bench_reader): ${one.requestsPerSecond} req/s, ${fmt(one.all)}, errors ${one.errors}; ${cpuPer(before, after, one.all.n)}`);

    // Bookmark → feedUpdates: from sending the mutation to the update arriving over the WebSocket.
    const client = createClient({ url: server.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } });
    const times: number[] = [];
    let resolveEvent: (() => void) | null = null;
    client.subscribe({ query: `subscription { feedUpdates { reasons topPostIds } }` }, {
      next: (v: any) => v.data?.feedUpdates.reasons.includes('YOUR_ACTIVITY') && resolveEvent?.(), error: () => undefined, complete: () => undefined });
    await new Promise((res) => setTimeout(res, 1500));
    const targets: Array<{ id: number }> = await app.db.query(`SELECT id FROM posts WHERE id % 20 = 11 ORDER BY id LIMIT 10`);
    // An update is sent only when the top of the feed changes; a bookmark that leaves it as it was
    // is told apart from a lost update by reading the top again.
    const topN = app.config.feed.updateTopN;
    const topIds = async () => (await gql(server!.url, `{ feed(mode: FOR_YOU, first: ${topN}) { edges { node { post { id } } } } }`, {}, token))
      .data.feed.edges.map((e: any) => e.node.post.id).join(',');
    let unchanged = 0;
    let lost = 0;
    for (const p of targets) {
      const before = await topIds();
      let arrived = false;
      const got = new Promise<void>((res) => (resolveEvent = () => ((arrived = true), res())));
      const started = process.hrtime.bigint();
      await gql(server.url, `mutation($id: ID!) { bookmark(postId: $id) { id } }`, { id: Buffer.from(`Post:${p.id}`).toString('base64url') }, token);
      await Promise.race([got, new Promise((res) => setTimeout(res, 5000))]);
      if (arrived) times.push(seconds(started) * 1000);
      else if ((await topIds()) === before) unchanged++;
      else lost++;
      await new Promise((res) => setTimeout(res, 600)); // past the coalescing interval
    }
    await client.dispose();
    console.log(`bookmark → feedUpdates (${targets.length} bookmarks, interval 500 ms): ${times.length} updates, p50 ${pct(times, 50)?.toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms; ` +
      `${unchanged} left the top ${topN} as it was (no update is due), ${lost} changed it without an update`);
  } finally {
    await server?.close();
    await app?.dispose();
    await db.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

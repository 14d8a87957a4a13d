import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { createAppContext, type AppContext } from '../src/context/app-context';
import { fromGlobalId } from '../src/shared/global-id';
import { createLogger } from '../src/shared/logger';
import { freshDatabase } from './support/fresh-database';
import { loadPeerData } from './support/peer-data';
import type { LoadJob, LoadResult } from './support/load-worker';
import { backendCpuMs, backendCpuUsed, withApplicationName } from './support/peer-pg-cpu';

const USAGE = `Usage: npm run bench:peer -- [--rounds N] [--duration S] [--warmup S] [--connections N] [--users N] [--posts N] [--profile DIR]

Serves the same page of posts (author, tags, counts) from Colloquy and from PostGraphile 5 over one
database and drives both with autocannon in alternating rounds. --profile writes a V8 CPU profile
of the Colloquy server to DIR.`;

/** The newest 20 top-level published posts: what an anonymous visitor's front page shows. */
const COLLOQUY_QUERY = `query PeerPosts($first: Int!) {
  posts(first: $first, orderBy: NEW) {
    edges { node {
      id title score upVoteCount downVoteCount answerCount commentCount createdAt
      author { handle displayName }
      tags { name }
    } }
    pageInfo { hasNextPage }
  }
}`;

/** The same rows through PostGraphile's generated schema: conditions spell out Colloquy's visibility rules. */
const POSTGRAPHILE_QUERY = `query PeerPosts($first: Int!) {
  allPosts(first: $first, orderBy: [CREATED_AT_DESC, ROW_ID_DESC], condition: { parentId: null, status: "PUBLISHED", deletedAt: null }) {
    edges { node {
      rowId title score upVotes downVotes answerCount commentCount createdAt
      userByAuthorId { handle displayName }
      postTagsByPostId { nodes { tagByTagId { name } } }
    } }
    pageInfo { hasNextPage }
  }
}`;

interface Row {
  id: number; title: string | null; score: number; up: number; down: number; answers: number; comments: number;
  createdAt: number; author: { handle: string; displayName: string }; tags: string[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const fromColloquy = (data: any): { rows: Row[]; hasNextPage: boolean } => ({
  hasNextPage: data.posts.pageInfo.hasNextPage,
  rows: data.posts.edges.map(({ node: n }: any) => ({
    id: fromGlobalId(n.id).id, title: n.title, score: n.score, up: n.upVoteCount, down: n.downVoteCount,
    answers: n.answerCount, comments: n.commentCount, createdAt: new Date(n.createdAt).getTime(),
    author: { handle: n.author.handle, displayName: n.author.displayName },
    tags: n.tags.map((t: any) => t.name),
  })),
});

// PostGraphile lists a many-to-many relation in join-table order; Colloquy alphabetically.
const fromPostGraphile = (data: any): { rows: Row[]; hasNextPage: boolean } => ({
  hasNextPage: data.allPosts.pageInfo.hasNextPage,
  rows: data.allPosts.edges.map(({ node: n }: any) => ({
    id: n.rowId, title: n.title, score: n.score, up: n.upVotes, down: n.downVotes,
    answers: n.answerCount, comments: n.commentCount, createdAt: new Date(n.createdAt).getTime(),
    author: { handle: n.userByAuthorId.handle, displayName: n.userByAuthorId.displayName },
    tags: n.postTagsByPostId.nodes.map((pt: any) => pt.tagByTagId.name).sort(),
  })),
});
/* eslint-enable @typescript-eslint/no-explicit-any */

interface Child {
  url: string;
  /** CPU time (user + system) the server process has used so far, in ms. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

async function startChild(script: string, databaseUrl: string, execArgv: string[] = []): Promise<Child> {
  const child: ChildProcess = fork(path.join(__dirname, 'support', script), [], {
    execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, GRAPHILE_ENV: 'production' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let cpuReply: ((usage: NodeJS.CpuUsage) => void) | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { type: 'ready'; url: string } | { type: 'failed'; error: string } | { type: 'cpu'; usage: NodeJS.CpuUsage }) =>
      m.type === 'cpu' ? cpuReply?.(m.usage) : m.type === 'ready' ? resolve(m.url) : reject(new Error(`${script}: ${m.error}`)));
    void exited.then(() => reject(new Error(`${script} exited before it was ready`)));
    child.send({ url: databaseUrl });
  });
  return {
    url,
    cpuMs: () => new Promise<number>((resolve) => {
      cpuReply = (u) => resolve((u.user + u.system) / 1000);
      child.send({ cmd: 'cpu' });
    }),
    async stop() {
      if (child.exitCode !== null) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.send({ cmd: 'stop' });
      await exited;
      clearTimeout(killer);
    },
  };
}

function load(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'support', 'load-worker.js'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m: { ok: true; result: LoadResult } | { ok: false; error: string }) =>
      m.ok ? resolve(m.result) : reject(new Error(m.error)));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    child.send(job);
  });
}

async function post(url: string, body: string): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
  const json = (await res.json()) as { data?: unknown; errors?: unknown[] };
  if (res.status !== 200 || json.errors?.length) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json.errors ?? json)}`);
  return json.data;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '5' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '5' },
      connections: { type: 'string', default: '10' },
      users: { type: 'string', default: '2000' },
      posts: { type: 'string', default: '20000' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [rounds, duration, warmup, connections, users, posts] =
    [values.rounds, values.duration, values.warmup, values.connections, values.users, values.posts].map(Number);
  if (values.help || ![rounds, duration, warmup, connections, users, posts].every((n) => Number.isInteger(n) && n >= 0) ||
      rounds === 0 || duration === 0 || connections === 0 || posts < 100 || users < 10) {
    console.error(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }

  const db = await freshDatabase();
  let app: AppContext | undefined;
  const children: Child[] = [];
  try {
    // Migrations (and the embedded PostgreSQL, without DATABASE_URL) come from Colloquy's own boot.
    const config = loadConfig({ ...db.env, NODE_ENV: 'test', TOKEN_SECRET: randomBytes(32).toString('hex'), SEED_DEMO: 'false', ML_ENABLED: 'false', LOG_LEVEL: 'warn' });
    app = await createAppContext(config, createLogger(config.logLevel));
    const dataset = await loadPeerData(app.db, { users, posts });
    const databaseUrl = app.database.url;

    const profileArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] : [];
    const servers = [
      { name: 'Colloquy', child: await startChild('peer-colloquy.js', withApplicationName(databaseUrl, 'peer-colloquy'), profileArgs), query: COLLOQUY_QUERY, read: fromColloquy, pgName: 'peer-colloquy' },
      { name: 'PostGraphile', child: await startChild('peer-postgraphile.js', withApplicationName(databaseUrl, 'peer-postgraphile')), query: POSTGRAPHILE_QUERY, read: fromPostGraphile, pgName: 'peer-postgraphile' },
    ];
    children.push(...servers.map((s) => s.child));

    // Correctness first: both must serve the same page before either is timed.
    const pages = await Promise.all(servers.map(async (s) => s.read(await post(s.child.url, JSON.stringify({ query: s.query, variables: { first: 20 } })))));
    if (pages[0].rows.length !== 20 || !isDeepStrictEqual(pages[0], pages[1])) {
      throw new Error(`The servers disagree on the page:\nColloquy ${JSON.stringify(pages[0])}\nPostGraphile ${JSON.stringify(pages[1])}`);
    }
    console.log(JSON.stringify({
      bench: 'peer', database: app.database.kind, dataset, cpus: os.cpus().length, node: process.version,
      samePage: true, postsPerPage: pages[0].rows.length, tagsOnPage: pages[0].rows.reduce((n, r) => n + r.tags.length, 0),
      connections, rounds, durationSeconds: duration, warmupSeconds: warmup,
    }));

    const jobs = servers.map((s) => ({ url: s.child.url, body: JSON.stringify({ query: s.query, variables: { first: 20 } }), connections }));
    if (warmup > 0) for (const job of jobs) await load({ ...job, durationSeconds: warmup });
    const results: Array<Array<LoadResult & { cpuPerRequest: number; pgCpuPerRequest: number | null }>> = servers.map(() => []);
    for (let round = 1; round <= rounds; round++) {
      // A B, then B A: a load that rises or falls through the run weighs on both alike.
      for (const i of round % 2 ? [0, 1] : [1, 0]) {
        const s = servers[i];
        const [cpuBefore, pgBefore] = [await s.child.cpuMs(), await backendCpuMs(app.db, s.pgName)];
        const r = await load({ ...jobs[i], durationSeconds: duration });
        const cpuPerRequest = ((await s.child.cpuMs()) - cpuBefore) / Math.max(1, r.totalRequests);
        const pgUsed = backendCpuUsed(pgBefore, await backendCpuMs(app.db, s.pgName));
        const pgCpuPerRequest = pgUsed === null ? null : pgUsed / Math.max(1, r.totalRequests);
        results[i].push({ ...r, cpuPerRequest, pgCpuPerRequest });
        console.log(`round ${round} ${s.name.padEnd(12)} ${r.requestsPerSecond.toFixed(1).padStart(8)} req/s  p50 ${r.latencyMs.p50} ms  p99 ${r.latencyMs.p99} ms  ` +
          `server CPU ${cpuPerRequest.toFixed(2)} ms/request  PostgreSQL CPU ${pgCpuPerRequest?.toFixed(2) ?? 'n/a'} ms/request  failures ${r.failures}`);
        // Requests autocannon abandoned at its deadline are still being served; let them finish.
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }

    const summary = servers.map((s, i) => ({
      server: s.name,
      requestsPerSecond: median(results[i].map((r) => r.requestsPerSecond)),
      p50: median(results[i].map((r) => r.latencyMs.p50)),
      p99: median(results[i].map((r) => r.latencyMs.p99)),
      cpuMsPerRequest: Number(median(results[i].map((r) => r.cpuPerRequest)).toFixed(3)),
      pgCpuMsPerRequest: results[i].every((r) => r.pgCpuPerRequest !== null) ? Number(median(results[i].map((r) => r.pgCpuPerRequest!)).toFixed(3)) : null,
      failures: results[i].reduce((n, r) => n + r.failures, 0),
    }));
    // Each round's two measurements are adjacent in time; the median of their ratios is what
    // survives other work on the machine coming and going.
    const ratio = median(results[0].map((r, i) => r.requestsPerSecond / results[1][i].requestsPerSecond));
    console.log(JSON.stringify({ summary, ratio: Number(ratio.toFixed(3)) }));
    console.log(`\nmedian of ${rounds} rounds × ${duration} s, ${connections} connections:`);
    console.log('| server | req/s | p50 (ms) | p99 (ms) | server CPU (ms/request) | PostgreSQL CPU (ms/request) | failures |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const s of summary) {
      console.log(`| ${s.server} | ${s.requestsPerSecond.toFixed(0)} | ${s.p50} | ${s.p99} | ${s.cpuMsPerRequest.toFixed(2)} | ${s.pgCpuMsPerRequest?.toFixed(2) ?? 'n/a'} | ${s.failures} |`);
    }
    console.log(`\nColloquy / PostGraphile (median of the rounds' ratios): ${ratio.toFixed(2)}`);
    if (summary.some((s) => s.failures > 0)) process.exitCode = 1;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await app?.dispose();
    await db.cleanup();
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

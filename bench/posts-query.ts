import 'reflect-metadata';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { createAppContext, type AppContext } from '../src/context/app-context';
import { seedDemoCommunity } from '../src/cli/seed';
import { importStackExchange } from '../src/modules/import/stackexchange';
import { createLogger } from '../src/shared/logger';
import { startServer, type RunningServer } from '../src/server/http';
import type { LoadJob, LoadResult } from './support/load-worker';
import { freshDatabase } from './support/fresh-database';

const USAGE = `Usage: npm run bench:posts -- [--duration S] [--warmup S] [--connections N] [--first N] [--stackexchange DIR]`;

const QUERY = `query BenchPosts($first: Int!) {
  posts(first: $first) {
    edges { node {
      id title score upVoteCount downVoteCount answerCount commentCount viewerVote
      author { handle displayName }
      tags { name }
    } }
  }
}`;

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

async function gql(url: string, query: string, variables: Record<string, unknown>, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json()) as { data?: any; errors?: unknown[]; extensions?: { sqlQueries?: number } };
  if (json.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(json.errors)}`);
  return json;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '10' },
      first: { type: 'string', default: '20' },
      stackexchange: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [duration, warmup, connections, first] = [values.duration, values.warmup, values.connections, values.first].map(Number);
  if (values.help || ![duration, warmup, connections, first].every((n) => Number.isInteger(n) && n >= 0) || duration === 0 || connections === 0) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }

  const db = await freshDatabase();
  let app: AppContext | undefined;
  let server: RunningServer | undefined;
  try {
    const config = loadConfig({
      ...db.env,
      NODE_ENV: 'test',
      TOKEN_SECRET: randomBytes(32).toString('hex'),
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      // The posts query never calls the inference pool; its workers would only compete for the CPU.
      ML_ENABLED: 'false',
      // It measures the query, not the budget: thousands of anonymous requests would be refused.
      RATE_LIMIT_ENABLED: 'false',
    });
    app = await createAppContext(config, createLogger(config.logLevel));
    const dataset = values.stackexchange
      ? { stackexchange: await importStackExchange(app.db, values.stackexchange).then((s) => ({ questions: s.questions.inserted, answers: s.answers.inserted, comments: s.comments.inserted, users: s.users.inserted })) }
      : { demo: await seedDemoCommunity(app) };
    server = await startServer(app, 0, '127.0.0.1');

    const signUp = await gql(server.url,
      `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`,
      { input: { handle: 'bench_viewer', password: 'bench-password-1' } });
    const token = signUp.data.signUp.token as string;
    const body = JSON.stringify({ query: QUERY, variables: { first } });
    const probe = await gql(server.url, QUERY, { first }, token);

    console.log(JSON.stringify({
      bench: 'posts-query', database: app.database.kind, dataset, cpus: os.cpus().length,
      postsPerResponse: probe.data.posts.edges.length, sqlQueriesPerRequest: probe.extensions?.sqlQueries,
      connections, warmupSeconds: warmup, durationSeconds: duration,
    }));
    const job: LoadJob = { url: server.url, body, token, connections, durationSeconds: warmup, countSql: true };
    if (warmup > 0) await load(job);
    const r = await load({ ...job, durationSeconds: duration });
    // autocannon drops the requests still in flight when its time is up; the server is still
    // resolving them, and closing the database under them would log spurious errors.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    console.log(JSON.stringify({ result: r }));
    console.log(
      `posts(first: ${first}) × ${connections} connections, ${duration} s: ${r.requestsPerSecond.toFixed(1)} req/s, ` +
      `p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ` +
      `errors ${r.transportErrors + r.timeouts + r.non2xx + r.graphqlErrors}, ` +
      `SQL queries/request ${Object.keys(r.sqlQueries).join(', ')} (${r.totalRequests} requests)`,
    );
  } finally {
    await server?.close();
    await app?.dispose();
    await db.cleanup();
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

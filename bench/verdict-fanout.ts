import { execSync, fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { spawnBenchServer, type MemorySample } from './support/bench-server';
import { spawnRawBroadcastServer } from './support/raw-broadcast-server';
import type { ClientCommand, CollectResult, ConnectResult } from './support/fanout-clients';
import { percentiles } from './support/moderation-load';

/**
 * `npm run bench:fanout`: one verdict delivered to thousands of moderator dashboards subscribed to
 * `moderationVerdicts` on one server process. Per-connection delivery time of that verdict (from
 * the `moderate` mutation being sent to the event arriving at each socket) and the server's memory
 * per connection (heap and RSS after a full GC, minus the same before connecting). Each size gets
 * a fresh server process, so one size's freed-but-kept RSS does not flatter the next.
 */

const USAGE = `Usage: npm run bench:fanout -- [--connections 1000,10000] [--processes 4] [--rounds 5] [--naive | --compare] [--with-post] [--profile FILE] [--heap-snapshot FILE]`;

const FIELDS = `sequence subjectId type action previousStatus newStatus reason modelVersion createdAt scores { label score }`;

function clientProcess() {
  const child: ChildProcess = fork(path.join(__dirname, 'support', 'fanout-clients.js'), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Thousands of sockets per process: keep the client's GC pauses short and rare.
    execArgv: ['--max-semi-space-size=64'],
  });
  let seq = 0;
  const pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  child.on('message', (m: { seq: number; ok: boolean; result?: unknown; error?: string }) => {
    const p = pending.get(m.seq);
    pending.delete(m.seq);
    if (m.ok) p?.resolve(m.result);
    else p?.reject(new Error(m.error));
  });
  const exited = new Promise((r) => child.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`client process exited with ${code}`));
    r(code);
  }));
  const call = <T>(c: ClientCommand) =>
    new Promise<T>((resolve, reject) => {
      const s = ++seq;
      pending.set(s, { resolve, reject });
      child.send({ seq: s, ...c });
    });
  return {
    call,
    async close() {
      if (child.exitCode !== null) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await call({ cmd: 'close' }).catch(() => undefined);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function gql(url: string, query: string, variables: Record<string, unknown>, token: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json()) as { data?: any; errors?: unknown[] };
  if (json.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(json.errors)}`);
  return json.data;
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

type Mode = 'shared' | 'naive' | 'raw';

/** The server for one mode and how to make it emit one verdict. */
async function target(mode: Mode, withPost: boolean) {
  if (mode === 'raw') {
    const raw = await spawnRawBroadcastServer();
    return { url: raw.url, tokens: ['raw'], memory: raw.memory, emit: raw.broadcast, stop: raw.stop, profile: null, heapSnapshot: null, query: 'subscription { moderationVerdicts { sequence } }' };
  }
  const server = await spawnBenchServer({
    // No inference pool: this measures delivery, and its worker would only take a core.
    // Production: no per-request SQL counting (its AsyncLocalStorage hooks every promise).
    env: { ML_ENABLED: 'false', NODE_ENV: 'production' },
    naiveSubscriptions: mode === 'naive',
    accounts: { MODERATOR: 10, ADMIN: 1, MEMBER: 1 },
  });
  const admin = server.tokens.ADMIN![0];
  const post = await gql(server.url, `mutation($input: CreatePostInput!) { createPost(input: $input) { id } }`,
    { input: { kind: 'QUESTION', title: 'A post for the fan-out bench', body: 'Moderated over and over.', tags: ['bench'] } }, server.tokens.MEMBER![0]);
  const subjectId = post.createPost.id as string;
  let hidden = false;
  const emit = () => {
    hidden = !hidden;
    return gql(server.url, `mutation($id: ID!, $a: ModerationAction!) { moderate(subjectId: $id, action: $a, reason: "bench") { sequence } }`,
      { id: subjectId, a: hidden ? 'HIDE' : 'RESTORE' }, admin);
  };
  return {
    url: server.url, tokens: server.tokens.MODERATOR!, memory: server.memory, emit, stop: server.stop, profile: server.profile, heapSnapshot: server.heapSnapshot,
    query: `subscription { moderationVerdicts { ${FIELDS}${withPost ? ' post { id title status author { handle } }' : ''} } }`,
  };
}

async function measure(n: number, mode: Mode, opts: { processes: number; rounds: number; withPost: boolean; profile?: string; heapSnapshot?: string }) {
  const server = await target(mode, opts.withPost);
  const clients = Array.from({ length: Math.min(opts.processes, n) }, clientProcess);
  try {
    const { query } = server;
    const moderate = server.emit;

    // Warm the server's code paths (and fill any caches) before the baseline is taken.
    await moderate();
    const before: MemorySample = await server.memory();
    const t0 = performance.now();
    const per = clients.map((_, i) => Math.floor(n / clients.length) + (i < n % clients.length ? 1 : 0));
    const connected = await Promise.all(clients.map((c, i) => c.call<ConnectResult>({
      cmd: 'connect', url: server.url.replace(/^http/, 'ws'), tokens: server.tokens, count: per[i], query, concurrency: 50, timeoutMs: 60_000,
    })));
    const subscribed = connected.reduce((a, c) => a + c.subscribed, 0);
    const connectSeconds = (performance.now() - t0) / 1000;
    for (const e of connected.flatMap((c) => c.errors)) console.log(`  connect error: ${e}`);

    // Round 0 proves every subscription is attached (the event reaches all of them) before memory is read.
    const rounds: Array<{ deliveries: number[]; received: number; wrong: number; mutationMs: number }> = [];
    let memory: MemorySample | undefined;
    for (let r = 0; r <= opts.rounds; r++) {
      await Promise.all(clients.map((c) => c.call({ cmd: 'arm' })));
      if (opts.profile && r === 1) await server.profile?.(null);
      const sentAt = performance.timeOrigin + performance.now();
      await moderate();
      const mutationMs = performance.timeOrigin + performance.now() - sentAt;
      const got = await Promise.all(clients.map((c, i) => c.call<CollectResult>({ cmd: 'collect', expected: connected[i].subscribed, timeoutMs: 30_000 })));
      for (const e of got.flatMap((g) => g.errors)) console.log(`  client error: ${e}`);
      if (opts.profile && r === 1) await server.profile?.(opts.profile);
      rounds.push({
        deliveries: got.flatMap((g) => g.arrivals.map((a) => a - sentAt)),
        received: got.reduce((a, g) => a + g.arrivals.length, 0),
        wrong: got.reduce((a, g) => a + g.wrong, 0),
        mutationMs,
      });
      if (r === 0) memory = await server.memory();
      if (r === 0 && opts.heapSnapshot) await server.heapSnapshot?.(opts.heapSnapshot);
      await new Promise((res) => setTimeout(res, 500)); // let the sockets' write buffers empty between rounds
    }
    const after = memory!;
    return { n, mode, subscribed, connectSeconds, before, after, rounds };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
}

async function main(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      connections: { type: 'string', default: '1000,10000' },
      processes: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '5' },
      naive: { type: 'boolean', default: false },
      /** Per size, the raw `ws` broadcast floor, graphql-ws's own per-subscriber execution and Colloquy's shared path, in one run. */
      compare: { type: 'boolean', default: false },
      'with-post': { type: 'boolean', default: false },
      /** Writes a V8 CPU profile of the server during round 1 to this file. */
      profile: { type: 'string' },
      /** Writes a V8 heap snapshot of the server after round 0 (every subscriber attached) to this file. */
      'heap-snapshot': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const sizes = values.connections.split(',').map(Number);
  const modes: Mode[] = values.compare ? ['raw', 'naive', 'shared'] : [values.naive ? 'naive' : 'shared'];
  const processes = Number(values.processes);
  const rounds = Number(values.rounds);
  if (values.help || !sizes.every((n) => Number.isInteger(n) && n > 0 && n <= 50_000) || !Number.isInteger(processes) || processes < 1 || processes > 16 ||
      !Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const soft = Number(execSync('ulimit -Sn', { shell: '/bin/bash' }).toString().trim()) || Infinity;
  const hard = execSync('ulimit -Hn', { shell: '/bin/bash' }).toString().trim();
  console.log(JSON.stringify({
    bench: 'verdict-fanout', cpus: os.cpus().length, node: process.version, ulimitNofile: { soft, hard }, connections: sizes,
    clientProcesses: processes, rounds, modes, selection: values['with-post'] ? `${FIELDS} post {…}` : FIELDS,
  }));
  // The server holds one descriptor per socket (plus the database's and its own); each client
  // process holds its share. Fail early with the reason rather than with EMFILE half-way.
  const largest = Math.max(...sizes);
  if (largest + 500 > soft) {
    console.error(`ulimit -n is ${soft}: the server needs about ${largest + 500} descriptors for ${largest} connections. Raise it (ulimit -n ${largest + 1000}) and run again.`);
    process.exitCode = 2;
    return;
  }

  const results: Array<Awaited<ReturnType<typeof measure>>> = [];
  for (const n of sizes) for (const mode of modes) results.push(await measure(n, mode, { processes, rounds, withPost: values['with-post'], profile: values.profile ? path.resolve(values.profile) : undefined, heapSnapshot: values['heap-snapshot'] ? path.resolve(values['heap-snapshot']) : undefined }));

  console.log(`\nDelivery of one verdict to every subscriber (ms from sending the moderate mutation; round 0 is the warm-up):`);
  console.log('| connections | mode | round | received | p50 ms | p90 | p99 | max | mutation ms |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    r.rounds.forEach((x, i) => {
      const p = percentiles(x.deliveries);
      console.log(`| ${r.n} | ${r.mode} | ${i} | ${x.received}${x.wrong ? ` (${x.wrong} wrong)` : ''} | ${p.p50.toFixed(1)} | ${p.p90.toFixed(1)} | ${p.p99.toFixed(1)} | ${p.max.toFixed(1)} | ${x.mutationMs.toFixed(1)} |`);
    });
  }
  console.log('\nSummary (rounds 1…N pooled) and server memory per connection (after GC, minus before connecting):');
  console.log('| connections | mode | subscribed | connect s | p50 ms | p99 ms | max ms | heap KB/conn | RSS KB/conn | heap before→after MB | RSS before→after MB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const p = percentiles(r.rounds.slice(1).flatMap((x) => x.deliveries));
    const heap = (r.after.heapUsed - r.before.heapUsed) / r.subscribed;
    const rss = (r.after.rss - r.before.rss) / r.subscribed;
    console.log(`| ${r.n} | ${r.mode} | ${r.subscribed} | ${r.connectSeconds.toFixed(1)} | ${p.p50.toFixed(1)} | ${p.p99.toFixed(1)} | ${p.max.toFixed(1)} | ${kb(heap)} | ${kb(rss)} | ` +
      `${mb(r.before.heapUsed)}→${mb(r.after.heapUsed)} | ${mb(r.before.rss)}→${mb(r.after.rss)} |`);
  }
  // The machine is shared and noisy: what holds from run to run is each mode against the raw floor
  // measured minutes apart in the same run.
  for (const n of sizes) {
    const p99 = (mode: Mode) => {
      const r = results.find((x) => x.n === n && x.mode === mode);
      return r && percentiles(r.rounds.slice(1).flatMap((x) => x.deliveries)).p99;
    };
    const raw = p99('raw');
    if (raw) console.log(`${n}: p99 against the raw ws floor: shared ${(p99('shared')! / raw).toFixed(2)}×, naive ${(p99('naive')! / raw).toFixed(2)}×`);
  }
  const big = results.find((r) => r.n === 10_000 && r.mode === 'shared');
  if (big) {
    const p = percentiles(big.rounds.slice(1).flatMap((x) => x.deliveries));
    const rss = (big.after.rss - big.before.rss) / big.subscribed / 1024;
    console.log(`\nTargets at 10,000: p99 < 250 ms → ${p.p99.toFixed(1)} ms ${p.p99 < 250 ? 'met' : 'MISSED'}; ` +
      `< 15 KB per connection → RSS ${rss.toFixed(1)} KB ${rss < 15 ? 'met' : 'MISSED'}`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { codes, startTestServer, waitFor, type TestServer } from '../support/harness';

const root = path.join(__dirname, '../..');
const dist = (file: string) => {
  const p = path.join(root, 'dist', file);
  if (!existsSync(p)) throw new Error(`${p} is missing: run the tests with \`npm test\`, which builds first`);
  return p;
};
const run = promisify(execFile);

describe('health, readiness and metrics', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('answers /healthz and /readyz, naming the database and pub/sub in use', async () => {
    const base = t.url.replace('/graphql', '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: 'ok', databaseKind: 'external', pubsub: 'in-process' });
  });

  it('exposes Prometheus metrics, including GraphQL request counts', async () => {
    await t.gql(`{ viewer { id } }`);
    const text = await (await fetch(t.url.replace('/graphql', '/metrics'))).text();
    expect(text).toMatch(/colloquy_graphql_requests_total\{status="200"\} [1-9]/);
    expect(text).toContain('colloquy_process_cpu_seconds_total');
  });
});

describe('the inference pool in the server', () => {
  it('reports the TensorFlow.js backend that really runs in /readyz and in /metrics', async () => {
    const t = await startTestServer({}, { ML_ENABLED: 'true', ML_WORKERS: '1' });
    try {
      const base = t.url.replace('/graphql', '');
      let ready: any;
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${base}/readyz`);
        ready = await res.json();
        if (res.status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(ready).toMatchObject({ status: 'ready', inference: { ready: true, workers: 1 } });
      expect(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).toContain(ready.inference.backend);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain(`colloquy_ml_backend_info{backend="${ready.inference.backend}"} 1`);
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('operator command', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('creates a moderator who can then log in with that role', async () => {
    const env = { ...process.env, DATABASE_URL: t.databaseUrl, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'colloquy-cli-')) };
    const { stdout } = await run('node', [dist('src/cli/admin.js'), 'create-user', '--handle', 'mod', '--password', 'a long password', '--role', 'MODERATOR'], { env });
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, handle: 'mod', role: 'MODERATOR' });
    const res = await t.gql(`mutation { logIn(input: { handle: "mod", password: "a long password" }) { user { role } } }`);
    expect(res.data.logIn.user.role).toBe('MODERATOR');
  });

  it('refuses a duplicate handle with a clear message and a non-zero exit', async () => {
    const env = { ...process.env, DATABASE_URL: t.databaseUrl, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'colloquy-cli-')) };
    const args = [dist('src/cli/admin.js'), 'create-user', '--handle', 'twice', '--password', 'a long password', '--role', 'ADMIN'];
    await run('node', args, { env });
    await expect(run('node', args, { env })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('BAD_USER_INPUT') });
    expect(codes(await t.gql(`{ user(handle: "twice") { handle } }`))).toEqual([]);
  });
});

describe('npm start path', () => {
  it('starts on an embedded PostgreSQL with a demo community, and stops cleanly on SIGTERM', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATA_DIR: mkdtempSync(path.join(tmpdir(), 'colloquy-start-')) };
    delete env.DATABASE_URL;
    delete env.NODE_ENV;
    const child = spawn('node', [dist('src/main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready in time:\n${output}`)), 60_000);
        child.stdout.on('data', () => {
          const m = /ready at (\S+)/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        void exited.then((code) => reject(new Error(`exited with ${code}:\n${output}`)));
      });
      // The server answers before the inference pool has loaded its models; /readyz says so until
      // it has, as a load balancer would see it.
      const ready = await waitFor(async () => {
        const r = (await (await fetch(url.replace('/graphql', '/readyz'))).json()) as { status: string };
        return r.status === 'ready' ? r : null;
      }, 30_000, 'the server to report ready');
      expect(ready).toMatchObject({ status: 'ready', databaseKind: 'embedded' });
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ posts(filter: { kind: QUESTION }) { nodes { title answers { nodes { isAccepted } } } } }' }) });
      const body = (await res.json()) as { data: { posts: { nodes: unknown[] } } };
      expect(body.data.posts.nodes.length).toBeGreaterThanOrEqual(3);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);
});

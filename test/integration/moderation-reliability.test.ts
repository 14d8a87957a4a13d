import { Client } from 'pg';
import { createPost, createTestDatabase, signUp, startModeratedServer, startTestServer, waitFor, type TestServer } from '../support/harness';
import { spawnServer } from '../support/server-process';

/*
 * Issue 4's "nothing is lost": content is never published unscored and never dropped, whatever
 * happens to the inference pool or the server process. Each test owns a database, so servers can
 * come and go on it as a real deployment's processes would.
 */

interface JobRow {
  id: string;
  subject_id: number;
  state: 'PENDING' | 'DONE';
  attempts: number;
  available_at: Date;
  locked_until: Date | null;
  last_error: string | null;
  decided_at: Date | null;
  status: string;
  first_published_at: Date | null;
  events: number;
}

const JOBS = `SELECT j.id::text, j.subject_id, j.state, j.attempts, j.available_at, j.locked_until, j.last_error, j.decided_at,
                     p.status, p.first_published_at,
                     (SELECT count(*)::int FROM moderation_events e WHERE e.subject_id = j.subject_id) AS events
                FROM moderation_jobs j JOIN posts p ON p.id = j.subject_id ORDER BY j.id`;

async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

const jobs = async (c: Client): Promise<JobRow[]> => (await c.query(JOBS)).rows;

/** Content waiting for the model: not shown to anyone else, not published, no decision recorded. */
function expectUndecided(j: JobRow): void {
  expect(j).toMatchObject({ state: 'PENDING', status: 'PENDING', first_published_at: null, events: 0 });
}

const benign = (i: number) => ({
  kind: 'QUESTION',
  title: `How do I read a CSV file, take ${i}?`,
  body: 'I want to load a CSV file into a list of rows in Python and skip the header.',
  tags: ['python'],
});

/** Every job decided once: DONE, one AUTOMATED event per job id, its post out of PENDING. */
async function expectDecidedOnce(c: Client, expected: number): Promise<void> {
  const { rows } = await c.query(
    `SELECT (SELECT count(*)::int FROM moderation_jobs) AS jobs,
            (SELECT count(*)::int FROM moderation_jobs WHERE state = 'DONE') AS done,
            (SELECT count(*)::int FROM moderation_events WHERE type = 'AUTOMATED') AS events,
            (SELECT count(DISTINCT job_id)::int FROM moderation_events WHERE type = 'AUTOMATED') AS distinct_jobs,
            (SELECT count(*)::int FROM moderation_jobs j WHERE NOT EXISTS (SELECT 1 FROM moderation_events e WHERE e.job_id = j.id)) AS without_event,
            (SELECT count(*)::int FROM posts WHERE status = 'PENDING') AS pending_posts,
            (SELECT count(*)::int FROM posts p WHERE p.status <> 'PENDING'
                AND NOT EXISTS (SELECT 1 FROM moderation_events e WHERE e.subject_id = p.id)) AS unscored`,
  );
  expect(rows[0]).toEqual({ jobs: expected, done: expected, events: expected, distinct_jobs: expected, without_event: 0, pending_posts: 0, unscored: 0 });
}

describe('moderation when the pool or the process fails', () => {
  it('keeps content PENDING and retries it with growing backoff while the pool is down, then decides it once a pool is back', async () => {
    const db = await createTestDatabase();
    const c = await connect(db.url);
    const servers: TestServer[] = [];
    try {
      const a = await startModeratedServer({}, { databaseUrl: db.url });
      servers.push(a);
      const author = await signUp(a, 'author');
      const reader = await signUp(a, 'reader');
      // The pool goes down: every call now fails with POOL_CLOSED while the dispatcher keeps running.
      await a.app.inference!.close();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await createPost(a, author.token, benign(i)));

      // Watch the failures pile up. A row with no lease is between attempts: its available_at is
      // the backoff the last failure chose, which only ever moves forward.
      const seen = new Map<string, Map<number, number>>();
      await waitFor(async () => {
        const rows = await jobs(c);
        for (const j of rows) {
          expectUndecided(j);
          if (j.locked_until === null && j.attempts > 0) {
            if (!seen.has(j.id)) seen.set(j.id, new Map());
            seen.get(j.id)!.set(j.attempts, j.available_at.getTime());
          }
        }
        return rows.length === 3 && rows.every((j) => j.attempts >= 3 && (seen.get(j.id)?.size ?? 0) >= 2);
      }, 30_000, 'three failed attempts of every job');

      for (const j of await jobs(c)) expect(j.last_error).toMatch(/^POOL_CLOSED: /);
      // Backoff k (after the k-th failure) is at least 125·2^(k-1) ms, and the next failure comes no
      // earlier than the previous available_at, so observed available_at values grow at least by
      // the sum of the delays in between (2 ms for rounding to the column's millisecond precision).
      for (const byAttempt of seen.values()) {
        const observed = [...byAttempt.entries()].sort(([x], [y]) => x - y);
        for (let i = 1; i < observed.length; i++) {
          const [from, fromAt] = observed[i - 1];
          const [to, toAt] = observed[i];
          let minGap = 0;
          for (let k = from + 1; k <= to; k++) minGap += 125 * 2 ** (k - 1);
          expect(toAt - fromAt).toBeGreaterThanOrEqual(minGap - 2);
        }
      }
      for (const id of ids) {
        // Its author sees it waiting; nobody else sees it at all.
        expect((await a.gql(`query($id: ID!) { post(id: $id) { status } }`, { id }, author.token)).data.post.status).toBe('PENDING');
        expect((await a.gql(`query($id: ID!) { post(id: $id) { id } }`, { id }, reader.token)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      }

      // The process with the dead pool goes; one with a working pool takes over the same database.
      await a.close();
      servers.length = 0;
      const before = new Map((await jobs(c)).map((j) => [j.id, j]));
      const b = await startModeratedServer({}, { databaseUrl: db.url });
      servers.push(b);
      const done: JobRow[] = (await waitFor(async () => {
        const rows = await jobs(c);
        return rows.every((j) => j.state === 'DONE') ? rows : undefined;
      }, 30_000, 'every job decided by the second server'))!;
      for (const j of done) {
        expect(j).toMatchObject({ status: 'PUBLISHED', events: 1, attempts: before.get(j.id)!.attempts + 1 });
        // The new process honoured the backoff the failures had set.
        expect(j.decided_at!.getTime()).toBeGreaterThanOrEqual(before.get(j.id)!.available_at.getTime());
      }
      await expectDecidedOnce(c, 3);
      // Each server signs its own tokens (a random secret per test server): sign in anew.
      const later = await signUp(b, 'later_reader');
      for (const id of ids) {
        expect((await b.gql(`query($id: ID!) { post(id: $id) { status } }`, { id }, later.token)).data.post.status).toBe('PUBLISHED');
      }
    } finally {
      for (const s of servers) await s.close();
      await c.end();
      await db.drop();
    }
  }, 90_000);

  it('keeps content PENDING while the pool is overloaded and decides it as retries with backoff get through', async () => {
    const db = await createTestDatabase();
    const c = await connect(db.url);
    // The queue takes two texts at most; the dispatcher claims up to 32, so a full claim is refused.
    const t = await startModeratedServer({ ML_MAX_QUEUE_LENGTH: '2', MODERATION_BATCH_SIZE: '32' }, { databaseUrl: db.url });
    try {
      const author = await signUp(t, 'author');
      // Queue all five before the dispatcher looks, so its first claim takes them in one batch.
      await t.app.dispatcher!.stop();
      for (let i = 0; i < 5; i++) await createPost(t, author.token, benign(i));
      await t.app.dispatcher!.start();

      const done: JobRow[] = (await waitFor(async () => {
        const rows = await jobs(c);
        // Until a job is decided, its content is neither shown nor recorded as decided.
        for (const j of rows) if (j.state === 'PENDING') expectUndecided(j);
        return rows.every((j) => j.state === 'DONE') ? rows : undefined;
      }, 45_000, 'every job decided despite the overloaded pool'))!;
      for (const j of done) {
        // Refused at least once (the whole first claim was), then scored by a later attempt.
        expect(j.attempts).toBeGreaterThanOrEqual(2);
        expect(j.last_error).toMatch(/^OVERLOADED: inference queue is full/);
        expect(j).toMatchObject({ status: 'PUBLISHED', events: 1 });
      }
      await expectDecidedOnce(c, 5);
    } finally {
      await t.close();
      await c.end();
      await db.drop();
    }
  }, 90_000);

  it('decides the jobs a stopped server left behind when the next one starts', async () => {
    const db = await createTestDatabase();
    const c = await connect(db.url);
    const servers: TestServer[] = [];
    try {
      const a = await startModeratedServer({}, { databaseUrl: db.url });
      servers.push(a);
      const author = await signUp(a, 'author');
      // Posts accepted, then the process stops before its dispatcher has got to them.
      await a.app.dispatcher!.stop();
      for (let i = 0; i < 4; i++) await createPost(a, author.token, benign(i));
      await a.close();
      servers.length = 0;
      for (const j of await jobs(c)) expectUndecided(j);

      const b = await startModeratedServer({}, { databaseUrl: db.url });
      servers.push(b);
      await waitFor(async () => (await jobs(c)).every((j) => j.state === 'DONE'), 30_000, 'the next server to decide the jobs');
      for (const j of await jobs(c)) expect(j).toMatchObject({ status: 'PUBLISHED', attempts: 1, events: 1 });
      await expectDecidedOnce(c, 4);
    } finally {
      for (const s of servers) await s.close();
      await c.end();
      await db.drop();
    }
  }, 60_000);

  it('judges an edit made while the old text was being scored on the new text, never on the stale verdict', async () => {
    const db = await createTestDatabase();
    const c = await connect(db.url);
    // The pool holds each call 1.5 s before scoring it: time to edit the post while its first
    // version is with the model.
    const t = await startModeratedServer({ ML_MAX_QUEUE_DELAY_MS: '1500' }, { databaseUrl: db.url });
    try {
      const author = await signUp(t, 'author');
      await t.app.dispatcher!.stop();
      const id = await createPost(t, author.token, { kind: 'DISCUSSION', title: 'Favourite keyboard layouts', body: 'Dvorak or QWERTY?', tags: ['keyboards'] });
      await t.app.dispatcher!.start();
      await waitFor(async () => (await jobs(c)).some((j) => j.locked_until !== null), 10_000, 'the first version to be claimed');
      const edit = await t.gql(`mutation($input: EditPostInput!) { editPost(input: $input) { status } }`,
        { input: { id, body: 'You are a fucking idiot and a stupid moron, shut up' } }, author.token);
      expect(edit.data.editPost.status).toBe('PENDING');

      const done = (await waitFor(async () => {
        const rows = await jobs(c);
        // The first version's verdict must not publish the second version in passing.
        for (const j of rows) expect(j.status).not.toBe('PUBLISHED');
        return rows.length === 2 && rows.every((j) => j.state === 'DONE') ? rows : undefined;
      }, 20_000, 'both versions’ jobs to be done'))!;
      expect(['PENDING_REVIEW', 'HIDDEN']).toContain(done[1].status);
      const events = (await c.query(`SELECT job_id::text, new_status FROM moderation_events WHERE type = 'AUTOMATED' ORDER BY id`)).rows;
      // Only the edit's job records a decision; the stale one is closed without one.
      expect(events).toEqual([{ job_id: done[1].id, new_status: done[1].status }]);
    } finally {
      await t.close();
      await c.end();
      await db.drop();
    }
  }, 60_000);

  it('decides every job exactly once after the server process is killed with SIGKILL mid-batch', async () => {
    const N = 3000;
    const db = await createTestDatabase();
    const c = await connect(db.url);
    // Migrates the database and gives the posts an author; it has no pool, so it decides nothing.
    const setup = await startTestServer({}, {}, { databaseUrl: db.url });
    let child: ReturnType<typeof spawnServer> | undefined;
    let next: TestServer | undefined;
    try {
      const author = await signUp(setup, 'author');
      // Loaded directly: the outbox rows createPost would write, thousands at once.
      await c.query(
        `WITH p AS (
           INSERT INTO posts (kind, author_id, title, body, status)
           SELECT 'QUESTION', $1, 'Question ' || g || ' about ' || (ARRAY['sorting', 'parsing JSON', 'file IO', 'SQL joins'])[1 + g % 4],
                  'How would you approach this in language number ' || g || '? I have tried the obvious things.', 'PENDING'
             FROM generate_series(1, $2::int) g
           RETURNING id)
         INSERT INTO moderation_jobs (subject_id) SELECT id FROM p ORDER BY id`,
        [author.rowId, N],
      );

      child = spawnServer({ DATABASE_URL: db.url, MODERATION_LEASE_MS: '1500', ML_WORKERS: '1' });
      // Kill it while it holds a claimed batch it has not decided, after it has decided some.
      const deadline = Date.now() + 45_000;
      for (;;) {
        const { rows } = await c.query(
          `SELECT count(*) FILTER (WHERE state = 'DONE')::int AS done,
                  count(*) FILTER (WHERE state = 'PENDING' AND locked_until > now())::int AS claimed
             FROM moderation_jobs`,
        );
        if (rows[0].done > 0 && rows[0].claimed > 0) break;
        if (child.exited()) throw new Error(`the server process exited on its own:\n${child.output().slice(-4000)}`);
        if (Date.now() > deadline || rows[0].done === N) {
          throw new Error(`never saw a claimed, undecided batch (done ${rows[0].done} of ${N}):\n${child.output().slice(-4000)}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await child.stop('SIGKILL');

      // What proves "mid-batch": claimed (leased, attempts counted), not decided, and now orphaned.
      const { rows: orphaned } = await c.query<{ id: string; attempts: number; locked_until: Date }>(
        `SELECT id::text, attempts, locked_until FROM moderation_jobs WHERE state = 'PENDING' AND locked_until > now() ORDER BY id`,
      );
      expect(orphaned.length).toBeGreaterThan(0);
      const doneAtKill = (await c.query(`SELECT count(*)::int AS n FROM moderation_jobs WHERE state = 'DONE'`)).rows[0].n;
      expect(doneAtKill).toBeGreaterThan(0);
      expect(doneAtKill).toBeLessThan(N);

      next = await startModeratedServer({}, { databaseUrl: db.url });
      await waitFor(async () => (await c.query(`SELECT count(*)::int AS n FROM moderation_jobs WHERE state = 'PENDING'`)).rows[0].n === 0,
        50_000, 'the next server to decide the rest');
      await expectDecidedOnce(c, N);
      const { rows: after } = await c.query<{ id: string; attempts: number; decided_at: Date }>(
        `SELECT id::text, attempts, decided_at FROM moderation_jobs WHERE id = ANY($1::bigint[]) ORDER BY id`,
        [orphaned.map((j) => j.id)],
      );
      const leaseOf = new Map(orphaned.map((j) => [j.id, j.locked_until.getTime()]));
      for (const j of after) {
        // Claimed again by the next server, and only once the killed process's lease had run out.
        expect(j.attempts).toBeGreaterThanOrEqual(2);
        expect(j.decided_at.getTime()).toBeGreaterThanOrEqual(leaseOf.get(j.id)!);
      }
    } finally {
      await child?.stop('SIGKILL');
      await next?.close();
      await setup.close();
      await c.end();
      await db.drop();
    }
  }, 120_000);
});

import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { CREATE_POST, codes, createTestDatabase, signUp, startTestServer, type TestServer } from '../support/harness';
import { type ServerProcess, gqlAt, spawnServer } from '../support/server-process';
import { createRateLimiter } from '../../src/shared/rate-limiter';

/*
 * Cost budgets: every operation spends its computed cost from the caller's budget before it runs;
 * a refused one runs nothing and spends nothing; the budget is whole again when its window ends.
 */

const PAGE = `query($first: Int) { posts(first: $first) { nodes { id } } }`;
const pageCost = (n: number) => 1 + n; // a connection costs its page size times each item (one field)

async function budgetServer(env: Record<string, string>): Promise<TestServer> {
  return startTestServer({}, { RATE_LIMIT_POINTS: '100', RATE_LIMIT_ANONYMOUS_POINTS: '60', RATE_LIMIT_WINDOW_S: '3600', ...env });
}

/** Spends the account's budget down to `target` points with one page query; returns the page's response. */
async function spendTo(t: TestServer, token: string, target: number) {
  const remaining = (await t.gql(`{ rateLimit { remaining } }`, undefined, token)).data.rateLimit.remaining as number;
  const res = await t.gql(PAGE, { first: remaining - 1 - target }, token);
  expect(res.extensions!.cost.remaining).toBe(target);
  return res;
}

describe('cost-based rate limiting', () => {
  let t: TestServer;
  type U = Awaited<ReturnType<typeof signUp>>;
  let reporter: U, asker: U, spender: U, subscriber: U;
  beforeAll(async () => {
    t = await budgetServer({});
    // Signing up is anonymous: done first, so the anonymous test below starts from a known budget.
    [reporter, asker, spender, subscriber] = await Promise.all(['reporter', 'asker', 'spender', 'subscriber'].map((h) => signUp(t, h)));
  });
  afterAll(() => t.close());

  it('reports the requested cost and the remaining budget on every response, and spends exactly the cost', async () => {
    const first = await t.gql(PAGE, { first: 10 }, reporter.token);
    const second = await t.gql(PAGE, { first: 5 }, reporter.token);
    expect(first.extensions!.cost).toMatchObject({ requested: pageCost(10), limit: 100, remaining: 100 - pageCost(10) });
    expect(second.extensions!.cost).toMatchObject({ requested: pageCost(5), limit: 100, remaining: 100 - pageCost(10) - pageCost(5) });
    // Spent points come back at 100 per hour, one every 36 s: the 17 spent are back in 612 s.
    expect(Date.parse(second.extensions!.cost.resetAt) - Date.now()).toBeGreaterThan(605_000);
    expect(Date.parse(second.extensions!.cost.resetAt) - Date.now()).toBeLessThanOrEqual(612_000);
    // And GitHub's headers.
    expect(Object.fromEntries([...second.headers].filter(([k]) => k.startsWith('x-ratelimit-')))).toEqual({
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': String(100 - pageCost(10) - pageCost(5)),
      'x-ratelimit-used': String(pageCost(10) + pageCost(5)),
      'x-ratelimit-reset': String(Math.ceil(Date.parse(second.extensions!.cost.resetAt) / 1000)),
    });
    // A document that fails validation runs nothing, costs nothing, and still reports the budget.
    const invalid = await t.gql(`{ noSuchField }`, undefined, reporter.token);
    expect(invalid.extensions!.cost).toEqual({ limit: 100, remaining: second.extensions!.cost.remaining, resetAt: expect.any(String) });
  });

  it('answers rateLimit with GitHub’s figures, and a dry run charges nothing and runs nothing else', async () => {
    const real = await t.gql(`{ rateLimit { cost limit used remaining resetAt } posts(first: 3) { nodes { id } } }`, undefined, asker.token);
    const { cost, limit, used, remaining } = real.data.rateLimit;
    expect(cost).toBe(1 + 5 + pageCost(3)); // rateLimit and its five fields, and the page
    expect(cost).toBe(real.extensions!.cost.requested);
    expect({ limit, used, remaining }).toEqual({ limit: 100, used: cost, remaining: 100 - cost });
    const dry = await t.gql(`query($dry: Boolean!) { rateLimit(dryRun: $dry) { cost remaining } posts(first: 50) { nodes { id } } }`, { dry: true }, asker.token);
    expect(dry.data).toEqual({ rateLimit: { cost: 1 + 2 + pageCost(50), remaining } });
    const after = await t.gql(`{ rateLimit { remaining } }`, undefined, asker.token);
    expect(after.data.rateLimit.remaining).toBe(remaining - 2);
  });

  it('refuses an operation over the remaining budget with 429, Retry-After and RATE_LIMITED, and runs none of it', async () => {
    await spendTo(t, spender.token, 10);
    const input = { kind: 'DISCUSSION', title: 'Over budget', body: 'x', tags: ['budget'] };
    const res = await t.gql(`mutation($input: CreatePostInput!) { createPost(input: $input) { id author { posts(first: 20) { nodes { id } } } } }`, { input }, spender.token);
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    // 90 in use and 24 wanted: 14 must come back first, at one every 36 s.
    expect(retryAfter).toBeGreaterThan(500);
    expect(retryAfter).toBeLessThanOrEqual(14 * 36);
    expect(codes(res)).toEqual(['RATE_LIMITED']);
    expect(res.errors![0].extensions).toMatchObject({ retryAfter, limit: 100, remaining: 10 });
    expect(res.errors![0].extensions!.http).toBeUndefined();
    expect(res.data ?? null).toBeNull();
    expect(await t.app.db.query(`SELECT 1 FROM posts WHERE title = 'Over budget'`)).toHaveLength(0);
    // Refused, it cost nothing: a cheaper operation that fits still runs.
    expect(res.extensions!.cost).toMatchObject({ requested: 1 + 1 + 1 + pageCost(20), remaining: 10 });
    const cheap = await t.gql(PAGE, { first: 8 }, spender.token);
    expect(cheap.errors).toBeUndefined();
    expect(cheap.extensions!.cost.remaining).toBe(1);
  });

  it('charges a subscription its cost when it starts, and refuses it with RATE_LIMITED when the budget is spent', async () => {
    const client = t.ws(subscriber.token);
    const subscribe = (query: string) => new Promise<any>((resolve) => {
      client.subscribe({ query }, { next: () => undefined, error: resolve, complete: () => resolve('complete') });
      setTimeout(() => resolve('running'), 500);
    });
    const SUB = `subscription { postAdded { id title author { handle } } }`; // 1 + 1 + 1 + (1 + 1)
    expect(await subscribe(SUB)).toBe('running');
    const remaining = (await t.gql(`{ rateLimit { remaining } }`, undefined, subscriber.token)).data.rateLimit.remaining as number;
    expect(remaining).toBe(100 - 5 - 2);
    await spendTo(t, subscriber.token, 3);
    const refused = await subscribe(SUB);
    expect(refused?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', remaining: 3 });
    expect(refused[0].extensions.retryAfter).toBeGreaterThan(0);
  });

  it('budgets anonymous callers per address, apart from members and with a smaller budget', async () => {
    const remaining = (await t.gql(`{ rateLimit { limit remaining } }`)).data.rateLimit;
    expect(remaining.limit).toBe(60);
    const spent = await t.gql(PAGE, { first: remaining.remaining - 1 - 5 });
    expect(spent.extensions!.cost).toMatchObject({ limit: 60, remaining: 5 });
    const refused = await t.gql(PAGE, { first: 10 });
    expect(refused.status).toBe(429);
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    // Members are unaffected.
    expect((await t.gql(PAGE, { first: 10 }, reporter.token)).errors).toBeUndefined();
    // More than a whole budget can never run: an input error, not a reason to wait.
    const tooBig = await t.gql(PAGE, { first: 70 });
    expect(tooBig.status).toBe(400);
    expect(tooBig.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_COSTLY', limit: 60 });
  });
});

describe('budget refill', () => {
  it('gives spent points back steadily, the whole budget over one window, and says when a refused operation will fit', async () => {
    // 100 points over 2 s: 50 points come back every second.
    const t = await budgetServer({ RATE_LIMIT_WINDOW_S: '2' });
    try {
      const { token } = await signUp(t, 'waiter');
      let res = await t.gql(PAGE, { first: 90 }, token);
      expect(res.errors).toBeUndefined();
      expect(res.extensions!.cost.remaining).toBeLessThanOrEqual(9 + 1);
      res = await t.gql(PAGE, { first: 90 }, token);
      expect(codes(res)).toEqual(['RATE_LIMITED']);
      // 91 in use, 91 more wanted: 82 must drain first, 1.64 s at 50 points a second.
      expect(Number(res.headers.get('retry-after'))).toBe(2);
      await new Promise((r) => setTimeout(r, 1_000));
      const partial = (await t.gql(`{ rateLimit { remaining } }`, undefined, token)).data.rateLimit.remaining as number;
      expect(partial).toBeGreaterThanOrEqual(9 + 45);
      expect(partial).toBeLessThan(91);
      await new Promise((r) => setTimeout(r, 1_000));
      res = await t.gql(PAGE, { first: 90 }, token);
      expect(res.errors).toBeUndefined();
      await new Promise((r) => setTimeout(r, 2_100));
      const whole = await t.gql(`{ rateLimit { used remaining resetAt } }`, undefined, token);
      // Whole again: only this query itself (4 points) is in use.
      expect(whole.data.rateLimit).toMatchObject({ used: 4, remaining: 96 });
    } finally {
      await t.close();
    }
  });
});

describe('without Redis', () => {
  it('keeps admitting, with this process’s own budgets, while Redis is unreachable', async () => {
    const limiter = createRateLimiter({ enabled: true, memberPoints: 100, anonymousPoints: 60, windowSeconds: 3600 }, 'redis://127.0.0.1:1', 'unreachable:');
    try {
      expect(limiter.transport).toBe('redis');
      const key = { kind: 'ip', ip: '192.0.2.1' } as const;
      const first = await limiter.charge(key, 31);
      expect(first).toMatchObject({ ok: true, status: { limit: 60, remaining: 29 } });
      expect(await limiter.charge(key, 31)).toMatchObject({ ok: false, status: { remaining: 29 } });
    } finally {
      await limiter.close();
    }
  });
});

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) {
  console.warn('rate-limit: REDIS_URL is not set, so the test of one budget shared by two server processes is skipped. Set REDIS_URL (e.g. redis://127.0.0.1:6379) to run it.');
}
(REDIS_URL ? it : it.skip)('shares one budget between two server processes through Redis', async () => {
  const db = await createTestDatabase();
  // This run's own keys: parallel test files or other runs on the same Redis stay apart.
  const prefix = `colloquy-test-${randomBytes(6).toString('hex')}:`;
  const shared = { DATABASE_URL: db.url, REDIS_URL: REDIS_URL!, REDIS_PREFIX: prefix, TOKEN_SECRET: randomBytes(32).toString('hex'), ML_ENABLED: 'false', RATE_LIMIT_POINTS: '100' };
  const procs: ServerProcess[] = [];
  const redis = new Redis(REDIS_URL!, { maxRetriesPerRequest: 3 });
  try {
    procs.push(spawnServer(shared));
    const urlA = await procs[0].ready; // the first process applies the migrations
    procs.push(spawnServer(shared));
    const urlB = await procs[1].ready;
    const signed = await gqlAt(urlA, `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`,
      { input: { handle: 'shared', password: 'correct horse battery', email: 'shared@example.test' } });
    const token = signed.data.signUp.token as string;
    const onA = await gqlAt(urlA, PAGE, { first: 60 }, token);
    expect(onA.errors).toBeUndefined();
    // B has served nothing for this account, yet sees what A spent.
    const onB = await gqlAt(urlB, `{ rateLimit { remaining } }`, undefined, token);
    expect(onB.data.rateLimit.remaining).toBe(onA.extensions!.cost.remaining - 2);
    const refused = await gqlAt(urlB, PAGE, { first: 60 }, token);
    expect(refused.status).toBe(429);
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    expect(await redis.keys(`${prefix}colloquy:rate:*`)).not.toHaveLength(0);
  } finally {
    for (const p of procs) await p.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db.drop();
  }
}, 60_000);

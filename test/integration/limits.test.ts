import { codes, signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ limits: { maxBodyBytes: 2_000, maxDepth: 6, maxCost: 500 } });
});
afterAll(() => t.close());

describe('request limits', () => {
  it('refuses a query nested deeper than the limit before running it', async () => {
    const res = await t.gql(`{ posts { nodes { parent { parent { parent { parent { parent { id } } } } } } } }`);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.data).toBeUndefined();
  });

  it('refuses a query whose computed cost is over the limit, saying the cost and the limit', async () => {
    const res = await t.gql(`{ posts(first: 100) { nodes { answers(first: 100) { nodes { id } } } } }`);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0].extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY', limit: 500 });
    expect(res.errors![0].extensions!.cost).toBeGreaterThan(500);
  });

  it('reports the cost of every query it runs', async () => {
    const res = await t.gql(`{ posts(first: 10) { nodes { id author { handle } } } }`);
    expect(res.extensions!.cost).toMatchObject({ requested: 1 + 10 * 3 });
  });

  it('refuses page sizes over 100', async () => {
    const big = await startTestServer();
    try {
      expect(codes(await big.gql(`{ posts(first: 101) { nodes { id } } }`))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await big.gql(`{ tags(last: 500) { nodes { id } } }`))).toEqual(['BAD_USER_INPUT']);
    } finally {
      await big.close();
    }
  });

  it('refuses a body over the configured size with HTTP 413 and writes nothing', async () => {
    const res = await t.post(JSON.stringify({ query: `mutation { signUp(input: { handle: "big", password: "${'x'.repeat(3_000)}" }) { token } }` }));
    expect(res.status).toBe(413);
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(await t.app.db.query(`SELECT 1 FROM users WHERE handle = 'big'`)).toHaveLength(0);
  });

  it('answers malformed JSON and syntax errors with BAD_USER_INPUT', async () => {
    const res = await t.post('{"query": ');
    expect(res.status).toBe(400);
    expect(codes(await t.gql(`{ posts { `))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(`{ noSuchField }`))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('errors in production', () => {
  it('hides the internals of an unexpected failure: no stack trace, no SQL, a generic message', async () => {
    const prod = await startTestServer({ env: 'production' });
    try {
      const { token } = await signUp(prod, 'prodder');
      await prod.app.db.query(`ALTER TABLE tags RENAME TO tags_gone`);
      const res = await prod.gql(`{ tags { nodes { name } } }`, undefined, token);
      expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(res.errors![0].message).toBe('Internal server error');
      expect(JSON.stringify(res)).not.toMatch(/stacktrace|tags_gone|relation|at .*\.ts/);
      expect(res.extensions?.sqlQueries).toBeUndefined();
    } finally {
      await prod.app.db.query(`ALTER TABLE tags_gone RENAME TO tags`);
      await prod.close();
    }
  });
});

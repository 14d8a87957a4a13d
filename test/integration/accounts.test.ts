import { codes, signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('accounts', () => {
  it('signs a member up, logs them in and tells them who they are', async () => {
    const { token } = await signUp(t, 'alice');
    const login = await t.gql(`mutation { logIn(input: { handle: "ALICE", password: "correct horse battery" }) { token user { handle role email } } }`);
    expect(login.errors).toBeUndefined();
    expect(login.data.logIn.user).toEqual({ handle: 'alice', role: 'MEMBER', email: 'alice@example.test' });
    const me = await t.gql(`{ viewer { handle email postCount } }`, undefined, token);
    expect(me.data.viewer).toEqual({ handle: 'alice', email: 'alice@example.test', postCount: 0 });
  });

  it('answers viewer with null for anonymous requests', async () => {
    const res = await t.gql(`{ viewer { handle } }`);
    expect(res.data.viewer).toBeNull();
  });

  it('refuses a taken handle whatever its case, with BAD_USER_INPUT naming the field', async () => {
    await signUp(t, 'bob');
    const res = await t.gql(`mutation { signUp(input: { handle: "Bob", password: "long enough pw" }) { token } }`);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0].extensions!.field).toBe('handle');
  });

  it('refuses short passwords and malformed e-mail addresses', async () => {
    const short = await t.gql(`mutation { signUp(input: { handle: "carol", password: "short" }) { token } }`);
    expect(codes(short)).toEqual(['BAD_USER_INPUT']);
    const email = await t.gql(`mutation { signUp(input: { handle: "carol", password: "long enough pw", email: "nope" }) { token } }`);
    expect(codes(email)).toEqual(['BAD_USER_INPUT']);
    const rows = await t.app.db.query(`SELECT 1 FROM users WHERE handle = 'carol'`);
    expect(rows).toHaveLength(0);
  });

  it('gives the same UNAUTHENTICATED error for a wrong password and an unknown handle', async () => {
    await signUp(t, 'dave');
    const wrong = await t.gql(`mutation { logIn(input: { handle: "dave", password: "not the password" }) { token } }`);
    const unknown = await t.gql(`mutation { logIn(input: { handle: "nobody", password: "not the password" }) { token } }`);
    expect(codes(wrong)).toEqual(['UNAUTHENTICATED']);
    expect(wrong.errors![0].message).toBe(unknown.errors![0].message);
  });

  it('rejects a forged token with HTTP 401 and UNAUTHENTICATED', async () => {
    const res = await t.gql(`{ viewer { handle } }`, undefined, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.forged');
    expect(res.status).toBe(401);
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
  });

  it('applies a role change to existing tokens at once', async () => {
    const eve = await signUp(t, 'eve');
    await t.app.db.query(`UPDATE users SET role = 'MODERATOR' WHERE id = $1`, [eve.rowId]);
    const res = await t.gql(`{ viewer { role } }`, undefined, eve.token);
    expect(res.data.viewer.role).toBe('MODERATOR');
  });
});

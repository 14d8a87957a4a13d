import { createHash } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { CREATE_POST, codes, createPost, signUp, startTestServer, waitFor, type TestServer } from '../support/harness';

let t: TestServer;
type U = Awaited<ReturnType<typeof signUp>>;
let member: U, mod: U, other: U;

beforeAll(async () => {
  t = await startTestServer();
  member = await signUp(t, 'member');
  mod = await signUp(t, 'mod', 'MODERATOR');
  other = await signUp(t, 'other');
});
afterAll(() => t.close());

const CREATE = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret apiToken { id name hint scopes expiresAt lastUsedAt revokedAt } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }`;
const LIST = `{ viewer { apiTokens(first: 10) { nodes { id name hint scopes lastUsedAt } } } }`;
const QUEUE = `{ moderationQueue(first: 5) { nodes { subjectId } } }`;

async function createToken(session: string, scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await t.gql(CREATE, { input: { name: `token ${scopes.join('+')}`, scopes, ...extra } }, session);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createApiToken as { secret: string; apiToken: { id: string; hint: string; scopes: string[]; expiresAt: string | null } };
}

const postCount = async (title: string) => (await t.app.db.query(`SELECT count(*)::int AS n FROM posts WHERE title = $1`, [title]))[0].n as number;

/** The first error of a subscription, or undefined when it started (and sent nothing) within the wait. */
function firstError(client: Client, query: string): Promise<any> {
  return new Promise((resolve) => {
    client.subscribe({ query }, { next: () => undefined, error: (e) => resolve(e), complete: () => resolve(undefined) });
    setTimeout(() => resolve(undefined), 1_000);
  });
}

describe('personal API tokens', () => {
  it('shows a recognisable secret once, which then authenticates as the member', async () => {
    const created = await createToken(member.token, ['READ']);
    expect(created.secret).toMatch(/^colloquy_pat_[A-Za-z0-9_-]{43}$/);
    expect(created.apiToken).toMatchObject({ scopes: ['READ'], expiresAt: null, lastUsedAt: null, revokedAt: null });
    expect(created.secret.startsWith(created.apiToken.hint.replace('…', ''))).toBe(true);
    const me = await t.gql(`{ viewer { handle } }`, undefined, created.secret);
    expect(me.data.viewer).toEqual({ handle: 'member' });
  });

  it('stores only a SHA-256 hash of the secret, never the secret itself', async () => {
    const { secret, apiToken } = await createToken(member.token, ['READ']);
    const rows = await t.app.db.query(`SELECT t.token_hash, row_to_json(t)::text AS json FROM api_tokens t WHERE hint = $1`, [apiToken.hint]);
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].token_hash).equals(createHash('sha256').update(secret).digest())).toBe(true);
    expect(rows[0].json).not.toContain(secret.slice('colloquy_pat_'.length + 4));
  });

  it("lists the member's tokens without their secrets and records when each was last used", async () => {
    const { secret, apiToken } = await createToken(member.token, ['READ']);
    await t.gql(`{ viewer { id } }`, undefined, secret);
    const list = await t.gql(LIST, undefined, member.token);
    const listed = list.data.viewer.apiTokens.nodes.find((n: any) => n.id === apiToken.id);
    expect(listed).toMatchObject({ hint: apiToken.hint, scopes: ['READ'] });
    expect(Date.parse(listed.lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.stringify(list.data)).not.toContain(secret);
    // Only the owner sees a token, by list or by id.
    const byOther = await t.gql(`query($id: ID!) { node(id: $id) { id } user(handle: "member") { apiTokens { nodes { id } } } }`, { id: apiToken.id }, other.token);
    expect(byOther.data?.node ?? null).toBeNull();
    expect(codes(byOther)).toEqual(['FORBIDDEN']);
    expect((await t.gql(`query($id: ID!) { node(id: $id) { ... on ApiToken { name } } }`, { id: apiToken.id }, member.token)).data.node.name).toBe('token READ');
  });

  it('refuses a revoked token with UNAUTHENTICATED, over HTTP and WebSocket', async () => {
    const { secret, apiToken } = await createToken(member.token, ['READ']);
    expect((await t.gql(`{ viewer { handle } }`, undefined, secret)).data.viewer.handle).toBe('member');
    const revoked = await t.gql(REVOKE, { id: apiToken.id }, member.token);
    expect(revoked.data.revokeApiToken.revokedAt).not.toBeNull();
    const refused = await t.gql(`{ viewer { handle } }`, undefined, secret);
    expect(refused.status).toBe(401);
    expect(codes(refused)).toEqual(['UNAUTHENTICATED']);
    expect(refused.errors![0].message).toMatch(/revoked/);
    const closed = await new Promise<any>((resolve) => t.ws(secret).subscribe({ query: `subscription { postAdded { id } }` }, { next: () => undefined, error: resolve, complete: () => resolve('completed') }));
    expect(closed.code).toBe(4403);
    // A socket opened before the revocation starts nothing more.
    const { secret: live, apiToken: liveToken } = await createToken(member.token, ['READ']);
    const socket = t.ws(live);
    expect(await firstError(socket, `subscription { postAdded { id } }`)).toBeUndefined();
    await t.gql(REVOKE, { id: liveToken.id }, member.token);
    const late = await firstError(socket, `subscription { postAdded { id } }`);
    expect(late?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    // Revoked tokens leave the list.
    const list = await t.gql(LIST, undefined, member.token);
    expect(list.data.viewer.apiTokens.nodes.map((n: any) => n.id)).not.toContain(apiToken.id);
  });

  it('refuses an expired token with UNAUTHENTICATED', async () => {
    const { secret, apiToken } = await createToken(member.token, ['READ'], { expiresInDays: 30 });
    expect(Date.parse(apiToken.expiresAt!)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect((await t.gql(`{ viewer { handle } }`, undefined, secret)).data.viewer.handle).toBe('member');
    await t.app.db.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE hint = $1`, [apiToken.hint]);
    const refused = await t.gql(`{ viewer { handle } }`, undefined, secret);
    expect(codes(refused)).toEqual(['UNAUTHENTICATED']);
    expect(refused.errors![0].message).toMatch(/expired/);
  });

  it('refuses a made-up token that looks like one', async () => {
    const res = await t.gql(`{ viewer { handle } }`, undefined, 'colloquy_pat_' + 'A'.repeat(43));
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
  });

  it('lets only a session create or revoke tokens, so a token cannot mint a stronger one', async () => {
    const { secret, apiToken } = await createToken(member.token, ['READ', 'WRITE']);
    const create = await t.gql(CREATE, { input: { name: 'escalate', scopes: ['MODERATE'] } }, secret);
    expect(codes(create)).toEqual(['FORBIDDEN']);
    expect(create.errors![0].extensions).toMatchObject({ reason: 'SESSION_REQUIRED' });
    expect(codes(await t.gql(REVOKE, { id: apiToken.id }, secret))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(REVOKE, { id: apiToken.id }, other.token))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(CREATE, { input: { name: 'none', scopes: [] } }, member.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(CREATE, { input: { name: 'anon', scopes: ['READ'] } }))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('token scopes', () => {
  it('lets a READ token query but not run mutations, naming the missing scope, and writes nothing', async () => {
    const { secret } = await createToken(member.token, ['READ']);
    expect((await t.gql(`{ posts(first: 1) { nodes { id } } }`, undefined, secret)).errors).toBeUndefined();
    const res = await t.gql(CREATE_POST, { input: { kind: 'DISCUSSION', title: 'Read-only attempt', body: 'x', tags: ['t'] } }, secret);
    expect(res.status).toBe(403);
    expect(codes(res)).toEqual(['FORBIDDEN']);
    expect(res.errors![0].extensions).toMatchObject({ reason: 'MISSING_SCOPE', scope: 'WRITE' });
    expect(res.errors![0].message).toMatch(/WRITE/);
    expect(await postCount('Read-only attempt')).toBe(0);
  });

  it('lets a WRITE token create posts, but not read unless it also has READ', async () => {
    const { secret } = await createToken(member.token, ['WRITE']);
    const res = await t.gql(CREATE_POST, { input: { kind: 'DISCUSSION', title: 'Written with a token', body: 'x', tags: ['t'] } }, secret);
    expect(res.errors).toBeUndefined();
    expect(await postCount('Written with a token')).toBe(1);
    const read = await t.gql(`{ posts(first: 1) { nodes { id } } }`, undefined, secret);
    expect(read.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE', scope: 'READ' });
  });

  it('needs MODERATE for moderator views and actions, and the moderator role as well', async () => {
    const withoutModerate = await createToken(mod.token, ['READ', 'WRITE']);
    const denied = await t.gql(QUEUE, undefined, withoutModerate.secret);
    expect(denied.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE', scope: 'MODERATE' });
    const withModerate = await createToken(mod.token, ['MODERATE']);
    expect((await t.gql(QUEUE, undefined, withModerate.secret)).errors).toBeUndefined();
    // The session keeps every power of the role.
    expect((await t.gql(QUEUE, undefined, mod.token)).errors).toBeUndefined();
    const memberModerate = await createToken(member.token, ['MODERATE']);
    expect(codes(await t.gql(QUEUE, undefined, memberModerate.secret))).toEqual(['FORBIDDEN']);
  });

  it("acts as a plain member when a moderator's token lacks MODERATE, wherever the role is checked", async () => {
    const post = await createPost(t, other.token, { kind: 'DISCUSSION', title: 'Someone else’s thread', body: 'x', tags: ['t'] });
    const edit = `mutation($input: EditPostInput!) { editPost(input: $input) { title } }`;
    const { secret } = await createToken(mod.token, ['READ', 'WRITE']);
    expect(codes(await t.gql(edit, { input: { id: post, title: 'Edited by a token' } }, secret))).toEqual(['FORBIDDEN']);
    expect((await t.gql(edit, { input: { id: post, title: 'Edited by the moderator' } }, mod.token)).errors).toBeUndefined();
  });

  it('needs MODERATE for the verdict stream over WebSocket', async () => {
    const VERDICTS = `subscription { moderationVerdicts { sequence } }`;
    const readOnly = await createToken(mod.token, ['READ']);
    const err = await firstError(t.ws(readOnly.secret), VERDICTS);
    expect(err?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE', scope: 'MODERATE' });
    const moderate = await createToken(mod.token, ['MODERATE']);
    const events: any[] = [];
    t.ws(moderate.secret).subscribe({ query: VERDICTS }, { next: (v) => events.push(v), error: (e) => events.push({ error: e }), complete: () => undefined });
    const post = await createPost(t, other.token, { kind: 'DISCUSSION', title: 'Watched by a bot', body: 'x', tags: ['t'] });
    await new Promise((r) => setTimeout(r, 200));
    const acted = await t.gql(`mutation($id: ID!) { moderate(subjectId: $id, action: HIDE, reason: "bot test") { sequence } }`, { id: post }, moderate.secret);
    expect(acted.errors).toBeUndefined();
    await waitFor(async () => events.length > 0, 5_000, 'the verdict on the token’s stream');
    expect(events[0].data.moderationVerdicts.sequence).toBe(acted.data.moderate.sequence);
  });
});

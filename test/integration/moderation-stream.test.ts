import type { Client } from 'graphql-ws';
import { createPost, signUp, startTestServer, waitFor, type TestServer } from '../support/harness';
import { queuedVerdicts, verdictStream } from '../../src/modules/moderation/verdict-stream';

let t: TestServer;
type U = Awaited<ReturnType<typeof signUp>>;
let author: U, mod: U, admin: U, member: U;

beforeAll(async () => {
  t = await startTestServer({ moderation: { dispatcher: false, batchSize: 1, leaseMs: 1000, pollMs: 1000, retentionDays: 1 } });
  author = await signUp(t, 'author');
  member = await signUp(t, 'member');
  mod = await signUp(t, 'mod', 'MODERATOR');
  admin = await signUp(t, 'admin', 'ADMIN');
});
afterAll(() => t.close());

const VERDICTS = `subscription($after: String) { moderationVerdicts(after: $after) { sequence type action subjectId newStatus } }`;
const MODERATE = `mutation($id: ID!, $action: ModerationAction!) { moderate(subjectId: $id, action: $action, reason: "test") { sequence } }`;

function watch(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const events: any[] = [];
  const state: { error?: any; complete: boolean } = { complete: false };
  const dispose = client.subscribe({ query, variables }, {
    next: (v) => events.push(v),
    error: (e) => (state.error = e),
    complete: () => (state.complete = true),
  });
  return { events, state, dispose };
}

/** Appends n HIDE/RESTORE events (alternating) to one post; returns their sequences. */
async function decisions(postId: string, n: number, from: 'PUBLISHED' | 'HIDDEN' = 'PUBLISHED'): Promise<string[]> {
  const seqs: string[] = [];
  let hidden = from === 'HIDDEN';
  for (let i = 0; i < n; i++) {
    const res = await t.gql(MODERATE, { id: postId, action: hidden ? 'RESTORE' : 'HIDE' }, mod.token);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    seqs.push(res.data.moderate.sequence);
    hidden = !hidden;
  }
  return seqs;
}

const settle = () => new Promise((r) => setTimeout(r, 150));

describe('moderationVerdicts', () => {
  it('streams every decision live to moderators', async () => {
    const post = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Streamed article', body: 'x', tags: ['s'] });
    const sub = watch(t.ws(mod.token), VERDICTS);
    await settle();
    const seqs = await decisions(post, 3);
    await waitFor(async () => sub.events.length >= 3);
    expect(sub.events.map((e) => e.data.moderationVerdicts.sequence)).toEqual(seqs);
    expect(sub.events[0].data.moderationVerdicts).toMatchObject({ type: 'HUMAN', action: 'HIDE', subjectId: post, newStatus: 'HIDDEN' });
    sub.dispose();
  });

  it('resumes after a cursor with what was missed, then live, with no gap and no duplicate', async () => {
    const post = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Resumed article', body: 'x', tags: ['s'] });
    const first = watch(t.ws(mod.token), VERDICTS);
    await settle();
    const before = await decisions(post, 2);
    await waitFor(async () => first.events.length >= 2);
    const cursor = first.events[first.events.length - 1].data.moderationVerdicts.sequence;
    first.dispose();

    const missed = await decisions(post, 4, 'PUBLISHED');
    const resumed = watch(t.ws(mod.token), VERDICTS, { after: cursor });
    // Decisions made while the client resubscribes must land exactly once, in order.
    const during = await decisions(post, 3, 'PUBLISHED');
    await waitFor(async () => resumed.events.length >= missed.length + during.length, 10_000, 'missed and live events');
    await settle();
    const got = resumed.events.map((e) => e.data.moderationVerdicts.sequence);
    expect(got).toEqual([...missed, ...during]);
    expect(got).not.toContain(before[0]);
    resumed.dispose();
  });

  it('refuses a cursor older than the retention with a clear error', async () => {
    const post = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Old cursor article', body: 'x', tags: ['s'] });
    const [old] = await decisions(post, 1);
    await t.app.db.query(`UPDATE moderation_events SET created_at = now() - interval '3 days' WHERE id <= $1`, [old]);
    const sub = watch(t.ws(mod.token), VERDICTS, { after: old });
    await waitFor(async () => sub.state.error || sub.events.length || sub.state.complete);
    const errors = sub.state.error ?? sub.events[0]?.errors;
    expect(JSON.stringify(errors)).toContain('CURSOR_EXPIRED');
    expect(JSON.stringify(errors)).toContain('retention');
  });

  it('is closed to members', async () => {
    const sub = watch(t.ws(member.token), VERDICTS);
    await waitFor(async () => sub.state.error || sub.events.length || sub.state.complete);
    expect(JSON.stringify(sub.state.error ?? sub.events[0]?.errors)).toContain('FORBIDDEN');
  });

  it('ends the subscription with FORBIDDEN as soon as the moderator loses the role', async () => {
    const demoted = await signUp(t, 'demoted', 'MODERATOR');
    const sub = watch(t.ws(demoted.token), VERDICTS);
    await settle();
    const post = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Before demotion', body: 'x', tags: ['s'] });
    await decisions(post, 1);
    await waitFor(async () => sub.events.length >= 1);
    const res = await t.gql(`mutation($id: ID!) { setUserRole(userId: $id, role: MEMBER) { role } }`, { id: demoted.id }, admin.token);
    expect(res.data.setUserRole.role).toBe('MEMBER');
    await waitFor(async () => sub.state.error || sub.state.complete || sub.events.length > 1, 5000, 'the stream to end');
    expect(JSON.stringify(sub.state.error ?? sub.events[sub.events.length - 1].errors)).toContain('FORBIDDEN');
    await decisions(post, 1, 'HIDDEN');
    await settle();
    expect(sub.events.filter((e) => e.data?.moderationVerdicts)).toHaveLength(1);
  });

  it('ends the subscription once the token has expired', async () => {
    const shortLived = await startTestServer({ tokenTtlSeconds: 2, moderation: { dispatcher: false, batchSize: 1, leaseMs: 1000, pollMs: 1000, retentionDays: 1 } }, {}, { databaseUrl: t.databaseUrl });
    try {
      const login = await shortLived.gql(`mutation { logIn(input: { handle: "mod", password: "correct horse battery" }) { token } }`);
      const client = shortLived.ws(login.data.logIn.token);
      const closed = new Promise<number>((resolve) => client.on('closed', (e: any) => resolve(e.code)));
      watch(client, VERDICTS);
      expect(await closed).toBe(4401);
    } finally {
      await shortLived.close();
    }
  });
});

describe('a verdict stream that reads slowly', () => {
  it('holds at most its limit of live verdicts, and reads what it missed from the log, in order and once each', async () => {
    const post = await createPost(t, author.token, { kind: 'QUESTION', title: 'Slow reader', body: 'Verdicts pile up.', tags: ['streams'] });
    const stream = verdictStream({
      m: t.app.db.manager, pubSub: t.app.pubSub.pubSub, after: null, retentionDays: 1, viewerId: mod.rowId, maxQueued: 3,
      accept: () => true, authorize: async () => undefined, checkToken: () => undefined,
    });
    const first = stream.next(); // opens the stream live, then waits for a verdict
    await waitFor(async () => queuedVerdicts(t.app.pubSub.pubSub).length > 0, 5_000, 'the stream to open');
    const seqs = await decisions(post, 8);
    const one = await first;
    // Seven verdicts arrived while nobody read: the inbox kept no more than three.
    expect(Math.max(...queuedVerdicts(t.app.pubSub.pubSub))).toBeLessThanOrEqual(3);
    const read = [one.value!.id];
    for (let i = 1; i < seqs.length; i++) read.push((await stream.next()).value!.id);
    expect(read).toEqual(seqs);
    await stream.return!();
  });
});


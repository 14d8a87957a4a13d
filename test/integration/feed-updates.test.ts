import { createPost, signUp, startTestServer, waitFor, type TestServer } from '../support/harness';

let t: TestServer;
type U = Awaited<ReturnType<typeof signUp>>;
let member: U, writer: U, mod: U;

beforeAll(async () => {
  t = await startTestServer({}, { FEED_UPDATE_INTERVAL_MS: '400', FEED_UPDATE_TOP: '10' });
  member = await signUp(t, 'member');
  writer = await signUp(t, 'writer');
  mod = await signUp(t, 'mod', 'MODERATOR');
  const rust = await createPost(t, writer.token, { kind: 'QUESTION', title: 'Seed question on rust', body: 'x', tags: ['rust'] });
  const tagId = (await t.gql(`{ tag(name: "rust") { id } }`)).data.tag.id;
  await t.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: tagId }, member.token);
  void rust;
});
afterAll(() => t.close());

const UPDATES = `subscription { feedUpdates { reasons changed { rank reason post { id title } } removedPostIds topPostIds } }`;

function watch(token?: string) {
  const events: any[] = [];
  const state: { error?: unknown } = {};
  t.ws(token).subscribe({ query: UPDATES }, { next: (v) => events.push(v), error: (e) => (state.error = e), complete: () => undefined });
  return { events, state };
}
const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));

describe('feedUpdates', () => {
  it('tells the member when a new post ranks into the top of their feed, and why it is there', async () => {
    const sub = watch(member.token);
    await settle();
    const id = await createPost(t, writer.token, { kind: 'QUESTION', title: 'Fresh rust question', body: 'x', tags: ['rust'] });
    await waitFor(async () => sub.events.length > 0, 5000, 'an update');
    const update = sub.events[0].data.feedUpdates;
    expect(update.reasons).toContain('NEW_CONTENT');
    expect(update.changed).toContainEqual(expect.objectContaining({ reason: 'because you follow #rust', post: { id, title: 'Fresh rust question' } }));
    expect(update.topPostIds).toContain(id);
  });

  it('reacts to the member\'s own activity, and to moderation taking a post down', async () => {
    const sub = watch(member.token);
    await settle();
    const other = await createPost(t, writer.token, { kind: 'ARTICLE', title: 'Article on databases', body: 'x', tags: ['postgresql'] });
    await waitFor(async () => sub.events.length > 0, 5000, 'the new-content update');
    await settle(500);
    const countBefore = sub.events.length;
    await t.gql(`mutation($id: ID!) { moderate(subjectId: $id, action: HIDE, reason: "test") { sequence } }`, { id: other }, mod.token);
    await waitFor(async () => sub.events.length > countBefore, 5000, 'the moderation update');
    const update = sub.events[sub.events.length - 1].data.feedUpdates;
    expect(update.reasons).toContain('MODERATION');
    expect(update.removedPostIds).toContain(other);
    expect(update.topPostIds).not.toContain(other);
  });

  it('reflects a bookmark in an update within moments', async () => {
    const fan = await signUp(t, 'fan');
    const python = await createPost(t, writer.token, { kind: 'QUESTION', title: 'Python packaging question', body: 'x', tags: ['python'] });
    const related = await createPost(t, writer.token, { kind: 'QUESTION', title: 'Another python question', body: 'x', tags: ['python'] });
    void related;
    const sub = watch(fan.token);
    await settle(600);
    const started = Date.now();
    await t.gql(`mutation($id: ID!) { bookmark(postId: $id) { id } }`, { id: python }, fan.token);
    await waitFor(async () => sub.events.some((e) => e.data.feedUpdates.reasons.includes('YOUR_ACTIVITY')), 5000, 'the activity update');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(5000);
    const update = sub.events.find((e) => e.data.feedUpdates.reasons.includes('YOUR_ACTIVITY')).data.feedUpdates;
    expect(update.changed.map((a: { reason: string }) => a.reason)).toContain('similar to posts you bookmarked');
  });

  it('coalesces a burst of new posts into a few events', async () => {
    const sub = watch(member.token);
    await settle();
    const started = Date.now();
    for (let i = 0; i < 8; i++) await createPost(t, writer.token, { kind: 'QUESTION', title: `Burst rust question ${i}`, body: 'x', tags: ['rust'] });
    const burstMs = Date.now() - started;
    await settle(900);
    const total = sub.events.length;
    expect(total).toBeGreaterThan(0);
    // One event may fire at once, then at most one per 400 ms interval.
    expect(total).toBeLessThanOrEqual(Math.ceil((burstMs + 900) / 400) + 1);
    expect(total).toBeLessThan(8);
  });

  it('requires a logged-in member', async () => {
    const sub = watch();
    await waitFor(async () => sub.state.error || sub.events.length, 5000, 'an error');
    expect(JSON.stringify(sub.state.error ?? sub.events[0].errors)).toContain('UNAUTHENTICATED');
  });
});

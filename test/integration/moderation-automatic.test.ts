import { CREATE_POST, codes, createPost, signUp, startModeratedServer, waitFor, type TestServer } from '../support/harness';

let t: TestServer;
let author: Awaited<ReturnType<typeof signUp>>;
let reader: Awaited<ReturnType<typeof signUp>>;
let mod: Awaited<ReturnType<typeof signUp>>;

const TOXIC = 'You are a fucking idiot and a stupid moron, shut up';
const SPAM = 'WINNER!! You have won a FREE prize of £1000 cash. Call 09061701461 now to claim, text STOP to opt out';

beforeAll(async () => {
  t = await startModeratedServer();
  author = await signUp(t, 'author');
  reader = await signUp(t, 'reader');
  mod = await signUp(t, 'mod', 'MODERATOR');
});
afterAll(() => t.close());

const status = async (id: string, token = author.token) =>
  (await t.gql(`query($id: ID!) { post(id: $id) { status } }`, { id }, token)).data?.post?.status as string | undefined;
/** The status once the model has decided, read as a moderator (who sees every status). */
const settled = (id: string) =>
  waitFor(async () => {
    const s = await status(id, mod.token);
    return s !== 'PENDING' ? s : undefined;
  }, 15_000, 'a verdict');

describe('automatic moderation', () => {
  it('holds a new post as PENDING until the model has scored it, then publishes benign content', async () => {
    const id = await createPost(t, author.token, { kind: 'QUESTION', title: 'How do I sort a list in Python?', body: 'I have a list of numbers and want it in ascending order.', tags: ['python'] });
    const right = await t.gql(`query($id: ID!) { post(id: $id) { status } }`, { id }, author.token);
    expect(['PENDING', 'PUBLISHED']).toContain(right.data.post.status);
    expect(await settled(id)).toBe('PUBLISHED');
    expect(await status(id, reader.token)).toBe('PUBLISHED');
    const history = await t.gql(`query($id: ID!) { moderationHistory(subjectId: $id) { type action modelVersion previousStatus newStatus scores { label score } } }`, { id }, author.token);
    expect(history.data.moderationHistory).toHaveLength(1);
    expect(history.data.moderationHistory[0]).toMatchObject({ type: 'AUTOMATED', action: 'ALLOW', previousStatus: 'PENDING', newStatus: 'PUBLISHED' });
    expect(history.data.moderationHistory[0].modelVersion).toMatch(/^moderation@/);
  });

  it('keeps toxic content from other members, with scores and the spans that drove them', async () => {
    const parent = await createPost(t, reader.token, { kind: 'DISCUSSION', title: 'Editor wars again', body: 'Which editor do you use?', tags: ['tools'] });
    expect(await settled(parent)).toBe('PUBLISHED');
    const id = await createPost(t, author.token, { kind: 'COMMENT', body: TOXIC, parentId: parent });
    const final = await settled(id);
    expect(['PENDING_REVIEW', 'HIDDEN']).toContain(final);
    expect(codes(await t.gql(`query($id: ID!) { post(id: $id) { id } }`, { id }, reader.token))).toEqual(['NOT_FOUND']);
    const seen = await t.gql(`query($id: ID!) { post(id: $id) { moderation { status modelVersion scores { label score spans { start end text } } } } }`, { id }, mod.token);
    const toxicity = seen.data.post.moderation.scores.find((s: { label: string }) => s.label === 'TOXICITY');
    expect(toxicity.score).toBeGreaterThan(0.5);
    expect(toxicity.spans.length).toBeGreaterThan(0);
    for (const span of toxicity.spans) expect(TOXIC.slice(span.start, span.end)).toBe(span.text);
  });

  it('holds spam for review', async () => {
    const id = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Great news for everyone', body: SPAM, tags: ['offers'] });
    expect(['PENDING_REVIEW', 'HIDDEN']).toContain(await settled(id));
  });

  it('never shows members the scores of content that is not theirs', async () => {
    const id = await createPost(t, author.token, { kind: 'QUESTION', title: 'What is a closure in JavaScript?', body: 'I keep reading about closures.', tags: ['javascript'] });
    await settled(id);
    expect(codes(await t.gql(`query($id: ID!) { post(id: $id) { moderation { status } } }`, { id }, reader.token))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(`query($id: ID!) { moderationHistory(subjectId: $id) { type } }`, { id }, reader.token))).toEqual(['FORBIDDEN']);
    const own = await t.gql(`query($id: ID!) { post(id: $id) { moderation { status scores { label } } } }`, { id }, author.token);
    expect(own.data.post.moderation.scores).toHaveLength(3);
  });

  it('scores an edit again, and delivers verdicts of the post to its author live', async () => {
    const id = await createPost(t, author.token, { kind: 'DISCUSSION', title: 'Favourite keyboard layouts', body: 'Dvorak or QWERTY?', tags: ['keyboards'] });
    expect(await settled(id)).toBe('PUBLISHED');
    const events: any[] = [];
    const client = t.ws(author.token);
    client.subscribe({ query: `subscription($id: ID!) { postModeration(postId: $id) { type action newStatus scores { label } } }`, variables: { id } }, {
      next: (v) => events.push(v), error: () => undefined, complete: () => undefined,
    });
    await new Promise((r) => setTimeout(r, 200));
    const edit = await t.gql(`mutation($input: EditPostInput!) { editPost(input: $input) { status } }`, { input: { id, body: TOXIC } }, author.token);
    expect(edit.data.editPost.status).toBe('PENDING');
    await waitFor(async () => events.length > 0, 15_000, 'a live verdict');
    expect(events[0].data.postModeration).toMatchObject({ type: 'AUTOMATED' });
    expect(events[0].data.postModeration.newStatus).not.toBe('PUBLISHED');
  });

  it('lets only admins change the policy, and applies the new bands to the next verdict', async () => {
    const admin = await signUp(t, 'admin', 'ADMIN');
    const set = `mutation($b: [LabelPolicyInput!]!) { setModerationPolicy(bands: $b) { label review hide } }`;
    const strict = [{ label: 'SPAM', review: 0, hide: 1 }, { label: 'TOXICITY', review: 0, hide: 1 }, { label: 'HATE', review: 0, hide: 1 }];
    expect(codes(await t.gql(set, { b: strict }, mod.token))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(set, { b: [{ label: 'SPAM', review: 0.9, hide: 0.1 }] }, admin.token))).toEqual(['BAD_USER_INPUT']);
    const ok = await t.gql(set, { b: strict }, admin.token);
    expect(ok.errors).toBeUndefined();
    try {
      const id = await createPost(t, author.token, { kind: 'QUESTION', title: 'Anything at all here', body: 'A perfectly harmless question.', tags: ['misc'] });
      expect(await settled(id)).toBe('PENDING_REVIEW');
    } finally {
      await t.app.db.query(`DELETE FROM moderation_policy`);
    }
  });

  it('answers a bad createPost before anything is queued', async () => {
    const before = (await t.app.db.query(`SELECT count(*)::int AS n FROM moderation_jobs`))[0].n;
    const res = await t.gql(CREATE_POST, { input: { kind: 'QUESTION', title: 'x', body: 'y', tags: ['z'] } }, author.token);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect((await t.app.db.query(`SELECT count(*)::int AS n FROM moderation_jobs`))[0].n).toBe(before);
  });
});

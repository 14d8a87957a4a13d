import { CREATE_POST, codes, createPost, signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;
let alice: Awaited<ReturnType<typeof signUp>>;
let bob: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  t = await startTestServer();
  alice = await signUp(t, 'alice');
  bob = await signUp(t, 'bob');
});
afterAll(() => t.close());

const POST = `query($id: ID!) { post(id: $id) { id kind title body status answerCount commentCount isAccepted
  author { handle postCount } tags { name postCount } parent { id } acceptedAnswer { id } } }`;

async function tableCounts() {
  const [row] = await t.app.db.query(
    `SELECT (SELECT count(*) FROM posts)::int AS posts, (SELECT count(*) FROM tags)::int AS tags, (SELECT count(*) FROM post_tags)::int AS post_tags`);
  return row as { posts: number; tags: number; post_tags: number };
}

describe('posts', () => {
  it('creates a question with normalised tags and counts it on the author and the tags', async () => {
    const id = await createPost(t, alice.token, { kind: 'QUESTION', title: 'How do lifetimes work?', body: 'Explain `a`.', tags: ['Rust', 'rust', 'lifetimes'] });
    const res = await t.gql(POST, { id });
    expect(res.data.post).toMatchObject({
      kind: 'QUESTION', title: 'How do lifetimes work?', status: 'PUBLISHED',
      author: { handle: 'alice' }, tags: [{ name: 'lifetimes', postCount: 1 }, { name: 'rust', postCount: 1 }],
    });
  });

  it('threads answers under questions and comments under any post, and counts them on the parent', async () => {
    const q = await createPost(t, alice.token, { kind: 'QUESTION', title: 'What is a monad?', body: 'In plain words.', tags: ['haskell'] });
    const a = await createPost(t, bob.token, { kind: 'ANSWER', body: 'A monoid in the category of endofunctors.', parentId: q });
    await createPost(t, alice.token, { kind: 'COMMENT', body: 'Not helpful.', parentId: a });
    await createPost(t, bob.token, { kind: 'COMMENT', body: 'Fair.', parentId: q });
    const question = (await t.gql(POST, { id: q })).data.post;
    const answer = (await t.gql(POST, { id: a })).data.post;
    expect(question).toMatchObject({ answerCount: 1, commentCount: 1 });
    expect(answer).toMatchObject({ kind: 'ANSWER', title: null, tags: [], parent: { id: q }, commentCount: 1 });
  });

  it.each([
    ['an answer without a parent', { kind: 'ANSWER', body: 'x' }, 'parentId'],
    ['a question without a title', { kind: 'QUESTION', body: 'x', tags: ['a'] }, 'title'],
    ['a question without tags', { kind: 'QUESTION', title: 'A fine title', body: 'x' }, 'tags'],
    ['an empty body', { kind: 'ARTICLE', title: 'A fine title', body: '   ', tags: ['a'] }, 'body'],
    ['a malformed tag', { kind: 'ARTICLE', title: 'A fine title', body: 'x', tags: ['ok-tag', 'no spaces'] }, 'tags'],
    ['six tags', { kind: 'ARTICLE', title: 'A fine title', body: 'x', tags: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'tags'],
    ['an answer with its own title', { kind: 'COMMENT', title: 'Nope', body: 'x', parentId: 'UG9zdDox' }, 'title'],
  ])('refuses %s with BAD_USER_INPUT and writes nothing', async (_name, input, field) => {
    const before = await tableCounts();
    const res = await t.gql(CREATE_POST, { input }, alice.token);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0].extensions!.field).toBe(field);
    expect(await tableCounts()).toEqual(before);
  });

  it('refuses an answer to an article and leaves no orphan tag from a failed create', async () => {
    const article = await createPost(t, alice.token, { kind: 'ARTICLE', title: 'On borrowing', body: 'Text', tags: ['rust'] });
    const res = await t.gql(CREATE_POST, { input: { kind: 'ANSWER', body: 'x', parentId: article } }, bob.token);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);

    // Make the post insert fail after its new tag was created: the transaction must undo the tag.
    await t.app.db.query(`ALTER TABLE posts ADD CONSTRAINT test_fail_after_tags CHECK (body <> 'fail after tags')`);
    try {
      const before = await tableCounts();
      const failed = await t.gql(CREATE_POST, { input: { kind: 'QUESTION', title: 'Orphan tag check', body: 'fail after tags', tags: ['brand-new-tag'] } }, bob.token);
      expect(codes(failed)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(await tableCounts()).toEqual(before);
      expect(await t.app.db.query(`SELECT 1 FROM tags WHERE name = 'brand-new-tag'`)).toHaveLength(0);
    } finally {
      await t.app.db.query(`ALTER TABLE posts DROP CONSTRAINT test_fail_after_tags`);
    }
  });

  it('rolls back every row of a create that fails inside the transaction', async () => {
    const before = await tableCounts();
    // A parent id that decodes fine but does not exist fails after validation, inside the transaction.
    const res = await t.gql(CREATE_POST, { input: { kind: 'COMMENT', body: 'x', parentId: Buffer.from('Post:999999').toString('base64url') } }, bob.token);
    expect(codes(res)).toEqual(['NOT_FOUND']);
    expect(await tableCounts()).toEqual(before);
  });

  it('edits title, body and tags, moving the tag counts', async () => {
    const id = await createPost(t, alice.token, { kind: 'DISCUSSION', title: 'Tabs or spaces?', body: 'Go.', tags: ['style'] });
    const res = await t.gql(`mutation($input: EditPostInput!) { editPost(input: $input) { title body editedAt tags { name postCount } } }`,
      { input: { id, title: 'Tabs or spaces, again?', tags: ['formatting'] } }, alice.token);
    expect(res.errors).toBeUndefined();
    expect(res.data.editPost).toMatchObject({ title: 'Tabs or spaces, again?', body: 'Go.', tags: [{ name: 'formatting', postCount: 1 }] });
    expect(res.data.editPost.editedAt).not.toBeNull();
    const style = await t.gql(`{ tag(name: "style") { postCount } }`);
    expect(style.data.tag.postCount).toBe(0);
  });

  it('deletes a post: it disappears, and its parent and tags forget it', async () => {
    const q = await createPost(t, alice.token, { kind: 'QUESTION', title: 'Delete me later', body: 'x', tags: ['ephemeral'] });
    const a = await createPost(t, bob.token, { kind: 'ANSWER', body: 'Gone soon', parentId: q });
    const del = await t.gql(`mutation($id: ID!) { deletePost(id: $id) { deletedPostId } }`, { id: a }, bob.token);
    expect(del.data.deletePost.deletedPostId).toBe(a);
    expect(codes(await t.gql(POST, { id: a }))).toEqual(['NOT_FOUND']);
    expect((await t.gql(POST, { id: q })).data.post.answerCount).toBe(0);
    await t.gql(`mutation($id: ID!) { deletePost(id: $id) { deletedPostId } }`, { id: q }, alice.token);
    expect((await t.gql(`{ tag(name: "ephemeral") { postCount } }`)).data.tag.postCount).toBe(0);
  });

  it('lets the question author accept one answer, and moves the mark when they accept another', async () => {
    const q = await createPost(t, alice.token, { kind: 'QUESTION', title: 'Which answer wins?', body: 'x', tags: ['meta'] });
    const a1 = await createPost(t, bob.token, { kind: 'ANSWER', body: 'First', parentId: q });
    const a2 = await createPost(t, bob.token, { kind: 'ANSWER', body: 'Second', parentId: q });
    const accept = `mutation($id: ID!) { acceptAnswer(answerId: $id) { id acceptedAnswer { id isAccepted } } }`;
    expect(codes(await t.gql(accept, { id: a1 }, bob.token))).toEqual(['FORBIDDEN']);
    expect((await t.gql(accept, { id: a1 }, alice.token)).data.acceptAnswer.acceptedAnswer).toEqual({ id: a1, isAccepted: true });
    expect((await t.gql(accept, { id: a2 }, alice.token)).data.acceptAnswer.acceptedAnswer).toEqual({ id: a2, isAccepted: true });
    expect((await t.gql(POST, { id: a1 })).data.post.isAccepted).toBe(false);
    expect(codes(await t.gql(accept, { id: q }, alice.token))).toEqual(['BAD_USER_INPUT']);
  });
});

import { codes, createPost, signUp, startTestServer, type TestServer } from '../support/harness';

/**
 * The authorization matrix: every mutation and private field against each kind of caller.
 * `ok` means no error; otherwise the expected `extensions.code`.
 */
type Actor = 'anonymous' | 'member' | 'author' | 'moderator' | 'admin';
const ACTORS: Actor[] = ['anonymous', 'member', 'author', 'moderator', 'admin'];

let t: TestServer;
const tokens: Partial<Record<Actor, string>> = {};
let authorUserId: string;

beforeAll(async () => {
  t = await startTestServer();
  const author = await signUp(t, 'author');
  authorUserId = author.id;
  tokens.author = author.token;
  tokens.member = (await signUp(t, 'member')).token;
  tokens.moderator = (await signUp(t, 'moderator', 'MODERATOR')).token;
  tokens.admin = (await signUp(t, 'admin', 'ADMIN')).token;
});
afterAll(() => t.close());

/** Each case builds its own fresh target, so one actor's success cannot change the next one's outcome. */
const cases: Array<{
  name: string;
  setup: () => Promise<Record<string, unknown>>;
  query: string;
  expect: Record<Actor, string>;
}> = [
  {
    name: 'createPost',
    setup: async () => ({ input: { kind: 'DISCUSSION', title: 'Matrix discussion', body: 'x', tags: ['authz'] } }),
    query: `mutation($input: CreatePostInput!) { createPost(input: $input) { id } }`,
    expect: { anonymous: 'UNAUTHENTICATED', member: 'ok', author: 'ok', moderator: 'ok', admin: 'ok' },
  },
  {
    name: 'editPost',
    setup: async () => ({ input: { id: await createPost(t, tokens.author!, { kind: 'ARTICLE', title: 'Editable article', body: 'x', tags: ['authz'] }), body: 'edited' } }),
    query: `mutation($input: EditPostInput!) { editPost(input: $input) { id } }`,
    expect: { anonymous: 'UNAUTHENTICATED', member: 'FORBIDDEN', author: 'ok', moderator: 'ok', admin: 'ok' },
  },
  {
    name: 'deletePost',
    setup: async () => ({ id: await createPost(t, tokens.author!, { kind: 'ARTICLE', title: 'Deletable article', body: 'x', tags: ['authz'] }) }),
    query: `mutation($id: ID!) { deletePost(id: $id) { deletedPostId } }`,
    expect: { anonymous: 'UNAUTHENTICATED', member: 'FORBIDDEN', author: 'ok', moderator: 'ok', admin: 'ok' },
  },
  {
    name: 'acceptAnswer',
    setup: async () => {
      const q = await createPost(t, tokens.author!, { kind: 'QUESTION', title: 'Question for accepting', body: 'x', tags: ['authz'] });
      return { id: await createPost(t, tokens.member!, { kind: 'ANSWER', body: 'An answer', parentId: q }) };
    },
    query: `mutation($id: ID!) { acceptAnswer(answerId: $id) { id } }`,
    expect: { anonymous: 'UNAUTHENTICATED', member: 'FORBIDDEN', author: 'ok', moderator: 'FORBIDDEN', admin: 'FORBIDDEN' },
  },
  {
    name: 'vote',
    setup: async () => ({ id: await createPost(t, tokens.author!, { kind: 'ARTICLE', title: 'Votable article', body: 'x', tags: ['authz'] }) }),
    query: `mutation($id: ID!) { vote(postId: $id, value: UP) { score } }`,
    expect: { anonymous: 'UNAUTHENTICATED', member: 'ok', author: 'FORBIDDEN', moderator: 'ok', admin: 'ok' },
  },
  {
    name: 'bookmark',
    setup: async () => ({ id: await createPost(t, tokens.author!, { kind: 'ARTICLE', title: 'Bookmarkable', body: 'x', tags: ['authz'] }) }),
    query: `mutation($id: ID!) { bookmark(postId: $id) { bookmarkCount } }`,
    expect: { anonymous: 'UNAUTHENTICATED', member: 'ok', author: 'ok', moderator: 'ok', admin: 'ok' },
  },
  {
    name: 'follow a user',
    setup: async () => ({ id: authorUserId }),
    query: `mutation($id: ID!) { follow(id: $id) { following } }`,
    expect: { anonymous: 'UNAUTHENTICATED', member: 'ok', author: 'BAD_USER_INPUT', moderator: 'ok', admin: 'ok' },
  },
  {
    name: 'User.email of the author',
    setup: async () => ({}),
    query: `{ user(handle: "author") { email } }`,
    expect: { anonymous: 'FORBIDDEN', member: 'FORBIDDEN', author: 'ok', moderator: 'FORBIDDEN', admin: 'ok' },
  },
];

describe.each(cases)('$name', ({ setup, query, expect: expected }) => {
  it.each(ACTORS)('as %s', async (actor) => {
    const variables = await setup();
    const res = await t.gql(query, variables, tokens[actor]);
    const got = res.errors ? codes(res)[0] : 'ok';
    expect(got).toBe(expected[actor]);
  });
});

describe('private fields', () => {
  it('shows the e-mail to its owner and admins only, and never leaks it in the error', async () => {
    const asMember = await t.gql(`{ user(handle: "author") { handle email } }`, undefined, tokens.member);
    expect(asMember.data.user).toEqual({ handle: 'author', email: null });
    expect(JSON.stringify(asMember)).not.toContain('author@example.test');
    const asAdmin = await t.gql(`{ user(handle: "author") { email } }`, undefined, tokens.admin);
    expect(asAdmin.data.user.email).toBe('author@example.test');
  });
});

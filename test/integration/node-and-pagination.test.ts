import { codes, createPost, signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;
let ids: string[] = [];
let member: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  t = await startTestServer();
  member = await signUp(t, 'pager');
  for (let i = 0; i < 7; i++) ids.push(await createPost(t, member.token, { kind: 'ARTICLE', title: `Article number ${i}`, body: 'x', tags: ['paging'] }));
  ids = ids.reverse(); // NEW order
});
afterAll(() => t.close());

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String) {
  posts(filter: { tag: "paging" }, first: $first, after: $after, last: $last, before: $before) {
    nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

describe('node ids', () => {
  it('fetches any object by its opaque global id with node and nodes', async () => {
    const tagId = (await t.gql(`{ tag(name: "paging") { id } }`)).data.tag.id;
    const res = await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Post { title } ... on User { handle } ... on Tag { name } } }`,
      { ids: [ids[0], member.id, tagId, Buffer.from('Post:424242').toString('base64url')] });
    expect(res.data.nodes).toEqual([
      { __typename: 'Post', id: ids[0], title: 'Article number 6' },
      { __typename: 'User', id: member.id, handle: 'pager' },
      { __typename: 'Tag', id: tagId, name: 'paging' },
      null,
    ]);
    expect((await t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: member.id })).data.node.id).toBe(member.id);
  });

  it('rejects a malformed id, or an id of the wrong type, with BAD_USER_INPUT', async () => {
    expect(codes(await t.gql(`{ node(id: "not-an-id") { id } }`))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(`query($id: ID!) { post(id: $id) { id } }`, { id: member.id }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('Relay pagination', () => {
  it('pages forward with first/after without skipping or repeating', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let hasNext = true;
    while (hasNext) {
      const res: any = await t.gql(PAGE, { first: 3, after });
      seen.push(...res.data.posts.nodes.map((n: { id: string }) => n.id));
      hasNext = res.data.posts.pageInfo.hasNextPage;
      after = res.data.posts.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
  });

  it('pages backward with last/before', async () => {
    const tail = await t.gql(PAGE, { last: 3 });
    expect(tail.data.posts.nodes.map((n: { id: string }) => n.id)).toEqual(ids.slice(-3));
    expect(tail.data.posts.pageInfo.hasPreviousPage).toBe(true);
    const before = await t.gql(PAGE, { last: 3, before: tail.data.posts.pageInfo.startCursor });
    expect(before.data.posts.nodes.map((n: { id: string }) => n.id)).toEqual(ids.slice(1, 4));
    expect(before.data.posts.pageInfo.hasNextPage).toBe(true);
  });

  it.each([[0], [101], [-1]])('refuses first: %i with BAD_USER_INPUT', async (n) => {
    expect(codes(await t.gql(PAGE, { first: n }))).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a forged cursor and first together with last', async () => {
    expect(codes(await t.gql(PAGE, { first: 2, after: 'garbage' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(PAGE, { first: 2, last: 2 }))).toEqual(['BAD_USER_INPUT']);
  });
});

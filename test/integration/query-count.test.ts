import { createPost, signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;
let viewer: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  t = await startTestServer();
  viewer = await signUp(t, 'reader');
  const authors = await Promise.all(['w1', 'w2', 'w3', 'w4', 'w5'].map((h) => signUp(t, h)));
  for (let i = 0; i < 30; i++) {
    const a = authors[i % authors.length];
    const id = await createPost(t, a.token, { kind: 'QUESTION', title: `Question number ${i}`, body: 'x', tags: [`t${i % 7}`, `u${i % 3}`] });
    if (i % 2 === 0) await t.gql(`mutation($id: ID!) { vote(postId: $id, value: UP) { id } }`, { id }, viewer.token);
  }
});
afterAll(() => t.close());

const PAGE = `query($n: Int!) { posts(first: $n) { edges { node { id title score upVoteCount downVoteCount answerCount commentCount
  viewerVote author { handle displayName reputation } tags { name } } } } }`;

describe('DataLoader batching', () => {
  it('serves a page of posts with authors, tags, counts and the viewer\'s vote in a bounded number of SQL queries', async () => {
    const small = await t.gql(PAGE, { n: 5 }, viewer.token);
    const large = await t.gql(PAGE, { n: 20 }, viewer.token);
    expect(small.errors).toBeUndefined();
    expect(large.data.posts.edges).toHaveLength(20);
    expect(large.data.posts.edges.filter((e: any) => e.node.viewerVote === 'UP').length).toBeGreaterThan(0);
    // viewer lookup + page + authors + tags + viewer votes
    expect(large.extensions!.sqlQueries).toBeLessThanOrEqual(5);
    expect(large.extensions!.sqlQueries).toBe(small.extensions!.sqlQueries);
  });

  it('hydrates a cached feed page with its posts, authors and tags in one statement, whatever its size', async () => {
    const FEED = `query($n: Int!) { feed(mode: FOR_YOU, first: $n) { edges { node { rank reason post { id title score author { handle } tags { name } } } } } }`;
    const tag = (await t.gql(`{ tag(name: "t1") { id } }`)).data.tag.id;
    await t.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: tag }, viewer.token);
    await t.gql(FEED, { n: 20 }, viewer.token); // ranks and caches the member's feed
    const small = await t.gql(FEED, { n: 3 }, viewer.token);
    const large = await t.gql(FEED, { n: 20 }, viewer.token);
    expect(large.errors).toBeUndefined();
    expect(large.data.feed.edges.length).toBeGreaterThan(3);
    expect(large.data.feed.edges.every((e: any) => e.node.post.author.handle && e.node.post.tags.length > 0)).toBe(true);
    // viewer lookup + the member's state fingerprint + posts with authors and tags (the snapshot is reused)
    expect(large.extensions!.sqlQueries).toBe(3);
    expect(large.extensions!.sqlQueries).toBe(small.extensions!.sqlQueries);
  });

  it('uses fresh loaders per request, so a vote shows up in the next request', async () => {
    const first = await t.gql(PAGE, { n: 1 }, viewer.token);
    const id = first.data.posts.edges[0].node.id;
    const before = first.data.posts.edges[0].node.viewerVote;
    await t.gql(`mutation($id: ID!) { vote(postId: $id, value: DOWN) { id } }`, { id }, viewer.token);
    const after = await t.gql(PAGE, { n: 1 }, viewer.token);
    expect(after.data.posts.edges[0].node.viewerVote).toBe('DOWN');
    expect(before).not.toBe('DOWN');
  });
});

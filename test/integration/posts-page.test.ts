import { createPost, signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;

const ITEM = `id kind title body score upVoteCount answerCount createdAt
  author { id handle displayName reputation postCount createdAt } tags { id name description postCount followerCount }`;

beforeAll(async () => {
  t = await startTestServer();
  const [ann, bo, cy] = await Promise.all(['ann', 'bo', 'cy'].map((h) => signUp(t, h)));
  const writers = [ann, bo, cy];
  for (let i = 0; i < 12; i++) {
    const w = writers[i % writers.length];
    const id = await createPost(t, w.token, {
      kind: i % 3 ? 'QUESTION' : 'ARTICLE', title: `Post ${i}`, body: `Body of post ${i}`,
      // Some posts share tags, one has none of the others' and names sort differently from ids.
      tags: i === 5 ? ['zeta', 'alpha'] : [`t${i % 4}`, 'shared'],
    });
    if ([1, 4, 8].includes(i)) await createPost(t, writers[(i + 1) % 3].token, { kind: 'ANSWER', body: `Answer to ${i}`, parentId: id });
    if (i === 7) await t.gql(`mutation($id: ID!) { deletePost(id: $id) { deletedPostId } }`, { id }, w.token);
  }
});
afterAll(() => t.close());

describe('a page of posts with authors and tags', () => {
  it('is read with one SQL statement', async () => {
    const page = await t.gql(`{ posts(first: 10) { edges { node { ${ITEM} } } } }`);
    expect(page.errors).toBeUndefined();
    expect(page.data.posts.edges).toHaveLength(10);
    expect(page.extensions!.sqlQueries).toBe(1);
  });

  it('shows every post, author and tag as the single-post query (through the loaders) shows them', async () => {
    const page = await t.gql(`{ posts(first: 20) { nodes { ${ITEM} } } }`);
    // 12 top-level posts, one deleted; answers are not listed.
    expect(page.data.posts.nodes).toHaveLength(11);
    for (const node of page.data.posts.nodes) {
      const one = await t.gql(`query($id: ID!) { post(id: $id) { ${ITEM} } }`, { id: node.id });
      expect(node).toEqual(one.data.post);
    }
    const withTwoNames = page.data.posts.nodes.find((n: { title: string }) => n.title === 'Post 5');
    expect(withTwoNames.tags.map((tag: { name: string }) => tag.name)).toEqual(['alpha', 'zeta']);
  });

  it('pages forward and backward through the same posts as a page without authors or tags', async () => {
    const walk = async (item: string, forward: boolean, orderBy = 'NEW') => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (;;) {
        const res = await t.gql(
          forward
            ? `query($c: String) { posts(first: 4, after: $c, orderBy: ${orderBy}) { edges { cursor node { ${item} } } pageInfo { hasNextPage } } }`
            : `query($c: String) { posts(last: 4, before: $c, orderBy: ${orderBy}) { edges { cursor node { ${item} } } pageInfo { hasPreviousPage } } }`,
          { c: cursor });
        expect(res.errors).toBeUndefined();
        const edges = res.data.posts.edges as Array<{ cursor: string; node: { id: string } }>;
        seen.push(...(forward ? edges : [...edges].reverse()).map((e) => e.node.id));
        if (!(forward ? res.data.posts.pageInfo.hasNextPage : res.data.posts.pageInfo.hasPreviousPage)) return seen;
        cursor = forward ? edges[edges.length - 1].cursor : edges[0].cursor;
      }
    };
    const plain = await walk('id', true);
    expect(plain).toHaveLength(11);
    expect(await walk('id author { handle } tags { name }', true)).toEqual(plain);
    expect(await walk('id tags { name }', false)).toEqual([...plain].reverse());
    for (const orderBy of ['HOT', 'TOP']) {
      const ranked = await walk('id', true, orderBy);
      expect([...ranked].sort()).toEqual([...plain].sort());
      expect(await walk('id author { handle }', true, orderBy)).toEqual(ranked);
      expect(await walk('id author { handle }', false, orderBy)).toEqual([...ranked].reverse());
    }
  });
});

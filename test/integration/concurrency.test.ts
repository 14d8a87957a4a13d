import { signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const CREATE = `mutation($input: CreatePostInput!) { createPost(input: $input) { id } }`;
const EDIT = `mutation($input: EditPostInput!) { editPost(input: $input) { id } }`;

describe('concurrent writes', () => {
  it('creates and edits many posts at once over shared and brand-new tags without deadlocks, keeping tag counts exact', async () => {
    const writers = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((h) => signUp(t, h)));
    const pool = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const tagsFor = (i: number) => [pool[i % 6], pool[(i * 5 + 1) % 6], `new-${i % 4}`];
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        t.gql(CREATE, { input: { kind: 'QUESTION', title: `Concurrent question ${i}`, body: 'x', tags: tagsFor(i) } }, writers[i % 4].token),
      ),
    );
    expect(created.flatMap((r) => r.errors ?? [])).toEqual([]);
    const edits = await Promise.all(
      created.slice(0, 20).map((r, i) =>
        t.gql(EDIT, { input: { id: r.data.createPost.id, tags: [pool[(i + 3) % 6], `new-${(i + 1) % 4}`] } }, writers[i % 4].token),
      ),
    );
    expect(edits.flatMap((r) => r.errors ?? [])).toEqual([]);
    const mismatched = await t.app.db.query(
      `SELECT t.name, t.post_count, count(p.id)::int AS actual FROM tags t
         LEFT JOIN post_tags pt ON pt.tag_id = t.id LEFT JOIN posts p ON p.id = pt.post_id AND p.deleted_at IS NULL
        GROUP BY t.id HAVING t.post_count <> count(p.id)`,
    );
    expect(mismatched).toEqual([]);
  });
});

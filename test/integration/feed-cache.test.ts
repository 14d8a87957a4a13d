import { randomBytes } from 'node:crypto';
import { createPost, signUp, startModeratedServer, startTestServer, waitFor, type TestServer } from '../support/harness';
import { bumpContentEpoch, changesSince, contentEpoch, feedCacheStats } from '../../src/modules/feed/member-cache';
import { expectGlobalId } from '../../src/shared/global-id';
import { memberVersion } from '../../src/modules/feed/member-state';

// Two servers over one database with one token secret: two processes behind a load balancer, each
// with its own cached rankings and, without Redis, no events from the other.
let a: TestServer, b: TestServer;
type U = Awaited<ReturnType<typeof signUp>>;
let writer: U, mod: U;
const secret = randomBytes(32).toString('hex');

const FEED = `query($first: Int, $after: String) { feed(mode: FOR_YOU, first: $first, after: $after) {
  edges { node { rank reason post { id title } } } pageInfo { hasNextPage endCursor } } }`;
type Item = { rank: number; reason: string; post: { id: string; title: string } };

async function page(t: TestServer, token: string, first = 20, after?: string) {
  const res = await t.gql(FEED, { first, after }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return {
    items: res.data.feed.edges.map((e: { node: Item }) => e.node) as Item[],
    pageInfo: res.data.feed.pageInfo as { hasNextPage: boolean; endCursor: string },
    sql: res.extensions?.sqlQueries as number,
  };
}

beforeAll(async () => {
  a = await startTestServer({}, { TOKEN_SECRET: secret });
  b = await startTestServer({}, { TOKEN_SECRET: secret }, { databaseUrl: a.databaseUrl });
  writer = await signUp(a, 'writer');
  mod = await signUp(a, 'mod', 'MODERATOR');
  const other = await signUp(a, 'other');
  for (const [who, title, tags] of [
    [writer, 'Elixir supervisors', ['elixir']], [other, 'Elixir releases', ['elixir']], [writer, 'Go generics', ['go']],
    [other, 'Go modules', ['go']], [writer, 'Zig comptime', ['zig']], [other, 'Zig allocators', ['zig']],
  ] as const) await createPost(a, who.token, { kind: 'QUESTION', title, body: 'Details.', tags: [...tags] });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

describe('cached FOR_YOU rankings', () => {
  it('serve a repeated first page from the same snapshot without ranking or writing again', async () => {
    const member = await signUp(a, 'repeat');
    await a.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: (await a.gql(`{ tag(name: "go") { id } }`)).data.tag.id }, member.token);
    const first = await page(a, member.token, 2);
    const again = await page(a, member.token, 2);
    expect(again.items).toEqual(first.items);
    expect(again.pageInfo.endCursor).toBe(first.pageInfo.endCursor);
    expect(again.sql).toBeLessThan(first.sql);
    const next = await page(a, member.token, 2, again.pageInfo.endCursor);
    expect(next.items.map((i) => i.rank)).toEqual([3, 4]);
    const shown = new Set(first.items.map((i) => i.post.id));
    expect(next.items.filter((i) => shown.has(i.post.id))).toEqual([]);
  });

  it('reflect an interaction made through another server on the very next request', async () => {
    const member = await signUp(a, 'roamer');
    const before = await page(a, member.token);
    expect(before.items.map((i) => i.reason)).not.toContain('because you follow #elixir');
    const elixir = (await b.gql(`{ tag(name: "elixir") { id } }`)).data.tag.id;
    const followed = await b.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: elixir }, member.token);
    expect(followed.data.follow.following).toBe(true);
    const after = await page(a, member.token);
    expect(after.items.filter((i) => i.reason === 'because you follow #elixir').map((i) => i.post.title).sort()).toEqual(['Elixir releases', 'Elixir supervisors']);
  });

  it('count every change to what a member\'s feed reads, whoever writes it, and nothing else', async () => {
    const member = await signUp(a, 'counted');
    const other = await signUp(a, 'followed');
    const version = () => memberVersion(a.app.db.manager, member.rowId);
    const [post] = await a.app.db.query(`SELECT id FROM posts WHERE title = 'Go generics'`);
    const [tag] = await a.app.db.query(`SELECT id FROM tags WHERE name = 'go'`);
    // Written as a console session or an import would: straight to the tables, through no server.
    const changes: Array<[string, string, unknown[]]> = [
      ['bookmark', `INSERT INTO bookmarks (user_id, post_id) VALUES ($1, $2)`, [member.rowId, post.id]],
      ['un-bookmark', `DELETE FROM bookmarks WHERE user_id = $1 AND post_id = $2`, [member.rowId, post.id]],
      ['vote', `INSERT INTO votes (user_id, post_id, value) VALUES ($1, $2, 1)`, [member.rowId, post.id]],
      ['change the vote', `UPDATE votes SET value = -1 WHERE user_id = $1 AND post_id = $2`, [member.rowId, post.id]],
      ['follow a member', `INSERT INTO user_follows (follower_id, followee_id) VALUES ($1, $2)`, [member.rowId, other.rowId]],
      ['follow a tag', `INSERT INTO tag_follows (user_id, tag_id) VALUES ($1, $2)`, [member.rowId, tag.id]],
      ['dismiss', `INSERT INTO feed_dismissals (user_id, post_id, reason) VALUES ($1, $2, 'OFF_TOPIC')`, [member.rowId, post.id]],
    ];
    for (const [what, sql, params] of changes) {
      const before = await version();
      await a.app.db.query(sql, params);
      const after = await version();
      expect({ what, moved: after.sources !== before.sources, seenKept: after.seen === before.seen }).toEqual({ what, moved: true, seenKept: true });
    }
    let before = await version();
    const [{ id: own }] = await a.app.db.query(`INSERT INTO posts (kind, author_id, title, body, status) VALUES ('QUESTION', $1, 'Mine', 'Body.', 'PUBLISHED') RETURNING id`, [member.rowId]);
    expect((await version()).sources).not.toBe(before.sources);
    before = await version();
    await a.app.db.query(`UPDATE posts SET deleted_at = now() WHERE id = $1`, [own]);
    expect((await version()).sources).not.toBe(before.sources);

    // Seen posts move only their own counter; someone else's vote and an edit of the member's post move neither.
    before = await version();
    await a.app.db.query(`INSERT INTO feed_seen (user_id, post_id) VALUES ($1, $2)`, [member.rowId, post.id]);
    const seen = await version();
    expect(seen.sources).toBe(before.sources);
    expect(seen.seen).not.toBe(before.seen);
    await a.app.db.query(`INSERT INTO votes (user_id, post_id, value) VALUES ($1, $2, 1)`, [other.rowId, own]);
    await a.app.db.query(`UPDATE posts SET title = 'Mine, edited', score = score + 1 WHERE id = $1`, [own]);
    expect(await version()).toEqual(seen);
  });

  it('take in a newly published post once, from its announcement, not again from the verdict that published it', async () => {
    const c = await startModeratedServer({ TOKEN_SECRET: secret }, { databaseUrl: a.databaseUrl });
    try {
      const author = await signUp(c, 'announcer');
      const epoch = contentEpoch(c.app.db);
      const id = expectGlobalId(await createPost(c, author.token, { kind: 'QUESTION', title: 'Lifetimes in Rust structs', body: 'When does a struct need a lifetime parameter?', tags: ['rust'] }), 'Post');
      const logged = () => (changesSince(c.app.db, epoch) ?? []).filter((ch) => ch.kind !== 'reset' && ch.postId === id);
      await waitFor(async () => logged().length > 0, 20_000, 'the publication');
      // The verdict and the announcement are published together once the decision commits.
      await new Promise((r) => setTimeout(r, 500));
      expect(logged()).toEqual([{ kind: 'shown', postId: id, authorId: author.rowId, topLevel: true }]);
    } finally {
      await c.close();
    }
  }, 60_000);

  it('drop a post that moderation takes down, keeping the page full', async () => {
    const member = await signUp(a, 'watcher');
    const zig = (await a.gql(`{ tag(name: "zig") { id } }`)).data.tag.id;
    await a.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: zig }, member.token);
    const before = await page(a, member.token, 3);
    expect(before.items).toHaveLength(3);
    const hidden = before.items[0].post;
    await a.gql(`mutation($id: ID!) { moderate(subjectId: $id, action: HIDE, reason: "test") { sequence } }`, { id: hidden.id }, mod.token);
    const after = await page(a, member.token, 3);
    expect(after.items.map((i) => i.post.id)).not.toContain(hidden.id);
    expect(after.items).toHaveLength(3);
  });

  it('catch up with posts published and taken down since, ranking exactly as a fresh build on another server does', async () => {
    const member = await signUp(a, 'catcher');
    const go = (await a.gql(`{ tag(name: "go") { id } }`)).data.tag.id;
    const other = (await a.gql(`{ user(handle: "other") { id } }`)).data.user.id;
    for (const id of [go, other]) await a.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id }, member.token);
    const before = await page(a, member.token, 50);
    // By someone the member follows: it is in the member's own list of followed people's posts.
    const goModules = before.items.find((i) => i.post.title === 'Go modules')!.post;
    expect(goModules).toBeDefined();

    const epoch = contentEpoch(a.app.db);
    const caughtUp = feedCacheStats(a.app.db).caughtUp;
    await createPost(a, writer.token, { kind: 'QUESTION', title: 'Go iterators', body: 'Range over func.', tags: ['go'] });
    await createPost(a, writer.token, { kind: 'ARTICLE', title: 'Knitting patterns', body: 'Off topic.', tags: ['crafts'] });
    await a.gql(`mutation($id: ID!) { moderate(subjectId: $id, action: HIDE, reason: "test") { sequence } }`, { id: goModules.id }, mod.token);
    await waitFor(async () => contentEpoch(a.app.db) >= epoch + 3, 5_000, 'the three content events');

    const caught = await page(a, member.token, 50);
    expect(feedCacheStats(a.app.db).caughtUp).toBe(caughtUp + 1);
    expect(caught.items.find((i) => i.post.title === 'Go iterators')?.reason).toBe('because you follow #go');
    expect(caught.items.map((i) => i.post.id)).not.toContain(goModules.id);
    // Server b has never ranked this member: its answer is built from scratch, with more queries.
    const fresh = await page(b, member.token, 50);
    expect(caught.items).toEqual(fresh.items);
    expect(caught.sql).toBeLessThan(fresh.sql);
  });

  it('catch up with posts their authors delete or retag, ranking as a build from scratch does', async () => {
    const member = await signUp(a, 'tidy');
    const elixir = (await a.gql(`{ tag(name: "elixir") { id } }`)).data.tag.id;
    await a.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: elixir }, member.token);
    const doomed = await createPost(a, writer.token, { kind: 'QUESTION', title: 'Elixir umbrella apps', body: 'Worth it?', tags: ['elixir'] });
    const moved = await createPost(a, writer.token, { kind: 'QUESTION', title: 'Elixir or Erlang ports', body: 'Which one?', tags: ['elixir'] });
    const before = await page(a, member.token, 50);
    expect(before.items.map((i) => i.post.id)).toEqual(expect.arrayContaining([doomed, moved]));

    const epoch = contentEpoch(a.app.db);
    const caughtUp = feedCacheStats(a.app.db).caughtUp;
    expect((await a.gql(`mutation($id: ID!) { deletePost(id: $id) { deletedPostId } }`, { id: doomed }, writer.token)).errors).toBeUndefined();
    expect((await a.gql(`mutation($i: EditPostInput!) { editPost(input: $i) { id } }`, { i: { id: moved, tags: ['erlang'] } }, writer.token)).errors).toBeUndefined();
    await waitFor(async () => contentEpoch(a.app.db) >= epoch + 2, 5_000, 'the two content events');

    const caught = await page(a, member.token, 50);
    expect(feedCacheStats(a.app.db).caughtUp).toBe(caughtUp + 1);
    expect(caught.items.map((i) => i.post.id)).not.toContain(doomed);
    expect(caught.items.find((i) => i.post.id === moved)?.reason).not.toBe('because you follow #elixir');
    // Server b heard none of server a's events, so its shared lists may be stale: the reference is
    // server a after every cached ranking is dropped.
    bumpContentEpoch(a.app.db, { kind: 'reset' });
    const rebuilt = await page(a, member.token, 50);
    expect(caught.items).toEqual(rebuilt.items);
  });

  it('take in other new posts at most once per catch-up interval, but posts taken down at once', async () => {
    // A third server over the same database, with a two-second interval (a ranking waits one to two
    // seconds, by its own draw) to keep the test short.
    const c = await startTestServer({}, { TOKEN_SECRET: secret, FEED_CATCH_UP_MS: '2000' }, { databaseUrl: a.databaseUrl });
    try {
      const member = await signUp(c, 'patient');
      const zig = (await c.gql(`{ tag(name: "zig") { id } }`)).data.tag.id;
      await c.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: zig }, member.token);
      const before = await page(c, member.token, 50);
      const built = Date.now();
      const epoch = contentEpoch(c.app.db);
      const caughtUp = feedCacheStats(c.app.db).caughtUp;
      const arrived = await createPost(c, writer.token, { kind: 'QUESTION', title: 'Zig build system', body: 'build.zig basics.', tags: ['zig'] });
      await waitFor(async () => contentEpoch(c.app.db) > epoch, 5_000, 'the new post');

      // Within the first half of the interval the cached ranking, and its snapshot, are served as they were.
      const soon = await page(c, member.token, 50);
      expect(Date.now() - built).toBeLessThan(1_000);
      expect(soon.items).toEqual(before.items);
      expect(soon.pageInfo.endCursor).toBe(before.pageInfo.endCursor);
      expect(feedCacheStats(c.app.db).caughtUp).toBe(caughtUp);

      await new Promise((r) => setTimeout(r, 2_000 - (Date.now() - built) + 50));
      const later = await page(c, member.token, 50);
      expect(later.items.find((i) => i.post.id === arrived)?.reason).toBe('because you follow #zig');
      expect(feedCacheStats(c.app.db).caughtUp).toBe(caughtUp + 1);

      // Taken down right after the catch-up: the next request drops it without waiting.
      const hidden = later.items[0].post.id;
      const sinceHide = contentEpoch(c.app.db);
      await c.gql(`mutation($id: ID!) { moderate(subjectId: $id, action: HIDE, reason: "test") { sequence } }`, { id: hidden }, mod.token);
      await waitFor(async () => contentEpoch(c.app.db) > sinceHide, 5_000, 'the hide');
      const after = await page(c, member.token, 50);
      expect(after.items.map((i) => i.post.id)).not.toContain(hidden);
      expect(feedCacheStats(c.app.db).caughtUp).toBe(caughtUp + 2);
    } finally {
      await c.close();
    }
  });
});

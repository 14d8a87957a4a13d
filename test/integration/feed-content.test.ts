/**
 * Cold start through text: a post nobody has touched yet, sharing no tag with anything a member
 * engaged with, reaches that member (in the feed, in relatedPosts and live through feedUpdates)
 * when its text is close to what they bookmarked, with the content reason. Runs the real pool
 * (moderation and the committed text encoder); without the pool the same post gets no content
 * reason, so the encoder is what carries it.
 */
import { createPost, signUp, startModeratedServer, startTestServer, waitFor, type TestServer } from '../support/harness';
import { bumpContentEpoch, feedCacheStats } from '../../src/modules/feed/member-cache';
import { embedderFromPool, PostEmbeddings } from '../../src/modules/feed/post-embeddings';

const FEED = `query { feed(mode: FOR_YOU, first: 50) { edges { node { reason post { id title } } } } }`;
type Item = { reason: string; post: { id: string; title: string } };

const BOOKMARKED = [
  { title: 'How do I merge two pandas DataFrames on a shared column?', body: 'I have two DataFrames with an id column and want one DataFrame holding the columns of both, like a SQL join.' },
  { title: 'Group a pandas DataFrame by one column and sum the others', body: 'groupby on my DataFrame returns the wrong shape when I try to sum several numeric columns.' },
  { title: 'Drop the rows of a pandas DataFrame that contain NaN values', body: 'Some rows of my DataFrame have missing values and I want a DataFrame without them.' },
];
const SIMILAR = { title: 'Joining pandas DataFrames on an index column', body: 'How can I combine two DataFrames whose index holds the same keys, keeping the columns of both?' };
const UNRELATED = { title: 'Configure an nginx reverse proxy for a WebSocket server', body: 'The upgrade headers are lost when nginx forwards connections to my backend.' };

/** The member's FOR_YOU items, first 50. */
async function forYou(t: TestServer, token: string): Promise<Item[]> {
  return (await t.gql(FEED, {}, token)).data.feed.edges.map((e: { node: Item }) => e.node) as Item[];
}

/** Waits until moderation has published a post, read as a moderator (who sees every status). */
function publishedAs(t: TestServer, modToken: string) {
  return (id: string) =>
    waitFor(async () => (await t.gql(`query($id: ID!) { post(id: $id) { status } }`, { id }, modToken)).data?.post?.status === 'PUBLISHED', 20_000, `post ${id} published`);
}

/**
 * An author, a reader and a moderator; the author's questions with one tag, each published and
 * then bookmarked by the reader. `published` waits for a post to be shown.
 */
async function bookmarkingReader(t: TestServer, [authorHandle, readerHandle, modHandle]: [string, string, string], tag: string, posts: Array<{ title: string; body: string }>) {
  const author = await signUp(t, authorHandle);
  const reader = await signUp(t, readerHandle);
  const mod = await signUp(t, modHandle, 'MODERATOR');
  const published = publishedAs(t, mod.token);
  for (const p of posts) {
    const id = await createPost(t, author.token, { kind: 'QUESTION', ...p, tags: [tag] });
    await published(id);
    await t.gql(`mutation($id: ID!) { bookmark(postId: $id) { id } }`, { id }, reader.token);
  }
  return { author, reader, published };
}

async function scenario(t: TestServer, moderated: boolean) {
  const author = await signUp(t, 'analyst');
  const newcomer = await signUp(t, 'newcomer');
  const reader = await signUp(t, 'reader');
  const mod = await signUp(t, 'mod', 'MODERATOR');
  const published = publishedAs(t, mod.token);
  const bookmarked: string[] = [];
  for (const p of BOOKMARKED) bookmarked.push(await createPost(t, author.token, { kind: 'QUESTION', ...p, tags: ['dataframes'] }));
  if (moderated) for (const id of bookmarked) await published(id);
  for (const id of bookmarked) {
    const res = await t.gql(`mutation($id: ID!) { bookmark(postId: $id) { id } }`, { id }, reader.token);
    expect(res.errors).toBeUndefined();
  }
  const similar = await createPost(t, newcomer.token, { kind: 'QUESTION', ...SIMILAR, tags: ['howto'] });
  const unrelated = await createPost(t, newcomer.token, { kind: 'QUESTION', ...UNRELATED, tags: ['servers'] });
  if (moderated) for (const id of [similar, unrelated]) await published(id);
  const res = await t.gql(FEED, {}, reader.token);
  expect(res.errors).toBeUndefined();
  const items = res.data.feed.edges.map((e: { node: Item }) => e.node) as Item[];
  return { items, similar, unrelated, bookmarked, reader };
}

describe('content cold start with the text encoder', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startModeratedServer();
  }, 60_000);
  afterAll(() => t.close());

  it('brings a brand-new post with no shared tags to a member who bookmarked similar posts, saying why', async () => {
    const { items, similar, unrelated, bookmarked } = await scenario(t, true);
    expect(items.find((i) => i.post.id === similar)).toEqual({ reason: 'similar to posts you bookmarked', post: { id: similar, title: SIMILAR.title } });
    const other = items.find((i) => i.post.id === unrelated);
    expect(other?.reason).not.toBe('similar to posts you bookmarked');
    const stored = await t.app.db.query(`SELECT count(*)::int AS n, min(octet_length(vector) / 4) AS dim FROM post_embeddings`);
    expect(stored[0].n).toBeGreaterThanOrEqual(5);
    expect(stored[0].dim).toBeGreaterThan(64);

    const related = await t.gql(`query($id: ID!) { relatedPosts(postId: $id, first: 5) { reason post { id } } }`, { id: bookmarked[0] });
    expect(related.errors).toBeUndefined();
    const list = related.data.relatedPosts as Array<{ reason: string; post: { id: string } }>;
    expect(list.map((r) => r.post.id)).toContain(similar);
    expect(list.find((r) => r.post.id === similar)!.reason).toBe('on a similar subject');
    expect(list.map((r) => r.post.id)).not.toContain(unrelated);
  }, 90_000);

  it('reaches a member through the tags they follow, read as text, when the post carries none of them', async () => {
    const fan = await signUp(t, 'pandasfan');
    const writer = await signUp(t, 'writer');
    const mod = await signUp(t, 'mod2', 'MODERATOR');
    const published = publishedAs(t, mod.token);
    const tagged = await createPost(t, writer.token, { kind: 'QUESTION', title: 'Reading a CSV file', body: 'Which reader handles quoted fields?', tags: ['pandas'] });
    await published(tagged);
    const tagId = (await t.gql(`{ tag(name: "pandas") { id } }`)).data.tag.id;
    expect((await t.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: tagId }, fan.token)).errors).toBeUndefined();
    const fresh = await createPost(t, writer.token, { kind: 'QUESTION', title: 'Pivot a pandas DataFrame from long to wide', body: 'Each row holds one measurement per date.', tags: ['reshaping'] });
    await published(fresh);
    const items = await forYou(t, fan.token);
    expect(items.find((i) => i.post.id === fresh)?.reason).toBe('about topics you follow');
  }, 60_000);

  it('embeds a post once when many feeds ask for its vector at the same moment', async () => {
    const author = await signUp(t, 'hasty');
    // Straight into the table: no event, so nothing else embeds it first.
    const [{ id }] = await t.app.db.query(
      `INSERT INTO posts (kind, author_id, title, body, status) VALUES ('QUESTION', $1, 'Tuning PostgreSQL autovacuum', 'Dead tuples pile up.', 'PENDING_REVIEW') RETURNING id`,
      [author.rowId],
    );
    const pool = embedderFromPool(t.app.inference!);
    let calls = 0;
    const counted = { ...pool, embed: (texts: string[]) => ((calls += 1), pool.embed(texts)) };
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never;
    const embeddings = new PostEmbeddings(counted, quiet);
    const answers = await Promise.all(Array.from({ length: 5 }, () => embeddings.vectors(t.app.db.manager, [id])));
    expect(calls).toBe(1);
    expect(answers.every((a) => a.get(id) === answers[0].get(id) && a.get(id)!.length > 0)).toBe(true);
  });

  it('ranks an edited post by its new text once it is shown again', async () => {
    const { author, reader, published } = await bookmarkingReader(t, ['plotter', 'charts', 'mod5'], 'plotting', [
      { title: 'Change the size of a matplotlib figure', body: 'My matplotlib plots come out tiny; how do I set the figure size in inches?' },
      { title: 'Rotate the x axis tick labels in a matplotlib plot', body: 'The date labels on my matplotlib chart overlap each other.' },
    ]);
    const read = () => forYou(t, reader.token);
    const post = await createPost(t, author.token, { kind: 'QUESTION', title: 'Renew a TLS certificate with certbot', body: 'The renewal cron job fails silently.', tags: ['certificates'] });
    await published(post);
    expect((await read()).find((i) => i.post.id === post)?.reason).not.toBe('similar to posts you bookmarked');

    const edited = await t.gql(`mutation($i: EditPostInput!) { editPost(input: $i) { id } }`,
      { i: { id: post, title: 'Add a legend outside a matplotlib plot', body: 'The legend of my matplotlib figure covers the lines of the plot.' } }, author.token);
    expect(edited.errors).toBeUndefined();
    await published(post);
    const items = await waitFor(async () => {
      const now = await read();
      return now.find((i) => i.post.id === post)?.reason === 'similar to posts you bookmarked' ? now : null;
    }, 15_000, 'the edited post ranked by its new text');
    expect(items!.find((i) => i.post.id === post)!.post.title).toBe('Add a legend outside a matplotlib plot');
  }, 60_000);

  it('ranks a similar post published after a member\'s feed was cached as a ranking built afresh does, by its text', async () => {
    const { author, reader, published } = await bookmarkingReader(t, ['rustacean', 'borrower', 'mod4'], 'ownership', [
      { title: 'Why does the borrow checker reject my mutable reference?', body: 'I borrow a vector mutably twice in one scope and rustc refuses to compile it.' },
      { title: 'Lifetime of a reference returned from a Rust function', body: 'The compiler says my borrowed value does not live long enough.' },
    ]);
    const read = () => forYou(t, reader.token);
    await read();
    const caughtUp = feedCacheStats(t.app.db).caughtUp;
    const later = await createPost(t, author.token, { kind: 'QUESTION', title: 'Borrowing a struct field mutably while iterating', body: 'rustc says I cannot borrow self as mutable because it is also borrowed.', tags: ['iterators'] });
    await published(later);
    const caught = await waitFor(async () => {
      const items = await read();
      return items.some((i) => i.post.id === later) ? items : null;
    }, 10_000, 'the new post in the cached feed');
    expect(feedCacheStats(t.app.db).caughtUp).toBeGreaterThan(caughtUp);
    expect(caught!.find((i) => i.post.id === later)?.reason).toBe('similar to posts you bookmarked');
    // Dropping every cached ranking makes the next request rank from scratch.
    bumpContentEpoch(t.app.db, { kind: 'reset' });
    expect(await read()).toEqual(caught);
  }, 60_000);
});

describe('content cold start in live feed updates', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startModeratedServer({ FEED_UPDATE_INTERVAL_MS: '300' });
  }, 60_000);
  afterAll(() => t.close());

  it('tells a subscribed member when a new post with similar text ranks into their feed, with the content reason', async () => {
    const { author, reader, published } = await bookmarkingReader(t, ['patterns', 'matcher', 'mod3'], 'validation', [
      { title: 'Regular expression to match an email address', body: 'My regex accepts addresses without a domain.' },
      { title: 'Regex lookahead to require a digit in a password', body: 'The regular expression should fail without a number.' },
    ]);
    const events: Array<{ data: { feedUpdates: { changed: Item[] } } }> = [];
    t.ws(reader.token).subscribe(
      { query: `subscription { feedUpdates { changed { reason post { id title } } } }` },
      { next: (v) => void events.push(v as never), error: () => undefined, complete: () => undefined },
    );
    await new Promise((r) => setTimeout(r, 300));
    const fresh = await createPost(t, author.token, { kind: 'QUESTION', title: 'A regular expression that matches IPv4 addresses', body: 'My regex also accepts 999.1.1.1.', tags: ['networking'] });
    const update = await waitFor(async () => events.flatMap((e) => e.data.feedUpdates.changed).find((c) => c.post.id === fresh), 20_000, 'an update with the new post');
    expect(update).toMatchObject({ reason: 'similar to posts you bookmarked' });
  }, 90_000);
});

describe('content cold start without the inference pool', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('still serves the feed and related posts from tags, without the content reason', async () => {
    const { items, similar, bookmarked } = await scenario(t, false);
    expect(items.map((i) => i.post.id)).toContain(similar);
    expect(items.find((i) => i.post.id === similar)!.reason).not.toBe('similar to posts you bookmarked');
    const related = await t.gql(`query($id: ID!) { relatedPosts(postId: $id, first: 5) { post { id } } }`, { id: bookmarked[0] });
    expect(related.data.relatedPosts.map((r: { post: { id: string } }) => r.post.id)).not.toContain(similar);
  });
});

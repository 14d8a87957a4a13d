import { codes, createPost, signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;
type U = Awaited<ReturnType<typeof signUp>>;
let reader: U, rustacean: U, pythonista: U, other: U, mod: U;
const ids: Record<string, string> = {};

const FEED = `query($mode: FeedMode!, $first: Int, $after: String) { feed(mode: $mode, first: $first, after: $after) {
  edges { cursor node { rank reason post { id title author { handle } } } } pageInfo { hasNextPage endCursor } } }`;
type Item = { rank: number; reason: string; post: { id: string; title: string; author: { handle: string } } };

async function page(mode: string, token?: string, first = 50, after?: string) {
  const res = await t.gql(FEED, { mode, first, after }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return { items: res.data.feed.edges.map((e: { node: Item }) => e.node) as Item[], pageInfo: res.data.feed.pageInfo };
}
const titles = (items: Item[]) => items.map((i) => i.post.title);

beforeAll(async () => {
  t = await startTestServer();
  reader = await signUp(t, 'reader');
  rustacean = await signUp(t, 'rustacean');
  pythonista = await signUp(t, 'pythonista');
  other = await signUp(t, 'other');
  mod = await signUp(t, 'mod', 'MODERATOR');
  const post = async (key: string, who: U, tags: string[]) =>
    (ids[key] = await createPost(t, who.token, { kind: 'QUESTION', title: `Question about ${key}`, body: 'Details.', tags }));
  await post('lifetimes', rustacean, ['rust']);
  await post('traits', rustacean, ['rust', 'generics']);
  await post('asyncio', pythonista, ['python']);
  await post('decorators', pythonista, ['python']);
  await post('makefiles', other, ['build']);
  await post('cmake', other, ['build', 'cpp']);
  await post('my own', reader, ['rust']);
});
afterAll(() => t.close());

describe('feeds', () => {
  it('lists LATEST newest first by publication, to anyone', async () => {
    const { items } = await page('LATEST');
    expect(titles(items).slice(0, 3)).toEqual(['Question about my own', 'Question about cmake', 'Question about makefiles']);
    expect(items[0].reason).toBe('new in #rust');
  });

  it('shows FOLLOWING only to members: posts by followed people and with followed tags, saying which', async () => {
    expect(codes(await t.gql(FEED, { mode: 'FOLLOWING' }))).toEqual(['UNAUTHENTICATED']);
    await t.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: pythonista.id }, reader.token);
    const buildTag = (await t.gql(`{ tag(name: "build") { id } }`)).data.tag.id;
    await t.gql(`mutation($id: ID!) { follow(id: $id) { following } }`, { id: buildTag }, reader.token);
    const { items } = await page('FOLLOWING', reader.token);
    expect(new Set(titles(items))).toEqual(new Set(['Question about asyncio', 'Question about decorators', 'Question about makefiles', 'Question about cmake']));
    expect(items.find((i) => i.post.title.endsWith('asyncio'))!.reason).toBe('because you follow @pythonista');
    expect(items.find((i) => i.post.title.endsWith('cmake'))!.reason).toBe('because you follow #build');
  });

  it('ranks FOR_YOU by what the member follows and does, never showing their own posts', async () => {
    await t.gql(`mutation($id: ID!) { bookmark(postId: $id) { id } }`, { id: ids.lifetimes }, reader.token);
    const { items } = await page('FOR_YOU', reader.token);
    expect(titles(items)).not.toContain('Question about my own');
    const top = titles(items.slice(0, 5));
    for (const followed of ['Question about asyncio', 'Question about decorators']) expect(top).toContain(followed);
    expect(items.find((i) => i.post.title.endsWith('traits'))!.reason).toBe('similar to posts you bookmarked');
    // Author diversity: the same author never twice in a row.
    for (let i = 1; i < items.length; i++) expect(items[i].post.author.handle).not.toBe(items[i - 1].post.author.handle);
  });

  it('gives anonymous visitors and new members hot posts mixed with fresh ones', async () => {
    const anon = await page('FOR_YOU');
    expect(anon.items.length).toBe(7);
    expect(anon.items.every((i) => /^(popular in #|popular now|new in #|new$)/.test(i.reason))).toBe(true);
    const newcomer = await signUp(t, 'newcomer');
    const fresh = await page('FOR_YOU', newcomer.token);
    expect(fresh.items.length).toBe(7);
  });

  it('pages through FOR_YOU without repeating or skipping, even when posts arrive and votes move between pages', async () => {
    const first = await page('FOR_YOU', other.token, 2);
    await createPost(t, rustacean.token, { kind: 'QUESTION', title: 'Question arriving mid-scroll', body: 'x', tags: ['build'] });
    await t.gql(`mutation($id: ID!) { vote(postId: $id, value: UP) { id } }`, { id: ids.decorators }, reader.token);
    const seen = [...first.items];
    let cursor = first.pageInfo.endCursor;
    let more = first.pageInfo.hasNextPage;
    while (more) {
      const next = await page('FOR_YOU', other.token, 2, cursor);
      seen.push(...next.items);
      cursor = next.pageInfo.endCursor;
      more = next.pageInfo.hasNextPage;
    }
    const ranks = seen.map((i) => i.rank);
    expect(ranks).toEqual(ranks.map((_, i) => i + 1));
    expect(new Set(seen.map((i) => i.post.id)).size).toBe(seen.length);
    expect(titles(seen)).not.toContain('Question arriving mid-scroll');
  });

  it('refuses cursors from another member or feed, and backward paging', async () => {
    const mine = await page('FOR_YOU', reader.token, 1);
    expect(codes(await t.gql(FEED, { mode: 'FOR_YOU', first: 1, after: mine.pageInfo.endCursor }, other.token))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(FEED, { mode: 'HOT', first: 1, after: mine.pageInfo.endCursor }, reader.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(FEED, { mode: 'FOR_YOU', first: 1, after: 'nonsense' }, reader.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(`{ feed(last: 2) { edges { cursor } } }`, undefined, reader.token))).toEqual(['BAD_USER_INPUT']);
  });

  it('drops posts the member marked seen or dismissed', async () => {
    const member = await signUp(t, 'picky');
    const before = titles((await page('FOR_YOU', member.token)).items);
    expect(before).toContain('Question about lifetimes');
    const seen = await t.gql(`mutation($ids: [ID!]!) { markSeen(postIds: $ids) }`, { ids: [ids.lifetimes] }, member.token);
    expect(seen.data.markSeen).toBe(1);
    await t.gql(`mutation($id: ID!) { bookmark(postId: $id) { id } }`, { id: ids.asyncio }, member.token);
    const withAffinity = titles((await page('FOR_YOU', member.token)).items);
    expect(withAffinity).not.toContain('Question about lifetimes');
    const dismissed = await t.gql(`mutation($id: ID!) { dismissFromFeed(postId: $id, reason: NOT_INTERESTED) }`, { id: ids.cmake }, member.token);
    expect(dismissed.data.dismissFromFeed).toBe(true);
    expect(withAffinity).toContain('Question about cmake');
    const after = titles((await page('FOR_YOU', member.token)).items);
    expect(after).not.toContain('Question about cmake');
  });

  it('removes content that moderation hides from feeds, including a loaded feed\'s later pages', async () => {
    const viewer = await signUp(t, 'scroller');
    const first = await page('LATEST', viewer.token, 1);
    const hiddenTitle = 'Question about makefiles';
    await t.gql(`mutation($id: ID!) { moderate(subjectId: $id, action: HIDE, reason: "test") { sequence } }`, { id: ids.makefiles }, mod.token);
    const rest = await page('LATEST', viewer.token, 50, first.pageInfo.endCursor);
    expect(titles(rest.items)).not.toContain(hiddenTitle);
    const forYou = await page('FOR_YOU', viewer.token);
    expect(titles(forYou.items)).not.toContain(hiddenTitle);
  });

  it('finds related posts by shared tags and by what the same members liked', async () => {
    const res = await t.gql(`query($id: ID!) { relatedPosts(postId: $id, first: 5) { reason post { title } } }`, { id: ids.lifetimes });
    const related = res.data.relatedPosts as Array<{ reason: string; post: { title: string } }>;
    expect(related.slice(0, 2)).toEqual(expect.arrayContaining([
      { reason: 'also about #rust', post: { title: 'Question about traits' } },
      { reason: 'also about #rust', post: { title: 'Question about my own' } },
    ]));
    // `reader` bookmarked this post and voted up "decorators" earlier.
    expect(related).toContainEqual({ reason: 'members who liked this also liked it', post: { title: 'Question about decorators' } });
    expect(related.map((r) => r.post.title)).not.toContain('Question about lifetimes');
    expect(codes(await t.gql(`query($id: ID!) { relatedPosts(postId: $id, first: 99) { reason } }`, { id: ids.lifetimes }))).toEqual(['BAD_USER_INPUT']);
  });
});

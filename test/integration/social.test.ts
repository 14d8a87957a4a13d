import { codes, createPost, signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;
let author: Awaited<ReturnType<typeof signUp>>;
let voter: Awaited<ReturnType<typeof signUp>>;
let other: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  t = await startTestServer();
  author = await signUp(t, 'author');
  voter = await signUp(t, 'voter');
  other = await signUp(t, 'other');
});
afterAll(() => t.close());

const VOTE = `mutation($id: ID!, $v: VoteValue!) { vote(postId: $id, value: $v) { score upVoteCount downVoteCount viewerVote } }`;

describe('votes', () => {
  it('keeps one vote per member and post, switching and clearing it', async () => {
    const id = await createPost(t, author.token, { kind: 'QUESTION', title: 'Vote on me please', body: 'x', tags: ['votes'] });
    expect((await t.gql(VOTE, { id, v: 'UP' }, voter.token)).data.vote).toEqual({ score: 1, upVoteCount: 1, downVoteCount: 0, viewerVote: 'UP' });
    expect((await t.gql(VOTE, { id, v: 'UP' }, voter.token)).data.vote).toEqual({ score: 1, upVoteCount: 1, downVoteCount: 0, viewerVote: 'UP' });
    expect((await t.gql(VOTE, { id, v: 'DOWN' }, voter.token)).data.vote).toEqual({ score: -1, upVoteCount: 0, downVoteCount: 1, viewerVote: 'DOWN' });
    expect((await t.gql(VOTE, { id, v: 'DOWN' }, other.token)).data.vote).toEqual({ score: -2, upVoteCount: 0, downVoteCount: 2, viewerVote: 'DOWN' });
    expect((await t.gql(VOTE, { id, v: 'CLEAR' }, voter.token)).data.vote).toEqual({ score: -1, upVoteCount: 0, downVoteCount: 1, viewerVote: null });
    const rows = await t.app.db.query(`SELECT count(*)::int AS n FROM votes WHERE post_id = (SELECT max(id) FROM posts)`);
    expect(rows[0].n).toBe(1);
  });

  it('does not let authors vote on their own posts', async () => {
    const id = await createPost(t, author.token, { kind: 'ARTICLE', title: 'My own article', body: 'x', tags: ['votes'] });
    expect(codes(await t.gql(VOTE, { id, v: 'UP' }, author.token))).toEqual(['FORBIDDEN']);
  });

  it('gives the author reputation for up votes and takes it back when the vote is cleared', async () => {
    const id = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Reputation test', body: 'x', tags: ['votes'] });
    const rep = async () => (await t.gql(`{ user(handle: "author") { reputation } }`)).data.user.reputation as number;
    const start = await rep();
    await t.gql(VOTE, { id, v: 'UP' }, voter.token);
    expect(await rep()).toBe(start + 10);
    await t.gql(VOTE, { id, v: 'CLEAR' }, voter.token);
    expect(await rep()).toBe(start);
  });

  it('orders by TOP and HOT using the votes', async () => {
    const low = await createPost(t, author.token, { kind: 'QUESTION', title: 'Low scoring question', body: 'x', tags: ['rank'] });
    const high = await createPost(t, author.token, { kind: 'QUESTION', title: 'High scoring question', body: 'x', tags: ['rank'] });
    const newest = await createPost(t, author.token, { kind: 'QUESTION', title: 'Newest question', body: 'x', tags: ['rank'] });
    await t.gql(VOTE, { id: high, v: 'UP' }, voter.token);
    await t.gql(VOTE, { id: high, v: 'UP' }, other.token);
    await t.gql(VOTE, { id: low, v: 'DOWN' }, voter.token);
    const list = async (order: string) =>
      (await t.gql(`{ posts(filter: { tag: "rank" }, orderBy: ${order}) { nodes { id } } }`)).data.posts.nodes.map((n: { id: string }) => n.id);
    expect(await list('TOP')).toEqual([high, newest, low]);
    expect(await list('NEW')).toEqual([newest, high, low]);
    expect(await list('HOT')).toEqual([high, newest, low]);
  });

  it('orders answers by BEST: the accepted one first, then by Wilson lower bound', async () => {
    const q = await createPost(t, author.token, { kind: 'QUESTION', title: 'Which answer is best?', body: 'x', tags: ['rank'] });
    const voters = [voter, other, ...(await Promise.all(['v3', 'v4', 'v5'].map((h) => signUp(t, h))))];
    const accepted = await createPost(t, voter.token, { kind: 'ANSWER', body: 'Accepted but unvoted', parentId: q });
    const oneVote = await createPost(t, voter.token, { kind: 'ANSWER', body: 'One up vote', parentId: q });
    const manyVotes = await createPost(t, other.token, { kind: 'ANSWER', body: 'Four up, one down', parentId: q });
    await t.gql(VOTE, { id: oneVote, v: 'UP' }, other.token);
    for (const v of voters.slice(2)) await t.gql(VOTE, { id: manyVotes, v: 'UP' }, v.token);
    await t.gql(VOTE, { id: manyVotes, v: 'UP' }, voter.token);
    await t.gql(VOTE, { id: manyVotes, v: 'DOWN' }, author.token);
    await t.gql(`mutation($id: ID!) { acceptAnswer(answerId: $id) { id } }`, { id: accepted }, author.token);
    const res = await t.gql(`query($id: ID!) { post(id: $id) { answers { nodes { id } } } }`, { id: q });
    expect(res.data.post.answers.nodes.map((n: { id: string }) => n.id)).toEqual([accepted, manyVotes, oneVote]);
  });
});

describe('bookmarks and follows', () => {
  it('bookmarks idempotently and counts bookmarks once per member', async () => {
    const id = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Worth keeping', body: 'x', tags: ['keep'] });
    const m = `mutation($id: ID!, $on: Boolean!) { bookmark(postId: $id, bookmarked: $on) { bookmarkCount viewerHasBookmarked } }`;
    await t.gql(m, { id, on: true }, voter.token);
    expect((await t.gql(m, { id, on: true }, voter.token)).data.bookmark).toEqual({ bookmarkCount: 1, viewerHasBookmarked: true });
    expect((await t.gql(m, { id, on: false }, voter.token)).data.bookmark).toEqual({ bookmarkCount: 0, viewerHasBookmarked: false });
    expect((await t.gql(m, { id, on: false }, voter.token)).data.bookmark).toEqual({ bookmarkCount: 0, viewerHasBookmarked: false });
  });

  it('follows users and tags, keeping follower counts, and refuses following yourself', async () => {
    const m = `mutation($id: ID!, $on: Boolean!) { follow(id: $id, following: $on) { following user { handle followerCount viewerIsFollowing } tag { name followerCount viewerIsFollowing } } }`;
    const followed = await t.gql(m, { id: author.id, on: true }, voter.token);
    expect(followed.data.follow).toEqual({ following: true, user: { handle: 'author', followerCount: 1, viewerIsFollowing: true }, tag: null });
    await t.gql(m, { id: author.id, on: true }, voter.token);
    const me = await t.gql(`{ viewer { followingCount } }`, undefined, voter.token);
    expect(me.data.viewer.followingCount).toBe(1);

    const tagId = (await t.gql(`{ tag(name: "keep") { id } }`)).data.tag.id;
    const tag = await t.gql(m, { id: tagId, on: true }, voter.token);
    expect(tag.data.follow.tag).toEqual({ name: 'keep', followerCount: 1, viewerIsFollowing: true });
    const un = await t.gql(m, { id: tagId, on: false }, voter.token);
    expect(un.data.follow.tag).toEqual({ name: 'keep', followerCount: 0, viewerIsFollowing: false });
    const again = await t.gql(m, { id: tagId, on: false }, voter.token);
    expect(again.data.follow.tag).toEqual({ name: 'keep', followerCount: 0, viewerIsFollowing: false });
    await t.gql(m, { id: author.id, on: false }, voter.token);
    const unfollowedTwice = await t.gql(m, { id: author.id, on: false }, voter.token);
    expect(unfollowedTwice.data.follow.user.followerCount).toBe(0);

    expect(codes(await t.gql(m, { id: voter.id, on: true }, voter.token))).toEqual(['BAD_USER_INPUT']);
    const postId = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Not followable', body: 'x', tags: ['keep'] });
    expect(codes(await t.gql(m, { id: postId, on: true }, voter.token))).toEqual(['BAD_USER_INPUT']);
  });
});

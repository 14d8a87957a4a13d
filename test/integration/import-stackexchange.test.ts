import { existsSync } from 'node:fs';
import path from 'node:path';
import { importStackExchange, type StackExchangeImportSummary } from '../../src/modules/import/stackexchange';
import { toGlobalId } from '../../src/shared/global-id';
import { startTestServer, type TestServer } from '../support/harness';

/** The dump lives in the shared data folder, beside the repository or inside a checkout of it. */
const DATASET = ['../../shared', '../../../shared']
  .map((p) => path.resolve(__dirname, p, 'datasets/recommendation/stackexchange-quantumcomputing'))
  .find((dir) => existsSync(path.join(dir, 'Posts.xml')));

const SOURCE = 'stackexchange:quantumcomputing';

if (!DATASET) console.warn('Skipping the Stack Exchange import tests: shared/datasets/recommendation/stackexchange-quantumcomputing is absent.');

const describeWithDataset = DATASET ? describe : describe.skip;

describeWithDataset('Stack Exchange import', () => {
  let t: TestServer;
  let first: StackExchangeImportSummary;

  /** md5 of every row of the imported tables, in a stable order. */
  async function checksums(): Promise<Record<string, string>> {
    const [row] = await t.app.db.query(`
      SELECT (SELECT md5(string_agg(p::text, '|' ORDER BY p.id)) FROM posts p) AS posts,
             (SELECT md5(string_agg(u::text, '|' ORDER BY u.id)) FROM users u) AS users,
             (SELECT md5(string_agg(x::text, '|' ORDER BY x.id)) FROM tags x) AS tags,
             (SELECT md5(string_agg(pt::text, '|' ORDER BY pt.post_id, pt.tag_id)) FROM post_tags pt) AS post_tags,
             (SELECT md5(string_agg(v::text, '|' ORDER BY v.user_id, v.post_id)) FROM votes v) AS votes,
             (SELECT md5(string_agg(b::text, '|' ORDER BY b.user_id, b.post_id)) FROM bookmarks b) AS bookmarks`);
    return row;
  }

  async function postBySourceId(sourceId: string) {
    const [row] = await t.app.db.query(`SELECT * FROM posts WHERE source = $1 AND source_id = $2`, [SOURCE, sourceId]);
    return row;
  }

  beforeAll(async () => {
    t = await startTestServer();
    first = await importStackExchange(t.app.db, DATASET!, { site: 'quantumcomputing' });
  }, 120_000);
  afterAll(() => t?.close());

  it('imports every question, answer, comment, user and tag of the dump', async () => {
    expect(first.questions).toEqual({ inserted: 612, present: 0, skipped: 0 });
    expect(first.answers).toEqual({ inserted: 1060, present: 0, skipped: 0 });
    expect(first.comments).toEqual({ inserted: 3413, present: 0, skipped: 0 });
    // 3,461 accounts plus the placeholder that owns posts whose author is gone.
    expect(first.users).toEqual({ inserted: 3462, present: 0, placeholder: true });
    expect(first.tags).toEqual({ inserted: 154, present: 0, unusable: 0 });
    expect(first.skipped.postTypes).toEqual({ 4: 157, 5: 157 });
    const [counts] = await t.app.db.query(`
      SELECT count(*) FILTER (WHERE kind = 'QUESTION')::int AS questions, count(*) FILTER (WHERE kind = 'ANSWER')::int AS answers,
             count(*) FILTER (WHERE kind = 'COMMENT')::int AS comments FROM posts WHERE source = $1`, [SOURCE]);
    expect(counts).toEqual({ questions: 612, answers: 1060, comments: 3413 });
  });

  it('gives imported accounts valid unique handles and no password', async () => {
    const [row] = await t.app.db.query(`
      SELECT count(*)::int AS n, count(DISTINCT lower(handle))::int AS handles, count(password_hash)::int AS passwords
        FROM users WHERE source = $1`, [SOURCE]);
    expect(row).toEqual({ n: 3462, handles: 3462, passwords: 0 });
    const [adam] = await t.app.db.query(`SELECT handle, display_name, reputation, role FROM users WHERE source = $1 AND source_id = '1'`, [SOURCE]);
    expect(adam).toEqual({ handle: 'Adam_Lear', display_name: 'Adam Lear', reputation: 101, role: 'MEMBER' });
  });

  it('links the accepted answer both ways', async () => {
    const question = await postBySourceId('p1');
    const answer = await postBySourceId('p18');
    expect(question.accepted_answer_id).toBe(answer.id);
    expect(answer).toMatchObject({ kind: 'ANSWER', parent_id: question.id, is_accepted: true });
    expect(first.acceptedAnswers.total).toBeGreaterThan(300);
  });

  it('tags questions and counts the posts of each tag', async () => {
    const [tag] = await t.app.db.query(`
      SELECT t.post_count, (SELECT count(*)::int FROM post_tags pt WHERE pt.tag_id = t.id) AS tagged
        FROM tags t WHERE name = 'q#'`);
    expect(tag.post_count).toBeGreaterThan(0);
    expect(tag.post_count).toBe(tag.tagged);
    const question = await postBySourceId('p1');
    const names = await t.app.db.query(`SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = $1 ORDER BY 1`, [question.id]);
    expect(names.map((r: { name: string }) => r.name)).toEqual(['quantum-turing-machine', 'simulation']);
  });

  it('turns favourites into bookmarks and counts them on the post', async () => {
    const post = await postBySourceId('p4');
    const [mark] = await t.app.db.query(`
      SELECT 1 AS ok FROM bookmarks b JOIN users u ON u.id = b.user_id
       WHERE b.post_id = $1 AND u.source = $2 AND u.source_id = '27'`, [post.id, SOURCE]);
    expect(mark).toEqual({ ok: 1 });
    const [{ n }] = await t.app.db.query(`SELECT count(*)::int AS n FROM bookmarks WHERE post_id = $1`, [post.id]);
    expect(post.bookmark_count).toBe(n);
  });

  it('puts each comment under the post it was written on', async () => {
    const comment = await postBySourceId('c7');
    const parent = await postBySourceId('p3');
    expect(comment).toMatchObject({ kind: 'COMMENT', parent_id: parent.id, title: null });
    const [{ n }] = await t.app.db.query(`SELECT count(*)::int AS n FROM posts WHERE parent_id = $1 AND kind = 'COMMENT'`, [parent.id]);
    expect(parent.comment_count).toBe(n);
  });

  it('counts voter-less votes on the post and keeps score, up and down consistent', async () => {
    expect(first.anonymousVotes.up).toBeGreaterThan(9000);
    const [bad] = await t.app.db.query(`
      SELECT count(*)::int AS n FROM posts WHERE source = $1 AND (score <> up_votes - down_votes OR (up_votes > 0 AND wilson = 0))`,
      [SOURCE]);
    expect(bad.n).toBe(0);
    const question = await postBySourceId('p1');
    expect(question.up_votes).toBeGreaterThan(0);
  });

  it('changes nothing when the same dump is imported again', async () => {
    const before = await checksums();
    const again = await importStackExchange(t.app.db, DATASET!, { site: 'quantumcomputing' });
    expect(await checksums()).toEqual(before);
    expect(again.questions).toEqual({ inserted: 0, present: 612, skipped: 0 });
    expect(again.answers).toEqual({ inserted: 0, present: 1060, skipped: 0 });
    expect(again.comments).toEqual({ inserted: 0, present: 3413, skipped: 0 });
    expect(again.users).toEqual({ inserted: 0, present: 3462, placeholder: true });
    expect(again.bookmarks.inserted).toBe(0);
    expect(again.postTags.inserted).toBe(0);
    expect(again.countersUpdated).toEqual({ posts: 0, users: 0, tags: 0 });
    expect(again.acceptedAnswers.updated).toBe(0);
    expect(again.duplicates.updated).toBe(0);
  }, 60_000);

  it('serves an imported question through GraphQL with its accepted answer and tags', async () => {
    const question = await postBySourceId('p1');
    const res = await t.gql(
      `query($id: ID!) { post(id: $id) { kind title upVoteCount answerCount author { handle } tags { name } acceptedAnswer { isAccepted } } }`,
      { id: toGlobalId('Post', question.id) },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.post).toMatchObject({
      kind: 'QUESTION',
      title: question.title,
      upVoteCount: question.up_votes,
      answerCount: question.answer_count,
      tags: [{ name: 'quantum-turing-machine' }, { name: 'simulation' }],
      acceptedAnswer: { isAccepted: true },
    });
    expect(res.data.post.answerCount).toBeGreaterThan(0);
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { codes, createPost, signUp, startTestServer, type TestServer } from '../support/harness';

/**
 * The human path runs without the model (content is published directly), so these tests are about
 * reports, the queue, moderator actions and appeals alone.
 */
let t: TestServer;
type U = Awaited<ReturnType<typeof signUp>>;
let author: U, member: U, other: U, mod: U, admin: U;

beforeAll(async () => {
  t = await startTestServer();
  [author, member, other] = [await signUp(t, 'author'), await signUp(t, 'member'), await signUp(t, 'other')];
  mod = await signUp(t, 'mod', 'MODERATOR');
  admin = await signUp(t, 'admin', 'ADMIN');
});
afterAll(() => t.close());

const REPORT = `mutation($id: ID!, $reason: ReportReason!, $note: String!) { reportContent(input: { subjectId: $id, reason: $reason, note: $note }) { type action actor { handle } } }`;
const MODERATE = `mutation($id: ID!, $action: ModerationAction!, $reason: String!) { moderate(subjectId: $id, action: $action, reason: $reason) { type action previousStatus newStatus actor { handle } } }`;
const QUEUE = `query($filter: ModerationQueueFilter) { moderationQueue(filter: $filter) { nodes { subjectId status reportCount priority appealState escalated post { id } } } }`;
const article = (title: string) => createPost(t, author.token, { kind: 'ARTICLE', title, body: 'Some text.', tags: ['moderation'] });

describe('reports and the review queue', () => {
  it('queues a reported post for moderators, once per reporter', async () => {
    const id = await article('A reported article');
    const first = await t.gql(REPORT, { id, reason: 'SPAM', note: 'Looks like an ad' }, member.token);
    expect(first.data.reportContent).toMatchObject({ type: 'REPORT', action: 'SPAM', actor: null });
    expect(codes(await t.gql(REPORT, { id, reason: 'SPAM', note: '' }, member.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(REPORT, { id, reason: 'SPAM', note: '' }, author.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(REPORT, { id, reason: 'SPAM', note: '' }))).toEqual(['UNAUTHENTICATED']);
    const queue = await t.gql(QUEUE, {}, mod.token);
    expect(queue.data.moderationQueue.nodes).toContainEqual(expect.objectContaining({ subjectId: id, status: 'PUBLISHED', reportCount: 1, post: { id } }));
  });

  it('keeps the queue to moderators and admins', async () => {
    expect(codes(await t.gql(QUEUE, {}, member.token))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(QUEUE, {}))).toEqual(['UNAUTHENTICATED']);
    expect((await t.gql(QUEUE, {}, admin.token)).errors).toBeUndefined();
  });

  it('ranks reports from reporters whose past reports were upheld above those of reporters who were wrong', async () => {
    // Build track records: `member` was right twice, `other` was wrong twice.
    for (let i = 0; i < 2; i++) {
      const good = await article(`Actually bad article ${i}`);
      await t.gql(REPORT, { id: good, reason: 'TOXIC', note: '' }, member.token);
      await t.gql(MODERATE, { id: good, action: 'HIDE', reason: 'Abusive' }, mod.token);
      const fine = await article(`Actually fine article ${i}`);
      await t.gql(REPORT, { id: fine, reason: 'TOXIC', note: '' }, other.token);
      await t.gql(MODERATE, { id: fine, action: 'APPROVE', reason: 'Nothing wrong' }, mod.token);
    }
    const byAccurate = await article('Reported by the accurate reporter');
    const byInaccurate = await article('Reported by the inaccurate reporter');
    await t.gql(REPORT, { id: byInaccurate, reason: 'TOXIC', note: '' }, other.token);
    await t.gql(REPORT, { id: byAccurate, reason: 'TOXIC', note: '' }, member.token);
    const nodes = (await t.gql(QUEUE, { filter: { reported: true } }, mod.token)).data.moderationQueue.nodes as Array<{ subjectId: string; priority: number }>;
    const rank = (id: string) => nodes.findIndex((n) => n.subjectId === id);
    expect(rank(byAccurate)).toBeGreaterThanOrEqual(0);
    expect(rank(byAccurate)).toBeLessThan(rank(byInaccurate));
  });
});

describe('moderator actions', () => {
  it('hides, restores and removes, recording each as an event with the previous status', async () => {
    const id = await article('Article under moderation');
    expect((await t.gql(MODERATE, { id, action: 'HIDE', reason: 'Off topic' }, mod.token)).data.moderate)
      .toMatchObject({ type: 'HUMAN', action: 'HIDE', previousStatus: 'PUBLISHED', newStatus: 'HIDDEN', actor: { handle: 'mod' } });
    expect(codes(await t.gql(`query($id: ID!) { post(id: $id) { id } }`, { id }, member.token))).toEqual(['NOT_FOUND']);
    expect((await t.gql(`query($id: ID!) { post(id: $id) { status } }`, { id }, author.token)).data.post.status).toBe('HIDDEN');
    expect((await t.gql(MODERATE, { id, action: 'RESTORE', reason: 'On reflection fine' }, admin.token)).data.moderate.newStatus).toBe('PUBLISHED');
    expect((await t.gql(MODERATE, { id, action: 'REMOVE', reason: 'Rule 3' }, mod.token)).data.moderate.newStatus).toBe('REMOVED');
    const history = await t.gql(`query($id: ID!) { moderationHistory(subjectId: $id) { action previousStatus newStatus reason } }`, { id }, author.token);
    expect(history.data.moderationHistory.map((e: { action: string }) => e.action)).toEqual(['HIDE', 'RESTORE', 'REMOVE']);
    const rows = await t.app.db.query(`SELECT count(*)::int AS n FROM moderation_events WHERE subject_id = (SELECT max(id) FROM posts)`);
    expect(rows[0].n).toBe(3);
  });

  it('refuses actions that do not apply, actions without a reason, and members acting as moderators', async () => {
    const id = await article('Article for bad actions');
    expect(codes(await t.gql(MODERATE, { id, action: 'RESTORE', reason: 'x' }, mod.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(MODERATE, { id, action: 'HIDE', reason: '  ' }, mod.token))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(MODERATE, { id, action: 'HIDE', reason: 'x' }, member.token))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(MODERATE, { id, action: 'HIDE', reason: 'x' }, author.token))).toEqual(['FORBIDDEN']);
    expect((await t.app.db.query(`SELECT count(*)::int AS n FROM moderation_events e JOIN posts p ON p.id = e.subject_id WHERE p.title = 'Article for bad actions'`))[0].n).toBe(0);
  });

  it('escalates without changing the status, and puts escalations in the queue', async () => {
    const id = await article('Article to escalate');
    expect((await t.gql(MODERATE, { id, action: 'ESCALATE', reason: 'Legal question' }, mod.token)).data.moderate.newStatus).toBe('PUBLISHED');
    const queue = await t.gql(QUEUE, {}, admin.token);
    expect(queue.data.moderationQueue.nodes).toContainEqual(expect.objectContaining({ subjectId: id, escalated: true }));
  });
});

describe('appeals', () => {
  it('lets the author appeal once and a moderator grant it, publishing the post again', async () => {
    const id = await article('Article to appeal');
    await t.gql(MODERATE, { id, action: 'HIDE', reason: 'Looks like spam' }, mod.token);
    const APPEAL = `mutation($id: ID!) { appeal(subjectId: $id, note: "It is a genuine article") { type newStatus } }`;
    expect(codes(await t.gql(APPEAL, { id }, member.token))).toEqual(['FORBIDDEN']);
    expect((await t.gql(APPEAL, { id }, author.token)).data.appeal).toEqual({ type: 'APPEAL', newStatus: 'HIDDEN' });
    expect(codes(await t.gql(APPEAL, { id }, author.token))).toEqual(['BAD_USER_INPUT']);
    const queue = await t.gql(QUEUE, { filter: { appealed: true } }, mod.token);
    expect(queue.data.moderationQueue.nodes).toContainEqual(expect.objectContaining({ subjectId: id, appealState: 'OPEN' }));
    const RESOLVE = `mutation($id: ID!, $grant: Boolean!) { resolveAppeal(subjectId: $id, grant: $grant, reason: "Checked the links") { type action newStatus } }`;
    expect(codes(await t.gql(RESOLVE, { id, grant: true }, author.token))).toEqual(['FORBIDDEN']);
    expect((await t.gql(RESOLVE, { id, grant: true }, mod.token)).data.resolveAppeal).toEqual({ type: 'APPEAL_RESOLVED', action: 'GRANT', newStatus: 'PUBLISHED' });
    expect(codes(await t.gql(RESOLVE, { id, grant: false }, mod.token))).toEqual(['BAD_USER_INPUT']);
    expect((await t.gql(`query($id: ID!) { post(id: $id) { status } }`, { id }, member.token)).data.post.status).toBe('PUBLISHED');
  });

  it('refuses an appeal when there is no decision against the post', async () => {
    const id = await article('Article never moderated');
    expect(codes(await t.gql(`mutation($id: ID!) { appeal(subjectId: $id) { type } }`, { id }, author.token))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('roles', () => {
  it('lets only admins change roles', async () => {
    const SET = `mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { handle role } }`;
    expect(codes(await t.gql(SET, { id: member.id, role: 'ADMIN' }, mod.token))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(SET, { id: member.id, role: 'ADMIN' }, member.token))).toEqual(['FORBIDDEN']);
    expect((await t.gql(SET, { id: other.id, role: 'MODERATOR' }, admin.token)).data.setUserRole).toEqual({ handle: 'other', role: 'MODERATOR' });
    expect((await t.gql(QUEUE, {}, other.token)).errors).toBeUndefined();
  });
});

describe('human decisions as training feedback', () => {
  it('exports the latest human decision of each post as labelled examples', async () => {
    const spam = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Feedback spam example', body: 'Buy cheap watches now', tags: ['feedback'] });
    await t.gql(REPORT, { id: spam, reason: 'SPAM', note: '' }, member.token);
    await t.gql(MODERATE, { id: spam, action: 'REMOVE', reason: 'Advertising' }, mod.token);
    const fine = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Feedback fine example', body: 'A careful benchmark write-up', tags: ['feedback'] });
    await t.gql(MODERATE, { id: fine, action: 'HIDE', reason: 'Unsure' }, mod.token);
    await t.gql(MODERATE, { id: fine, action: 'RESTORE', reason: 'It is fine' }, mod.token);
    const unlabelled = await createPost(t, author.token, { kind: 'ARTICLE', title: 'Feedback unlabelled example', body: 'Hidden with no label given', tags: ['feedback'] });
    await t.gql(MODERATE, { id: unlabelled, action: 'HIDE', reason: 'No reason tied to a label' }, mod.token);

    const env = { ...process.env, DATABASE_URL: t.databaseUrl, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'colloquy-cli-')) };
    const { stdout } = await promisify(execFile)('node', [path.join(__dirname, '../../dist/src/cli/admin.js'), 'export-feedback'], { env });
    const examples = stdout.trim().split('\n').map((l) => JSON.parse(l) as { text: string; y: number[]; action: string });
    const byTitle = (title: string) => examples.find((e) => e.text.startsWith(title));
    expect(byTitle('Feedback spam example')).toMatchObject({ y: [-1, -1, 1], action: 'REMOVE' });
    expect(byTitle('Feedback fine example')).toMatchObject({ y: [0, 0, 0], action: 'RESTORE' });
    expect(byTitle('Feedback unlabelled example')).toBeUndefined();
  });
});

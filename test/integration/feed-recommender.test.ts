import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createPost, signUp, startModeratedServer, waitFor, type TestServer } from '../support/harness';

/**
 * The collaborative path end to end: interactions in the database → `train:recommender` → the
 * server loads the model into its inference pool → FOR_YOU ranks with it, folding in new
 * interactions at request time.
 */
let t: TestServer;
const modelDir = mkdtempSync(path.join(tmpdir(), 'colloquy-rec-'));
const posts: Record<string, string> = {};
type U = Awaited<ReturnType<typeof signUp>>;
let target: U;

const FEED = `{ feed(mode: FOR_YOU, first: 50) { edges { node { reason post { id title } } } } }`;
const COLLAB = 'liked by members with interests like yours';

beforeAll(async () => {
  t = await startModeratedServer({ RECOMMENDER_DIR: modelDir, RECOMMENDER_RELOAD_MS: '200' });
  const writer = await signUp(t, 'writer');
  // Two communities, each post with a tag of its own so tag affinity cannot explain the ranking.
  for (const name of ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'b4']) {
    posts[name] = await createPost(t, writer.token, { kind: 'QUESTION', title: `Question number ${name}`, body: 'A plain question.', tags: [`topic-${name}`] });
  }
  await waitFor(async () => {
    const [row] = await t.app.db.query(`SELECT count(*)::int AS n FROM posts WHERE status = 'PUBLISHED'`);
    return row.n === 8;
  }, 20_000, 'the posts to be published');
  const bookmark = (u: U, id: string) => t.gql(`mutation($id: ID!) { bookmark(postId: $id) { id } }`, { id }, u.token);
  for (let i = 0; i < 6; i++) {
    const a = await signUp(t, `fan-a${i}`);
    for (const p of ['a1', 'a2', 'a3', 'a4']) await bookmark(a, posts[p]);
    const b = await signUp(t, `fan-b${i}`);
    for (const p of ['b1', 'b2', 'b3', 'b4']) await bookmark(b, posts[p]);
  }
  target = await signUp(t, 'target');
  await bookmark(target, posts.a1);
});
afterAll(() => t.close());

describe('collaborative feed ranking', () => {
  it('trains from the database, and the running server picks the model up and ranks FOR_YOU with it', async () => {
    const env = { ...process.env, DATABASE_URL: t.databaseUrl, RECOMMENDER_DIR: modelDir, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'colloquy-cli-')), LOG_LEVEL: 'warn' };
    const { stdout } = await promisify(execFile)('node', [path.join(__dirname, '../../dist/src/cli/train-recommender.js')], { env });
    const summary = JSON.parse(stdout);
    // The writer, twelve fans and the target.
    expect(summary).toMatchObject({ ok: true, items: 8, users: 14 });
    await waitFor(async () => t.app.recommender?.version, 10_000, 'the model to load');

    const items = (await t.gql(FEED, undefined, target.token)).data.feed.edges.map((e: any) => e.node) as Array<{ reason: string; post: { id: string } }>;
    const rank = (name: string) => items.findIndex((i) => i.post.id === posts[name]);
    for (const p of ['a2', 'a3', 'a4']) {
      expect(items[rank(p)].reason).toBe(COLLAB);
      for (const q of ['b1', 'b2', 'b3', 'b4']) expect(rank(p)).toBeLessThan(rank(q));
    }
  });

  it('folds a new interaction in at once, without retraining', async () => {
    const convert = await signUp(t, 'convert');
    await t.gql(`mutation($id: ID!) { bookmark(postId: $id) { id } }`, { id: posts.b2 }, convert.token);
    const items = (await t.gql(FEED, undefined, convert.token)).data.feed.edges.map((e: any) => e.node) as Array<{ reason: string; post: { id: string } }>;
    const reasonOf = (name: string) => items.find((i) => i.post.id === posts[name])?.reason;
    expect(reasonOf('b1')).toBe(COLLAB);
    expect(reasonOf('a1')).not.toBe(COLLAB);
  });
});

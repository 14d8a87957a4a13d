import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { type Client, createClient } from 'graphql-ws';
import { parse } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildAppSchema } from '../../src/server/schema';
import { operationCost } from '../../src/server/limits';
import { createPost, signUp, startTestServer, waitFor, type GqlResponse, type TestServer } from '../support/harness';

/*
 * The README's "For integrators" examples, run as written: the GraphQL documents are read from the
 * README's ```graphql example=<name> blocks, so the documentation cannot drift from what works.
 * The cost and remaining budget each example shows are printed and written to
 * test-output/integrator-examples.json.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function example(name: string): string {
  const blocks = [...README.matchAll(/```graphql example=([\w-]+)\n([\s\S]*?)```/g)].filter((m) => m[1] === name);
  if (blocks.length !== 1) throw new Error(`README.md should hold exactly one \`\`\`graphql example=${name} block, found ${blocks.length}`);
  return blocks[0][2];
}

type Figure = { example: string; step: string; cost: number; limit: number; remaining: number; resetAt: string };
const figures: Figure[] = [];
function record(exampleName: string, step: string, res: GqlResponse) {
  const { requested, limit, remaining, resetAt } = res.extensions!.cost;
  figures.push({ example: exampleName, step, cost: requested, limit, remaining, resetAt });
}

let t: TestServer;
type U = Awaited<ReturnType<typeof signUp>>;
let author: U, reader: U, mod: U, bot: U;

async function tokenFor(session: string, name: string, scopes: string[]): Promise<string> {
  const res = await t.gql(example('create-token'), { input: { name, scopes } }, session);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createApiToken.secret;
}

beforeAll(async () => {
  // Default budgets, so the recorded figures are what an integrator sees.
  t = await startTestServer();
  [author, reader, mod, bot] = await Promise.all([signUp(t, 'author'), signUp(t, 'reader'), signUp(t, 'mod', 'MODERATOR'), signUp(t, 'bot')]);
});
afterAll(async () => {
  await t.close();
  const out = path.join(ROOT, 'test-output');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'integrator-examples.json'), JSON.stringify(figures, null, 2) + '\n');
  console.log('extensions.cost shown by the README examples:\n' + figures.map((f) => `  ${f.example} / ${f.step}: cost ${f.cost}, remaining ${f.remaining} of ${f.limit}`).join('\n'));
});

describe('the README examples for integrators', () => {
  it('reads a feed page by page until hasNextPage is false, every post once', async () => {
    const titles = Array.from({ length: 7 }, (_, i) => `Integrator feed post ${i + 1}`);
    for (const title of titles) await createPost(t, author.token, { kind: 'DISCUSSION', title, body: 'Paged by an integrator.', tags: ['integrations'] });
    const token = await tokenFor(reader.token, 'feed reader', ['READ']);

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res: GqlResponse = await t.gql(example('feed-page'), { first: 3, after }, token);
      expect(res.errors).toBeUndefined();
      record('feed-page', `page ${++pages} (first: 3)`, res);
      for (const { node } of res.data.feed.edges) seen.push(node.post.title);
      if (!res.data.feed.pageInfo.hasNextPage) break;
      after = res.data.feed.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual([...titles].sort());
    // A README-sized page (first: 20) costs what an integrator will be charged for it.
    const full = await t.gql(example('feed-page'), { first: 20, after: null }, token);
    record('feed-page', 'one page (first: 20)', full);
    expect(full.extensions!.cost.requested).toBeGreaterThan(figures[0].cost);
  });

  it('follows moderation verdicts and resumes after a lost connection with no gap and no duplicate', async () => {
    const posts = await Promise.all([1, 2, 3].map((i) => createPost(t, author.token, { kind: 'DISCUSSION', title: `Watched thread ${i}`, body: 'x', tags: ['watched'] })));
    const token = await tokenFor(mod.token, 'verdict follower', ['MODERATE']);
    const moderate = async (post: string, action: 'HIDE' | 'RESTORE') => {
      const res = await t.gql(`mutation($id: ID!, $action: ModerationAction!) { moderate(subjectId: $id, action: $action, reason: "integrator example") { sequence } }`, { id: post, action }, mod.token);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      return res.data.moderate.sequence as string;
    };
    const connect = (): Client => createClient({ url: t.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const received: any[] = [];
    const follow = (client: Client, after: string | null) => {
      const iterator = client.iterate({ query: example('verdicts'), variables: { after } });
      const done = (async () => {
        for await (const { data, errors } of iterator) {
          if (errors) throw new Error(JSON.stringify(errors));
          received.push(data!.moderationVerdicts);
        }
      })().catch(() => undefined); // a lost connection ends the iteration; the caller resumes
      return done;
    };

    let client = connect();
    let running = follow(client, null);
    await new Promise((r) => setTimeout(r, 300));
    // A subscription's cost is charged over the socket, which has no `extensions`: it is what the
    // server's estimator gives for the document, and the budget is read right after subscribing.
    const budget = await t.gql(`{ rateLimit { limit remaining resetAt } }`, undefined, token);
    const cost = operationCost(await buildAppSchema(createPubSub()), parse(example('verdicts')), { after: null }, undefined);
    figures.push({ example: 'verdicts', step: 'subscribe (then rateLimit read)', cost, limit: budget.data.rateLimit.limit, remaining: budget.data.rateLimit.remaining, resetAt: budget.data.rateLimit.resetAt });

    const expected = [await moderate(posts[0], 'HIDE'), await moderate(posts[1], 'HIDE')];
    await waitFor(async () => received.length >= 2, 5_000, 'the first two verdicts');
    await client.dispose(); // the connection is lost
    await running;
    const last = received[received.length - 1].sequence as string;
    // Decided while nobody was listening.
    expected.push(await moderate(posts[2], 'HIDE'), await moderate(posts[0], 'RESTORE'));

    client = connect();
    running = follow(client, last);
    await waitFor(async () => received.length >= 4, 5_000, 'the missed verdicts on resume');
    expected.push(await moderate(posts[1], 'RESTORE'));
    await waitFor(async () => received.length >= 5, 5_000, 'a live verdict after the replay');
    await new Promise((r) => setTimeout(r, 200));
    await client.dispose();
    await running;
    expect(received.map((v) => v.sequence)).toEqual(expected);
    expect(received[2]).toMatchObject({ type: 'HUMAN', action: 'HIDE', subjectId: posts[2], previousStatus: 'PUBLISHED', newStatus: 'HIDDEN' });
  });

  it('creates a token with a session, then a post with that token', async () => {
    const created = await t.gql(example('create-token'), { input: { name: 'release-notes bot', scopes: ['READ', 'WRITE'], expiresInDays: 90 } }, bot.token);
    expect(created.errors).toBeUndefined();
    record('create-post', 'createApiToken (session)', created);
    const { secret, apiToken } = created.data.createApiToken;
    expect(apiToken).toMatchObject({ name: 'release-notes bot', scopes: ['READ', 'WRITE'] });

    const res = await t.gql(example('create-post'), { input: { kind: 'ARTICLE', title: 'Release 2.4', body: 'What changed in this release.', tags: ['releases'] } }, secret);
    expect(res.errors).toBeUndefined();
    record('create-post', 'createPost (API token)', res);
    expect(res.data.createPost).toMatchObject({ title: 'Release 2.4', status: 'PUBLISHED', author: { handle: 'bot' }, tags: [{ name: 'releases' }] });
    expect(await t.app.db.query(`SELECT 1 FROM posts WHERE title = 'Release 2.4' AND author_id = $1`, [bot.rowId])).toHaveLength(1);
  });
});

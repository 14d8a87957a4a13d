import type { Client } from 'graphql-ws';
import { createPost, signUp, startTestServer, type TestServer } from '../support/harness';

let t: TestServer;
let member: Awaited<ReturnType<typeof signUp>>;
let writer: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  t = await startTestServer();
  member = await signUp(t, 'listener');
  writer = await signUp(t, 'writer');
});
afterAll(() => t.close());

/** Collects the events of one subscription; `next(n)` resolves once n events have arrived. */
function collect(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const events: any[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let failure: unknown;
  let failed: (err: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    failed = reject;
    client.subscribe({ query, variables }, {
      next: (value) => {
        events.push(value);
        waiters.filter((w) => events.length >= w.n).forEach((w) => w.resolve());
      },
      error: (err) => {
        failure = err;
        reject(err);
      },
      complete: resolve,
    });
  });
  done.catch(() => undefined);
  return {
    events,
    done,
    get failure() {
      return failure;
    },
    next: (n: number) =>
      new Promise<void>((resolve, reject) => {
        if (events.length >= n) return resolve();
        waiters.push({ n, resolve });
        done.catch(reject);
        setTimeout(() => reject(new Error(`only ${events.length} of ${n} events arrived`)), 5000).unref();
        void failed;
      }),
  };
}

const POST_ADDED = `subscription($tags: [String!]) { postAdded(tags: $tags) { id title kind author { handle } tags { name } viewerVote } }`;
const settle = () => new Promise((r) => setTimeout(r, 150));

describe('postAdded over graphql-ws', () => {
  it('delivers new posts live, only those with a subscribed tag, thread replies by their question\'s tags', async () => {
    const sub = collect(t.ws(member.token), POST_ADDED, { tags: ['Rust'] });
    await settle();
    const q = await createPost(t, writer.token, { kind: 'QUESTION', title: 'Borrow checker question', body: 'x', tags: ['rust'] });
    await createPost(t, writer.token, { kind: 'QUESTION', title: 'A question about Go', body: 'x', tags: ['go'] });
    const a = await createPost(t, writer.token, { kind: 'ANSWER', body: 'Use a reference', parentId: q });
    await sub.next(2);
    await settle();
    expect(sub.events.map((e) => e.data.postAdded.id)).toEqual([q, a]);
    expect(sub.events[0].data.postAdded).toMatchObject({ title: 'Borrow checker question', author: { handle: 'writer' }, tags: [{ name: 'rust' }], viewerVote: null });
  });

  it('delivers every new post when no tags are given', async () => {
    const sub = collect(t.ws(member.token), POST_ADDED);
    await settle();
    const id = await createPost(t, writer.token, { kind: 'ARTICLE', title: 'An untargeted article', body: 'x', tags: ['misc'] });
    await sub.next(1);
    expect(sub.events[0].data.postAdded.id).toBe(id);
  });

  it('reads each event through fresh loaders, so it shows the current state of the post', async () => {
    const sub = collect(t.ws(member.token), `subscription { postAdded { id author { reputation } } }`);
    await settle();
    await createPost(t, writer.token, { kind: 'ARTICLE', title: 'First of two articles', body: 'x', tags: ['misc'] });
    await sub.next(1);
    const first = sub.events[0].data.postAdded;
    await t.gql(`mutation($id: ID!) { vote(postId: $id, value: UP) { id } }`, { id: first.id }, member.token);
    await createPost(t, writer.token, { kind: 'ARTICLE', title: 'Second of two articles', body: 'x', tags: ['misc'] });
    await sub.next(2);
    expect(sub.events[1].data.postAdded.author.reputation).toBe(first.author.reputation + 10);
  });

  it('requires a logged-in member: an anonymous subscription gets UNAUTHENTICATED and ends', async () => {
    const sub = collect(t.ws(), POST_ADDED);
    await sub.done;
    expect(sub.events).toHaveLength(1);
    expect(sub.events[0].errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a connection with a forged token (close code 4403)', async () => {
    const sub = collect(t.ws('forged.token.value'), POST_ADDED);
    await expect(sub.done).rejects.toMatchObject({ code: 4403 });
  });

  it('does not deliver a post whose transaction rolled back', async () => {
    const sub = collect(t.ws(member.token), POST_ADDED, { tags: ['rollback'] });
    await settle();
    // A deferred constraint trigger fails the COMMIT itself, after the post queued its event.
    await t.app.db.query(`CREATE FUNCTION test_fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'failing the commit on purpose'; END $$`);
    await t.app.db.query(`CREATE CONSTRAINT TRIGGER test_fail_commit AFTER INSERT ON posts DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (NEW.title = 'Never delivered') EXECUTE FUNCTION test_fail_commit()`);
    try {
      const res = await t.gql(`mutation { createPost(input: { kind: ARTICLE, title: "Never delivered", body: "x", tags: ["rollback"] }) { id } }`, undefined, writer.token);
      expect(res.errors).toBeDefined();
      expect(await t.app.db.query(`SELECT 1 FROM posts WHERE title = 'Never delivered'`)).toHaveLength(0);
    } finally {
      await t.app.db.query(`DROP TRIGGER test_fail_commit ON posts`);
      await t.app.db.query(`DROP FUNCTION test_fail_commit`);
    }
    const ok = await createPost(t, writer.token, { kind: 'ARTICLE', title: 'Delivered after', body: 'x', tags: ['rollback'] });
    await sub.next(1);
    await settle();
    expect(sub.events.map((e) => e.data.postAdded.id)).toEqual([ok]);
  });
});

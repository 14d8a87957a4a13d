import { feedUpdates } from '../../src/modules/feed/feed-updates';
import { createAppPubSub, TOPIC } from '../../src/shared/pubsub';

// The real in-process pub/sub; the ranking is a counter, since what is checked is when it runs.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newPost = { postId: 1, tags: [], kind: 'QUESTION', authorId: 2, topLevel: true };

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(5);
  expect(check()).toBe(true);
}

describe('a feedUpdates subscription', () => {
  it('ends at once when its subscriber leaves while it waits for something to happen', async () => {
    const { pubSub } = createAppPubSub(undefined);
    let ranked = 0;
    const updates = feedUpdates({ pubSub, viewerId: 1, intervalMs: 50, computeTop: async () => (ranked++, []), checkToken: () => undefined });
    const waiting = updates.next();
    await until(() => ranked === 1); // the baseline
    await expect(updates.return!()).resolves.toEqual({ done: true, value: undefined });
    await expect(waiting).resolves.toMatchObject({ done: true });
    pubSub.publish(TOPIC.POST_ADDED, newPost);
    await sleep(100);
    expect(ranked).toBe(1);
  });

  it('ends at once when its subscriber leaves during the coalescing interval, without ranking again', async () => {
    const { pubSub } = createAppPubSub(undefined);
    let ranked = 0;
    const updates = feedUpdates({ pubSub, viewerId: 1, intervalMs: 10_000, computeTop: async () => (ranked++, []), checkToken: () => undefined });
    const waiting = updates.next();
    await until(() => ranked === 1);
    pubSub.publish(TOPIC.POST_ADDED, newPost);
    await until(() => ranked === 2); // the first trigger re-ranks at once (nothing changed, so no event)
    pubSub.publish(TOPIC.POST_ADDED, newPost); // the next one waits out the interval
    await sleep(20);
    const started = Date.now();
    await updates.return!();
    await expect(waiting).resolves.toMatchObject({ done: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(ranked).toBe(2);
  });
});

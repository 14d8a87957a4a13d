import { createAppPubSub, MAX_SUBSCRIBER_BACKLOG, SubscriberTooSlowError, TOPIC } from '../../src/shared/pubsub';

const tick = () => new Promise((r) => setImmediate(r));
const TOTAL = MAX_SUBSCRIBER_BACKLOG + 500;

describe('the in-process pub/sub', () => {
  it('ends only a subscription that falls ten thousand events behind, even after a burst larger than 1,024, without throwing in the publisher or the process', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const { pubSub } = createAppPubSub(undefined);
      const stalled = pubSub.subscribe(TOPIC.FEED_SIGNAL)[Symbol.asyncIterator]();
      const firstOfStalled = stalled.next();
      const received: number[] = [];
      const reader = (async () => {
        for await (const e of pubSub.subscribe(TOPIC.FEED_SIGNAL)) {
          received.push(e.userId);
          if (e.userId === TOTAL - 1) return;
        }
      })();
      await tick();
      // In steps, so that the reader keeps up while the stalled subscriber reads nothing.
      // A burst first, as a moderation batch publishes, then steps the reader keeps up with.
      for (let i = 0; i < TOTAL; i++) {
        expect(() => pubSub.publish(TOPIC.FEED_SIGNAL, { userId: i })).not.toThrow();
        if (i >= 2_000 && i % 500 === 499) await tick();
      }
      await reader;
      expect(received).toEqual(Array.from({ length: TOTAL }, (_, i) => i));

      expect((await firstOfStalled).value).toEqual({ userId: 0 });
      const rest: number[] = [];
      await expect((async () => {
        for (let r = await stalled.next(); !r.done; r = await stalled.next()) rest.push(r.value.userId);
      })()).rejects.toBeInstanceOf(SubscriberTooSlowError);
      // What it had already been handed comes before the error, in order.
      expect(rest).toEqual(Array.from({ length: rest.length }, (_, i) => i + 1));
      expect(rest.length).toBe(MAX_SUBSCRIBER_BACKLOG);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

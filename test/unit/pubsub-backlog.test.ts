import { createAppPubSub, MAX_SUBSCRIBER_BACKLOG, SubscriberTooSlowError, TOPIC } from '../../src/shared/pubsub';

const tick = () => new Promise((r) => setImmediate(r));

describe('the in-process pub/sub', () => {
  it('ends only a subscription that falls a thousand events behind, without throwing in the publisher or the process', async () => {
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
          if (e.userId === 1_199) return;
        }
      })();
      await tick();
      // In steps, so that the reader keeps up while the stalled subscriber reads nothing.
      for (let i = 0; i < 1_200; i++) {
        expect(() => pubSub.publish(TOPIC.FEED_SIGNAL, { userId: i })).not.toThrow();
        if (i % 50 === 49) await tick();
      }
      await reader;
      expect(received).toEqual(Array.from({ length: 1_200 }, (_, i) => i));

      expect((await firstOfStalled).value).toEqual({ userId: 0 });
      const rest: number[] = [];
      await expect((async () => {
        for (let r = await stalled.next(); !r.done; r = await stalled.next()) rest.push(r.value.userId);
      })()).rejects.toBeInstanceOf(SubscriberTooSlowError);
      // What it had already been handed comes before the error, in order.
      expect(rest).toEqual(Array.from({ length: rest.length }, (_, i) => i + 1));
      expect(rest.length).toBeGreaterThanOrEqual(MAX_SUBSCRIBER_BACKLOG - 1);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

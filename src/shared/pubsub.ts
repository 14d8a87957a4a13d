import { createPubSub } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import Redis from 'ioredis';

/**
 * Topics and their payloads. Payloads carry ids and the few fields filters need, never whole rows:
 * subscribers re-read the row so they see its current state and the viewer's permissions.
 */
export interface Topics {
  [key: string]: [] | [unknown] | [number | string, unknown];
  POST_ADDED: [{ postId: number; tags: string[]; kind: string }];
  /** A moderation event (automatic or human), whole: every subscriber renders it without a query. */
  VERDICT: [import('../modules/moderation/event-store').ModerationEventRecord];
  /** A user's role or standing changed: their open subscriptions re-check authorization. */
  USER_CHANGED: [{ userId: number }];
}

export const TOPIC = { POST_ADDED: 'POST_ADDED', VERDICT: 'VERDICT', USER_CHANGED: 'USER_CHANGED' } as const;

export type AppPubSub = ReturnType<typeof createPubSub<Topics>>;

export interface PubSubHandle {
  pubSub: AppPubSub;
  transport: 'redis' | 'in-process';
  close(): Promise<void>;
}

/** In-process by default; with Redis, events published by one server process reach all of them. */
export function createAppPubSub(redisUrl: string | undefined): PubSubHandle {
  if (!redisUrl) return { pubSub: createPubSub<Topics>(), transport: 'in-process', close: async () => undefined };
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const eventTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  return {
    pubSub: createPubSub<Topics>({ eventTarget: eventTarget as never }),
    transport: 'redis',
    close: async () => {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

import { FixedBuffer, type PubSub, Repeater } from '@graphql-yoga/subscription';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import Redis from 'ioredis';
import { closeRedis } from './redis';

/**
 * Topics and their payloads. Payloads carry ids and the few fields filters need, never whole rows:
 * subscribers re-read the row so they see its current state and the viewer's permissions.
 */
/**
 * A post that just became visible. `authorId` and `topLevel` let feeds fold it into cached rankings
 * without a query (member-cache.ts); answers and comments carry their thread's tags.
 */
export interface PostAdded {
  postId: number;
  tags: string[];
  kind: string;
  authorId: number;
  topLevel: boolean;
}

export interface Topics {
  [key: string]: [] | [unknown] | [number | string, unknown];
  POST_ADDED: [PostAdded];
  /**
   * A visible post changed outside moderation: deleted or sent back to review by an edit
   * (`visible` false), or retagged. `tags` holds its tags before and after, so feeds drop the
   * per-tag lists it was or will be in.
   */
  POST_CHANGED: [{ postId: number; authorId: number; visible: boolean; tags: string[] }];
  /**
   * A moderation event (automatic or human), whole: every subscriber renders it without a query.
   * `firstPublication` marks the event that made a post visible for the first time: `POST_ADDED`
   * follows it with the post's tags, so feeds take the post in from that one.
   */
  VERDICT: [import('../modules/moderation/event-store').ModerationEventRecord & { firstPublication?: true }];
  /** A user's role or standing changed: their open subscriptions re-check authorization. */
  USER_CHANGED: [{ userId: number }];
  /** A member did something that moves their own feed (vote, bookmark, follow, dismiss). */
  FEED_SIGNAL: [{ userId: number }];
}

export const TOPIC = { POST_ADDED: 'POST_ADDED', POST_CHANGED: 'POST_CHANGED', VERDICT: 'VERDICT', USER_CHANGED: 'USER_CHANGED', FEED_SIGNAL: 'FEED_SIGNAL' } as const;

export type AppPubSub = PubSub<Topics>;

export interface PubSubHandle {
  pubSub: AppPubSub;
  transport: 'redis' | 'in-process';
  close(): Promise<void>;
}

type ChannelTarget = ReturnType<typeof createRedisEventTarget<CustomEvent>>;

/**
 * Events a subscriber may leave unread before its subscription is ended. Far above a burst (a
 * moderation batch publishes a few hundred events at once, before any reader runs), far below
 * what would strain memory.
 */
export const MAX_SUBSCRIBER_BACKLOG = 10_000;

/** Ends a subscription whose reader fell too far behind (a slow client socket, a stalled loop). */
export class SubscriberTooSlowError extends Error {
  constructor(topic: string) {
    super(`This subscription fell ${MAX_SUBSCRIBER_BACKLOG.toLocaleString('en')} events behind on ${topic} and was ended; subscribe again to resume`);
    this.name = 'SubscriberTooSlowError';
  }
}

/**
 * `createPubSub` of @graphql-yoga/subscription, with a bound on each subscriber's backlog. Yoga's
 * unbuffered repeaters throw from the event listener once 1,024 pushes are pending, which Node
 * reports as an uncaught exception: one slow reader (a client socket that does not drain) would
 * take the process down. Here the slow subscription alone ends, with an error its reader sees
 * after the events it already has.
 */
function createBoundedPubSub(eventTarget: EventTarget = new EventTarget(), maxBacklog = MAX_SUBSCRIBER_BACKLOG): AppPubSub {
  return {
    publish(routingKey: string, ...args: unknown[]) {
      const payload = args[1] ?? args[0] ?? null;
      const topic = args[1] === undefined ? routingKey : `${routingKey}:${String(args[0])}`;
      eventTarget.dispatchEvent(new CustomEvent(topic, { detail: payload }));
    },
    subscribe(routingKey: string, id?: number | string) {
      const topic = id === undefined ? routingKey : `${routingKey}:${id}`;
      // A buffer of its own per subscription (Yoga's option shares one instance among all of them).
      const backlog = new FixedBuffer(maxBacklog);
      return new Repeater<unknown>((push, stop) => {
        const listener = (event: Event) => {
          if (backlog.full) return void stop(new SubscriberTooSlowError(topic));
          void push((event as CustomEvent).detail);
        };
        eventTarget.addEventListener(topic, listener);
        void stop.then(() => eventTarget.removeEventListener(topic, listener));
      }, backlog);
    },
  } as AppPubSub;
}

/**
 * Redis channels are named by topic alone, so every deployment (or test run) on one Redis would
 * hear every other's events; a prefix keeps them apart. Subscribers only read `detail`.
 */
function prefixChannels(target: ChannelTarget, prefix: string): ChannelTarget {
  return {
    addEventListener: (type, listener) => target.addEventListener(prefix + type, listener),
    removeEventListener: (type, listener) => target.removeEventListener(prefix + type, listener),
    dispatchEvent: (event) => target.dispatchEvent(new CustomEvent(prefix + event.type, { detail: event.detail })),
  };
}

/** In-process by default; with Redis, events published by one server process reach all of them. */
export function createAppPubSub(redisUrl: string | undefined, channelPrefix = ''): PubSubHandle {
  if (!redisUrl) return { pubSub: createBoundedPubSub(), transport: 'in-process', close: async () => undefined };
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const redisTarget = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  const eventTarget = channelPrefix ? prefixChannels(redisTarget, channelPrefix) : redisTarget;
  return {
    pubSub: createBoundedPubSub(eventTarget as unknown as EventTarget),
    transport: 'redis',
    close: async () => {
      await Promise.all([closeRedis(publishClient), closeRedis(subscribeClient)]);
    },
  };
}

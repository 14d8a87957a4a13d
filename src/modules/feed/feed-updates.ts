import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import type { FeedEntry } from './feed.service';

export type UpdateReason = 'NEW_CONTENT' | 'YOUR_ACTIVITY' | 'MODERATION';

export interface FeedUpdate {
  reasons: UpdateReason[];
  /** Items that entered the top or changed rank or reason, as they stand now. */
  changed: FeedEntry[];
  /** Posts that left the top (outranked, hidden by moderation, or deleted). */
  removed: number[];
  /** The whole new top, in order. */
  top: FeedEntry[];
}

export interface FeedUpdateOptions {
  pubSub: AppPubSub;
  viewerId: number;
  /** At most one re-rank (and so one event) per interval: a busy community must not flood a client. */
  intervalMs: number;
  computeTop(): Promise<FeedEntry[]>;
  checkToken(): void;
}

/**
 * Re-ranks the member's top of feed when something that could change it happens — a post is
 * published, the member acts, moderation takes something down — and emits only real changes.
 * Triggers arriving during the interval are coalesced into the next re-rank.
 *
 * Ending the subscription takes effect at once: an async generator parked on its next trigger
 * would only run its `finally` when one arrived, keeping the member's pub/sub subscriptions open
 * and ranking their feed once more for nobody. So `return()` wakes it, and it ends there.
 */
export function feedUpdates(o: FeedUpdateOptions): AsyncIterableIterator<FeedUpdate> {
  const control: Control = { closed: false, wake: null };
  const updates = run(o, control);
  return {
    next: () => updates.next(),
    return: (value?: unknown) => {
      control.closed = true;
      control.wake?.();
      return updates.return(value as undefined);
    },
    throw: (err?: unknown) => updates.throw(err),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

interface Control {
  closed: boolean;
  /** Resolves the wait the generator is parked on (a trigger, or the interval), if any. */
  wake: (() => void) | null;
}

async function* run(o: FeedUpdateOptions, control: Control): AsyncGenerator<FeedUpdate> {
  const pending = new Set<UpdateReason>();
  const trigger = (reason: UpdateReason) => {
    pending.add(reason);
    if (control.wake && !timer) control.wake();
  };
  let timer: NodeJS.Timeout | null = null;
  /** Parks until woken (a trigger, or closing), or until `ms` pass when given. */
  const park = (ms?: number) =>
    new Promise<void>((resolve) => {
      control.wake = () => {
        if (timer) clearTimeout(timer);
        timer = null;
        control.wake = null;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(control.wake, ms);
    });
  const sources = [
    { it: o.pubSub.subscribe(TOPIC.POST_ADDED)[Symbol.asyncIterator](), on: () => trigger('NEW_CONTENT') },
    { it: o.pubSub.subscribe(TOPIC.FEED_SIGNAL)[Symbol.asyncIterator](), on: (p: { userId: number }) => p.userId === o.viewerId && trigger('YOUR_ACTIVITY') },
    {
      it: o.pubSub.subscribe(TOPIC.VERDICT)[Symbol.asyncIterator](),
      on: (r: { previousStatus: string; newStatus: string }) => r.previousStatus === 'PUBLISHED' && r.newStatus !== 'PUBLISHED' && trigger('MODERATION'),
    },
  ] as Array<{ it: AsyncIterator<any>; on: (payload: any) => unknown }>;
  // Pull from every source now, so listeners are attached before the baseline is computed.
  const pumps = sources.map(async ({ it, on }) => {
    for (let r = await it.next(); !r.done; r = await it.next()) on(r.value);
  });
  try {
    let current = await o.computeTop();
    let lastRun = 0;
    while (!control.closed) {
      if (!pending.size) await park();
      const wait = lastRun + o.intervalMs - Date.now();
      if (wait > 0 && !control.closed) await park(wait);
      if (control.closed) break;
      const reasons = [...pending];
      pending.clear();
      lastRun = Date.now();
      o.checkToken();
      const next = await o.computeTop();
      const before = new Map(current.map((e) => [e.postId, e]));
      const after = new Set(next.map((e) => e.postId));
      const changed = next.filter((e) => before.get(e.postId)?.rank !== e.rank || before.get(e.postId)?.reason !== e.reason);
      const removed = current.filter((e) => !after.has(e.postId)).map((e) => e.postId);
      current = next;
      if (changed.length || removed.length) yield { reasons, changed, removed, top: next };
    }
  } finally {
    if (timer) clearTimeout(timer);
    await Promise.allSettled(sources.map(({ it }) => it.return?.()));
    await Promise.allSettled(pumps);
  }
}

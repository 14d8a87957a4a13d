import type { DataSource } from 'typeorm';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import { invalidateSharedLists } from './candidates';
import { bumpContentEpoch } from './member-cache';
import { invalidateTagLists } from './tag-sources';

/**
 * Keeps what feeds share honest — the hot and fresh lists, the per-tag lists and every member's
 * cached ranking: a post published drops the lists it enters, a moderation event that shows or
 * hides a post drops them all, in every process (the topics cross Redis when it is configured).
 */
export function watchFeedContent(pubSub: AppPubSub, db: DataSource): void {
  void (async () => {
    for await (const p of pubSub.subscribe(TOPIC.POST_ADDED)) {
      invalidateSharedLists(db);
      invalidateTagLists(db, p.tags);
      bumpContentEpoch(db);
    }
  })();
  void (async () => {
    for await (const r of pubSub.subscribe(TOPIC.VERDICT)) {
      if (r.previousStatus === r.newStatus || (r.previousStatus !== 'PUBLISHED' && r.newStatus !== 'PUBLISHED')) continue;
      invalidateSharedLists(db);
      invalidateTagLists(db);
      bumpContentEpoch(db);
    }
  })();
}

import type { DataSource } from 'typeorm';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import { invalidateSharedLists } from './candidates';
import { bumpContentEpoch } from './member-cache';
import { invalidateTagLists } from './tag-sources';

/**
 * Keeps what feeds share honest — the hot and fresh lists, the per-tag lists and every member's
 * cached ranking — in every process (the topics cross Redis when it is configured): a post
 * published or a moderation event that shows or hides one drops the shared lists it affects, and
 * is logged with the content epoch so that cached rankings catch up with it (`member-cache.ts`).
 */
export function watchFeedContent(pubSub: AppPubSub, db: DataSource): void {
  void (async () => {
    for await (const p of pubSub.subscribe(TOPIC.POST_ADDED)) {
      invalidateSharedLists(db);
      // Answers and comments carry their thread's tags but are in no tag's list.
      if (p.topLevel !== false) invalidateTagLists(db, { names: p.tags });
      // A payload without an author (a process of an older version) cannot be caught up with.
      bumpContentEpoch(db, typeof p.authorId === 'number' ? { kind: 'shown', postId: p.postId, authorId: p.authorId, topLevel: p.topLevel !== false } : { kind: 'reset' });
    }
  })();
  void (async () => {
    for await (const r of pubSub.subscribe(TOPIC.VERDICT)) {
      if (r.previousStatus === r.newStatus || (r.previousStatus !== 'PUBLISHED' && r.newStatus !== 'PUBLISHED')) continue;
      invalidateSharedLists(db);
      // A post taken down leaves the lists holding it. One shown from review or after an edit is
      // first published (POST_ADDED names its tags) or already held; only one coming back from
      // HIDDEN or REMOVED may belong to lists that were refreshed without it.
      const cameBack = r.newStatus === 'PUBLISHED' && (r.previousStatus === 'HIDDEN' || r.previousStatus === 'REMOVED');
      invalidateTagLists(db, cameBack ? undefined : { holding: r.subjectId });
      // Whether the post is a thread root is not in the event; assuming it is only rebuilds more often.
      bumpContentEpoch(db, r.newStatus === 'PUBLISHED' ? { kind: 'shown', postId: r.subjectId, authorId: r.authorId, topLevel: true } : { kind: 'removed', postId: r.subjectId });
    }
  })();
}

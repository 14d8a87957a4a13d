import type { DataSource } from 'typeorm';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import { invalidateSharedLists } from './candidates';
import { bumpContentEpoch } from './member-cache';
import { invalidateTagLists } from './tag-sources';

/**
 * Keeps what feeds share honest — the hot and fresh lists, the per-tag lists and every member's
 * cached ranking — in every process (the topics cross Redis when it is configured): a post
 * published, deleted, edited or shown or hidden by moderation drops the shared lists it affects,
 * and is logged with the content epoch so that cached rankings catch up with it
 * (`member-cache.ts`).
 */
export function watchFeedContent(pubSub: AppPubSub, db: DataSource): void {
  /**
   * Tags of posts an edit sent back to review, by post id: when the verdict shows one again, the
   * lists of those tags take it back (an edit that changed tags announced both old and new).
   */
  const inReview = new Map<number, string[]>();
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
    for await (const c of pubSub.subscribe(TOPIC.POST_CHANGED)) {
      invalidateSharedLists(db);
      invalidateTagLists(db, { names: c.tags });
      if (c.visible) {
        // Retagged: only the tag sources change, and they are recomputed when a ranking catches up.
        bumpContentEpoch(db, { kind: 'shown', postId: c.postId, authorId: c.authorId, topLevel: true });
        continue;
      }
      inReview.set(c.postId, c.tags);
      if (inReview.size > MAX_IN_REVIEW) inReview.delete(inReview.keys().next().value as number);
      bumpContentEpoch(db, { kind: 'removed', postId: c.postId });
    }
  })();
  void (async () => {
    for await (const r of pubSub.subscribe(TOPIC.VERDICT)) {
      if (r.previousStatus === r.newStatus || (r.previousStatus !== 'PUBLISHED' && r.newStatus !== 'PUBLISHED')) continue;
      // A first publication is taken in from the POST_ADDED that follows it: handling both
      // reloaded every shared list twice per new post, and logged it twice.
      if (r.firstPublication) continue;
      invalidateSharedLists(db);
      // A post taken down leaves the lists holding it. One shown again after an edit returns to
      // its tags' lists; only one coming back from HIDDEN or REMOVED may belong to lists refreshed
      // without it, tags unknown.
      const reviewed = r.newStatus === 'PUBLISHED' ? inReview.get(r.subjectId) : undefined;
      inReview.delete(r.subjectId);
      const cameBack = r.newStatus === 'PUBLISHED' && (r.previousStatus === 'HIDDEN' || r.previousStatus === 'REMOVED');
      invalidateTagLists(db, reviewed ? { names: reviewed } : cameBack ? undefined : { holding: r.subjectId });
      // Whether the post is a thread root is not in the event; assuming it is only rebuilds more often.
      bumpContentEpoch(db, r.newStatus === 'PUBLISHED' ? { kind: 'shown', postId: r.subjectId, authorId: r.authorId, topLevel: true } : { kind: 'removed', postId: r.subjectId });
    }
  })();
}

/** Posts waiting for a verdict after an edit, remembered per process (beyond it, the lists' TTL applies). */
const MAX_IN_REVIEW = 10_000;

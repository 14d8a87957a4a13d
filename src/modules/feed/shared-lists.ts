import type { DataSource } from 'typeorm';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import { invalidateSharedLists } from './candidates';

/**
 * Keeps the shared hot/fresh lists honest: any post published, and any moderation event, drops
 * them, in every process (the topics cross Redis when it is configured).
 */
export function watchFeedContent(pubSub: AppPubSub, db: DataSource): void {
  const drop = async (topic: typeof TOPIC.POST_ADDED | typeof TOPIC.VERDICT) => {
    for await (const _ of pubSub.subscribe(topic)) invalidateSharedLists(db);
  };
  void drop(TOPIC.POST_ADDED);
  void drop(TOPIC.VERDICT);
}

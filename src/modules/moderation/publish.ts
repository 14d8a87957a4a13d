import type { DataSource, EntityManager } from 'typeorm';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import { announcePublished } from '../posts/thread-tags';
import type { ModerationEventRecord } from './event-store';

/** After commit: every decision goes to the verdict stream; newly visible posts to `postAdded`. */
export function decisionPublisher(pubSub: AppPubSub, db: DataSource | EntityManager) {
  const m = 'manager' in db ? db.manager : db;
  return async (records: ModerationEventRecord[], firstPublished: number[]): Promise<void> => {
    const first = new Set(firstPublished);
    for (const r of records) {
      const firstPublication = first.has(r.subjectId) && r.newStatus === 'PUBLISHED' && r.previousStatus !== 'PUBLISHED';
      pubSub.publish(TOPIC.VERDICT, firstPublication ? { ...r, firstPublication: true } : r);
    }
    await announcePublished(m, (p) => pubSub.publish(TOPIC.POST_ADDED, p), firstPublished);
  };
}

import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PostStatus } from '../posts/post.entity';
import type { Span } from './event-store';
import type { Scores } from './policy';

/** The derived, current state of one subject; the events in moderation_events are the truth. */
@Entity('moderation_status')
export class ModerationStatusEntity {
  @PrimaryColumn({ type: 'integer', name: 'subject_id' })
  subjectId: number;

  @Column({ type: 'text' })
  status: PostStatus;

  @Column({ type: 'bigint', name: 'last_event_id' })
  lastEventId: string;

  @Column({ type: 'text', name: 'model_version', nullable: true })
  modelVersion: string | null;

  @Column({ type: 'jsonb', nullable: true })
  scores: Scores | null;

  @Column({ type: 'jsonb', nullable: true })
  explanations: Record<string, Span[]> | null;

  @Column({ type: 'integer', name: 'report_count' })
  reportCount: number;

  @Column({ type: 'text', name: 'appeal_state' })
  appealState: 'NONE' | 'OPEN' | 'RESOLVED';

  @Column({ type: 'boolean' })
  escalated: boolean;

  @Column({ type: 'double precision' })
  priority: number;

  @Column({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}

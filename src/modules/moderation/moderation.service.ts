import type { EntityManager } from 'typeorm';
import type { UnitOfWork } from '../../shared/db/unit-of-work';
import { badInput, forbidden, notFound, unauthenticated } from '../../shared/errors';
import { type Page, type PageArgs, paginate } from '../../shared/pagination';
import type { AppPubSub } from '../../shared/pubsub';
import type { PostStatus } from '../posts/post.entity';
import { isStaff, type Viewer } from '../users/user.service';
import { EVENT_COLUMNS, type ModerationEventRecord, type NewEvent, appendEvents, refreshPriority, toRecord } from './event-store';
import { LABELS, type Label, type Policy } from './policy';
import { loadPolicy, savePolicy } from './policy-store';
import { decisionPublisher } from './publish';
import { ModerationStatusEntity } from './moderation-status.entity';

export const REPORT_REASONS = ['SPAM', 'TOXIC', 'HATE', 'OFF_TOPIC', 'OTHER'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
export const HUMAN_ACTIONS = ['APPROVE', 'HIDE', 'REMOVE', 'ESCALATE', 'RESTORE'] as const;
export type HumanAction = (typeof HUMAN_ACTIONS)[number];

/** Where each human action takes a post, from the statuses it applies to. */
const TRANSITIONS: Record<HumanAction, { from: PostStatus[]; to: PostStatus | null }> = {
  APPROVE: { from: ['PENDING', 'PENDING_REVIEW', 'PUBLISHED'], to: 'PUBLISHED' },
  HIDE: { from: ['PENDING', 'PENDING_REVIEW', 'PUBLISHED'], to: 'HIDDEN' },
  REMOVE: { from: ['PENDING', 'PENDING_REVIEW', 'PUBLISHED', 'HIDDEN'], to: 'REMOVED' },
  ESCALATE: { from: ['PENDING', 'PENDING_REVIEW', 'PUBLISHED', 'HIDDEN'], to: null },
  RESTORE: { from: ['HIDDEN', 'REMOVED'], to: 'PUBLISHED' },
};

export interface QueueFilter {
  statuses?: PostStatus[] | null;
  label?: Label | null;
  reported?: boolean | null;
  appealed?: boolean | null;
}

export class ModerationService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly pubSub: AppPubSub,
  ) {}

  private get m(): EntityManager {
    return this.uow.manager;
  }

  private async subject(postId: number): Promise<{ id: number; status: PostStatus; author_id: number }> {
    const [post] = await this.m.query(`SELECT id, status, author_id FROM posts WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [postId]);
    if (!post) throw notFound('Post');
    return post;
  }

  private async append(events: NewEvent[]): Promise<ModerationEventRecord[]> {
    const { records, firstPublished } = await appendEvents(this.m, events);
    const publish = decisionPublisher(this.pubSub, this.m.connection); // reads after commit, outside the transaction
    this.uow.afterCommit(() => publish(records, firstPublished));
    return records;
  }

  /** A member flags content; one report per member and post. Reports feed the queue's priority. */
  async report(postId: number, reason: ReportReason, note: string, viewer: Viewer | null): Promise<ModerationEventRecord> {
    if (!viewer) throw unauthenticated();
    if (!REPORT_REASONS.includes(reason)) throw badInput(`Unknown reason ${reason}`, 'reason');
    if (note.length > 1000) throw badInput('Note must be at most 1000 characters', 'note');
    const post = await this.subject(postId);
    if (post.author_id === viewer.id) throw badInput('You cannot report your own post', 'subjectId');
    if (post.status !== 'PUBLISHED' && !isStaff(viewer)) throw notFound('Post');
    const inserted: unknown[] = await this.m.query(
      `INSERT INTO reports (subject_id, reporter_id, reason, note) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id`,
      [postId, viewer.id, reason, note],
    );
    if (!inserted.length) throw badInput('You already reported this post', 'subjectId');
    const [record] = await this.append([{ subjectId: postId, type: 'REPORT', action: reason, actorId: viewer.id, reason: note || null, previousStatus: post.status, newStatus: post.status }]);
    return record;
  }

  async moderate(postId: number, action: HumanAction, reason: string, viewer: Viewer | null): Promise<ModerationEventRecord> {
    this.requireStaff(viewer);
    if (!HUMAN_ACTIONS.includes(action)) throw badInput(`Unknown action ${action}`, 'action');
    if (!reason.trim()) throw badInput('Say why: a reason is required', 'reason');
    const post = await this.subject(postId);
    const t = TRANSITIONS[action];
    if (!t.from.includes(post.status)) throw badInput(`Cannot ${action.toLowerCase()} a post that is ${post.status}`, 'action');
    const next = t.to ?? post.status;
    if (action === 'ESCALATE') await this.ensureStatusRow(postId, post.status);
    const [record] = await this.append([{ subjectId: postId, type: 'HUMAN', action, actorId: viewer!.id, reason: reason.trim(), previousStatus: post.status, newStatus: next }]);
    if (action === 'ESCALATE') {
      await this.m.query(`UPDATE moderation_status SET escalated = true WHERE subject_id = $1`, [postId]);
    } else {
      // A decision answers the open reports: hiding upholds them, approving rejects them.
      const outcome = next === 'PUBLISHED' ? 'REJECTED' : 'UPHELD';
      await this.m.query(`UPDATE reports SET outcome = $2 WHERE subject_id = $1 AND outcome IS NULL`, [postId, outcome]);
      await this.m.query(`UPDATE moderation_status SET escalated = false WHERE subject_id = $1`, [postId]);
    }
    await refreshPriority(this.m, [postId]);
    return record;
  }

  /** The author may appeal a decision against their post once. */
  async appeal(postId: number, note: string, viewer: Viewer | null): Promise<ModerationEventRecord> {
    if (!viewer) throw unauthenticated();
    const post = await this.subject(postId);
    if (post.author_id !== viewer.id) throw forbidden('Only the author can appeal');
    if (!['HIDDEN', 'REMOVED', 'PENDING_REVIEW'].includes(post.status)) throw badInput('There is no decision against this post to appeal', 'subjectId');
    const [already] = await this.m.query(`SELECT 1 FROM moderation_events WHERE subject_id = $1 AND type = 'APPEAL'`, [postId]);
    if (already) throw badInput('This post was already appealed; an appeal is allowed once', 'subjectId');
    await this.ensureStatusRow(postId, post.status);
    const [record] = await this.append([{ subjectId: postId, type: 'APPEAL', action: 'APPEAL', actorId: viewer.id, reason: note.trim() || null, previousStatus: post.status, newStatus: post.status }]);
    await this.m.query(`UPDATE moderation_status SET appeal_state = 'OPEN' WHERE subject_id = $1`, [postId]);
    await refreshPriority(this.m, [postId]);
    return record;
  }

  async resolveAppeal(postId: number, grant: boolean, reason: string, viewer: Viewer | null): Promise<ModerationEventRecord> {
    this.requireStaff(viewer);
    if (!reason.trim()) throw badInput('Say why: a reason is required', 'reason');
    const post = await this.subject(postId);
    const [open] = await this.m.query(`SELECT 1 FROM moderation_status WHERE subject_id = $1 AND appeal_state = 'OPEN'`, [postId]);
    if (!open) throw badInput('This post has no open appeal', 'subjectId');
    const next: PostStatus = grant ? 'PUBLISHED' : post.status;
    const [record] = await this.append([{ subjectId: postId, type: 'APPEAL_RESOLVED', action: grant ? 'GRANT' : 'DENY', actorId: viewer!.id, reason: reason.trim(), previousStatus: post.status, newStatus: next }]);
    await this.m.query(`UPDATE moderation_status SET appeal_state = 'RESOLVED' WHERE subject_id = $1`, [postId]);
    await refreshPriority(this.m, [postId]);
    return record;
  }

  /** Events of one subject, oldest first: staff see all; the author sees those of their own post. */
  async history(postId: number, viewer: Viewer | null): Promise<ModerationEventRecord[]> {
    if (!viewer) throw unauthenticated();
    const [post] = await this.m.query(`SELECT author_id FROM posts WHERE id = $1`, [postId]);
    if (!post) throw notFound('Post');
    if (!isStaff(viewer) && post.author_id !== viewer.id) throw forbidden('Only the author and moderators see moderation history');
    const rows = await this.m.query(`SELECT ${EVENT_COLUMNS} FROM moderation_events e JOIN posts p ON p.id = e.subject_id WHERE e.subject_id = $1 ORDER BY e.id`, [postId]);
    return rows.map(toRecord);
  }

  async queue(filter: QueueFilter, page: PageArgs, viewer: Viewer | null): Promise<Page<ModerationStatusEntity>> {
    this.requireStaff(viewer);
    const qb = this.m.getRepository(ModerationStatusEntity).createQueryBuilder('s');
    if (filter.statuses?.length) qb.andWhere('s.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.reported != null) qb.andWhere(filter.reported ? 's.report_count > 0' : 's.report_count = 0');
    if (filter.appealed != null) qb.andWhere(filter.appealed ? `s.appeal_state = 'OPEN'` : `s.appeal_state <> 'OPEN'`);
    if (filter.label) {
      if (!LABELS.includes(filter.label)) throw badInput(`Unknown label ${filter.label}`, 'label');
      // Subjects where this label is the strongest signal.
      qb.andWhere(`(s.scores->>:label)::float8 >= ALL (SELECT value::float8 FROM jsonb_each_text(s.scores))`, { label: filter.label });
    }
    if (!filter.statuses?.length && filter.reported == null && filter.appealed == null) {
      qb.andWhere(`(s.status = 'PENDING_REVIEW' OR s.report_count > 0 OR s.appeal_state = 'OPEN' OR s.escalated)`);
    }
    return paginate(qb, { expressions: ['s.priority', 's.subject_id'], values: (s) => [s.priority, s.subjectId] }, page);
  }

  statusOf(postIds: readonly number[]): Promise<ModerationStatusEntity[]> {
    return this.m.getRepository(ModerationStatusEntity).createQueryBuilder('s').where('s.subject_id = ANY(:ids)', { ids: postIds }).getMany();
  }

  policy(viewer: Viewer | null): Promise<Policy> {
    this.requireStaff(viewer);
    return loadPolicy(this.m);
  }

  setPolicy(policy: Policy, viewer: Viewer | null): Promise<Policy> {
    if (!viewer) throw unauthenticated();
    if (viewer.role !== 'ADMIN') throw forbidden('Only admins change moderation policy');
    return savePolicy(this.m, policy, viewer.id);
  }

  private requireStaff(viewer: Viewer | null): void {
    if (!viewer) throw unauthenticated();
    if (!isStaff(viewer)) throw forbidden('Moderators and admins only');
  }

  private async ensureStatusRow(postId: number, status: PostStatus): Promise<void> {
    await this.m.query(
      `INSERT INTO moderation_status (subject_id, status, last_event_id) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`,
      [postId, status],
    );
  }
}

import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MaxLength } from 'class-validator';
import { Connection } from '../../server/graphql/connection';
import { toGlobalId } from '../../shared/global-id';
import { PostStatusEnum } from '../posts/post.types';
import type { PostStatus } from '../posts/post.entity';
import type { ModerationEventRecord, Span } from './event-store';
import type { ModerationStatusEntity } from './moderation-status.entity';
import { LABELS, type Label, type Scores } from './policy';

export enum ModerationLabelEnum { TOXICITY = 'toxicity', HATE = 'hate', SPAM = 'spam' }
registerEnumType(ModerationLabelEnum, {
  name: 'ModerationLabel',
  description: 'What the moderation model scores.',
  valuesConfig: {
    TOXICITY: { description: 'Offensive or abusive language.' },
    HATE: { description: 'Attacks on a group or an identity.' },
    SPAM: { description: 'Unsolicited promotion or scams.' },
  },
});

export enum ModerationEventTypeEnum { AUTOMATED = 'AUTOMATED', HUMAN = 'HUMAN', REPORT = 'REPORT', APPEAL = 'APPEAL', APPEAL_RESOLVED = 'APPEAL_RESOLVED' }
registerEnumType(ModerationEventTypeEnum, {
  name: 'ModerationEventType',
  description: 'Who or what produced a moderation event.',
  valuesConfig: {
    AUTOMATED: { description: 'The moderation model, through the policy.' },
    HUMAN: { description: 'A moderator or admin.' },
    REPORT: { description: 'A member reported the content.' },
    APPEAL: { description: 'The author appealed a decision.' },
    APPEAL_RESOLVED: { description: 'A moderator granted or denied the appeal.' },
  },
});

export enum HumanActionEnum { APPROVE = 'APPROVE', HIDE = 'HIDE', REMOVE = 'REMOVE', ESCALATE = 'ESCALATE', RESTORE = 'RESTORE' }
registerEnumType(HumanActionEnum, {
  name: 'ModerationAction',
  description: 'What a moderator can do to content.',
  valuesConfig: {
    APPROVE: { description: 'Publish it (from pending, held or published) and reject open reports.' },
    HIDE: { description: 'Hide it from everyone but its author and moderators; upholds open reports.' },
    REMOVE: { description: 'Remove it for breaking the rules; upholds open reports.' },
    ESCALATE: { description: 'Flag it for an admin without changing its status.' },
    RESTORE: { description: 'Publish hidden or removed content again.' },
  },
});

export enum ReportReasonEnum { SPAM = 'SPAM', TOXIC = 'TOXIC', HATE = 'HATE', OFF_TOPIC = 'OFF_TOPIC', OTHER = 'OTHER' }
registerEnumType(ReportReasonEnum, {
  name: 'ReportReason',
  description: 'Why a member reports content.',
  valuesConfig: {
    SPAM: { description: 'Promotion or scam.' },
    TOXIC: { description: 'Rude, offensive or abusive.' },
    HATE: { description: 'Attacks a group or an identity.' },
    OFF_TOPIC: { description: 'Does not belong in this community.' },
    OTHER: { description: 'Something else; say what in the note.' },
  },
});

export enum AppealStateEnum { NONE = 'NONE', OPEN = 'OPEN', RESOLVED = 'RESOLVED' }
registerEnumType(AppealStateEnum, {
  name: 'AppealState',
  description: 'Where the author\'s appeal stands.',
  valuesConfig: { NONE: { description: 'Not appealed.' }, OPEN: { description: 'Awaiting a moderator.' }, RESOLVED: { description: 'Granted or denied.' } },
});

@ObjectType({ description: 'A span of the text (UTF-16 offsets) that drove a score.' })
export class TextSpan {
  @Field(() => Int, { description: 'Start offset, inclusive.' })
  start: number;

  @Field(() => Int, { description: 'End offset, exclusive.' })
  end: number;

  @Field({ description: 'The text of the span.' })
  text: string;

  @Field(() => Float, { description: 'How much the span raised the score (contribution to the logit).' })
  weight: number;
}

@ObjectType({ description: 'The model\'s score for one label, with the spans that drove it most.' })
export class LabelScore {
  @Field(() => ModerationLabelEnum, { description: 'The label.' })
  label: Label;

  @Field(() => Float, { description: 'Score in [0, 1].' })
  score: number;

  @Field(() => [TextSpan], { description: 'Strongest spans first; may be empty.' })
  spans: TextSpan[];
}

export function presentScores(scores: Scores | null, explanations: Record<string, Span[]> | null): LabelScore[] | null {
  if (!scores) return null;
  return LABELS.map((label) => ({
    label,
    score: scores[label],
    spans: (explanations?.[label] ?? []).map((s) => ({ start: s.start, end: s.end, text: s.text ?? '', weight: s.weight })),
  }));
}

@ObjectType('ModerationEvent', { description: 'One append-only moderation event: a model verdict, a human action, a report or an appeal.' })
export class ModerationEventType {
  subjectRowId: number;
  actorId: number | null;
  eventType: string;

  @Field({ description: 'Position in the verdict stream; pass it as `after` to resume from here.' })
  sequence: string;

  @Field(() => ID, { description: 'The post the event is about.' })
  subjectId: string;

  @Field(() => ModerationEventTypeEnum, { description: 'Who or what produced it.' })
  type: string;

  @Field({ description: 'ALLOW, HOLD or HIDE for the model; a ModerationAction for people; REPORT reason; APPEAL; GRANT or DENY.' })
  action: string;

  @Field(() => String, { nullable: true, description: 'Model name and version for automated events.' })
  modelVersion: string | null;

  @Field(() => [LabelScore], { nullable: true, description: 'The model\'s scores and explanations (automated events).' })
  scores: LabelScore[] | null;

  @Field(() => String, { nullable: true, description: 'Why: the moderator\'s reason, the report note, or the label that decided.' })
  reason: string | null;

  @Field(() => PostStatusEnum, { description: 'Status before the event.' })
  previousStatus: PostStatus;

  @Field(() => PostStatusEnum, { description: 'Status after the event.' })
  newStatus: PostStatus;

  @Field({ description: 'When it happened.' })
  createdAt: Date;
}

export function presentEvent(r: ModerationEventRecord): ModerationEventType {
  return Object.assign(new ModerationEventType(), {
    subjectRowId: r.subjectId, actorId: r.actorId, eventType: r.type,
    sequence: r.id, subjectId: toGlobalId('Post', r.subjectId), type: r.type, action: r.action,
    modelVersion: r.modelVersion, scores: presentScores(r.scores, r.explanations), reason: r.reason,
    previousStatus: r.previousStatus, newStatus: r.newStatus, createdAt: new Date(r.createdAt),
  });
}

@ObjectType('ModerationSubject', { description: 'A post\'s current moderation state: an item of the review queue.' })
export class ModerationSubjectType {
  subjectRowId: number;

  @Field(() => ID, { description: 'The post id.' })
  subjectId: string;

  @Field(() => PostStatusEnum, { description: 'Current status.' })
  status: PostStatus;

  @Field(() => Float, { description: 'Queue priority: model scores, reports weighted by reporter accuracy, appeals, escalation.' })
  priority: number;

  @Field(() => Int, { description: 'Open (unresolved) reports.' })
  reportCount: number;

  @Field(() => AppealStateEnum, { description: 'Appeal state.' })
  appealState: string;

  @Field({ description: 'Whether a moderator escalated it to admins.' })
  escalated: boolean;

  @Field(() => String, { nullable: true, description: 'Model that produced the latest scores.' })
  modelVersion: string | null;

  @Field(() => [LabelScore], { nullable: true, description: 'Latest model scores with explanations.' })
  scores: LabelScore[] | null;

  @Field({ description: 'Last change.' })
  updatedAt: Date;
}

export const ModerationSubjectConnection = Connection(ModerationSubjectType, 'ModerationSubject');

export function presentSubject(s: ModerationStatusEntity): ModerationSubjectType {
  return Object.assign(new ModerationSubjectType(), {
    subjectRowId: s.subjectId, subjectId: toGlobalId('Post', s.subjectId), status: s.status, priority: s.priority,
    reportCount: s.reportCount, appealState: s.appealState, escalated: s.escalated, modelVersion: s.modelVersion,
    scores: presentScores(s.scores, s.explanations), updatedAt: s.updatedAt,
  });
}

@InputType({ description: 'Filters for the review queue; without any, subjects that need a person (held, reported, appealed, escalated).' })
export class ModerationQueueFilter {
  @Field(() => [PostStatusEnum], { nullable: true, description: 'Only these statuses.' })
  statuses?: PostStatus[] | null;

  @Field(() => ModerationLabelEnum, { nullable: true, description: 'Only subjects whose strongest score is this label.' })
  label?: Label | null;

  @Field(() => Boolean, { nullable: true, description: 'Only (true) or never (false) subjects with open reports.' })
  reported?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Only (true) or never (false) subjects with an open appeal.' })
  appealed?: boolean | null;
}

@InputType({ description: 'Which events `moderationVerdicts` delivers.' })
export class VerdictFilter {
  @Field(() => [ModerationEventTypeEnum], { nullable: true, description: 'Only these event types.' })
  types?: string[] | null;

  @Field(() => [PostStatusEnum], { nullable: true, description: 'Only events that leave the post in one of these statuses.' })
  newStatuses?: PostStatus[] | null;
}

@ObjectType('LabelPolicy', { description: 'Score bands of one label.' })
export class LabelPolicyType {
  @Field(() => ModerationLabelEnum, { description: 'The label.' })
  label: Label;

  @Field(() => Float, { description: 'At or above: held for review.' })
  review: number;

  @Field(() => Float, { description: 'At or above: hidden at once.' })
  hide: number;
}

@InputType({ description: 'Score bands of one label.' })
export class LabelPolicyInput {
  @Field(() => ModerationLabelEnum, { description: 'The label.' })
  label: Label;

  @Field(() => Float, { description: 'At or above: held for review (0–1).' })
  review: number;

  @Field(() => Float, { description: 'At or above: hidden at once (0–1, not below review).' })
  hide: number;
}

@InputType({ description: 'A report of content.' })
export class ReportContentInput {
  @Field(() => ID, { description: 'The post.' })
  subjectId: string;

  @Field(() => ReportReasonEnum, { description: 'Why.' })
  reason: string;

  @Field({ defaultValue: '', description: 'Details for the moderators (at most 1000 characters).' })
  @MaxLength(1000)
  note: string;
}

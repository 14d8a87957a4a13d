/** The slices of the public schema the console reads (schema/schema.graphql is the reference). */

export type Label = 'TOXICITY' | 'HATE' | 'SPAM';
export const LABELS: readonly Label[] = ['TOXICITY', 'HATE', 'SPAM'];

export type PostStatus = 'PENDING' | 'PENDING_REVIEW' | 'PUBLISHED' | 'HIDDEN' | 'REMOVED';
export type EventType = 'AUTOMATED' | 'HUMAN' | 'REPORT' | 'APPEAL' | 'APPEAL_RESOLVED';
export type HumanAction = 'APPROVE' | 'HIDE' | 'REMOVE' | 'ESCALATE' | 'RESTORE';

export interface Span {
  start: number;
  end: number;
  weight: number;
}

export interface LabelScore {
  label: Label;
  score: number;
  spans: Span[];
}

export interface PostSummary {
  id: string;
  kind: string;
  title: string | null;
  body: string;
  author: { handle: string } | null;
}

export interface ModerationEvent {
  sequence: string;
  type: EventType;
  action: string;
  reason: string | null;
  modelVersion: string | null;
  previousStatus: PostStatus;
  newStatus: PostStatus;
  createdAt: string;
  subjectId: string;
  actor: { handle: string } | null;
  scores: LabelScore[] | null;
  post: PostSummary | null;
}

export interface Subject {
  subjectId: string;
  status: PostStatus;
  priority: number;
  reportCount: number;
  escalated: boolean;
  appealState: 'NONE' | 'OPEN' | 'RESOLVED';
  updatedAt: string;
  modelVersion: string | null;
  scores: LabelScore[] | null;
  post: PostSummary | null;
}

export interface Bands {
  label: Label;
  review: number;
  hide: number;
}

export interface Viewer {
  handle: string;
  role: 'MEMBER' | 'MODERATOR' | 'ADMIN';
}

/** The text the model scored: title and body joined as the dispatcher joins them, so span offsets line up. */
export const scoredText = (post: PostSummary): string => [post.title, post.body].filter((s) => s).join('\n\n');

export const STATUS_NAMES: Record<PostStatus, string> = {
  PENDING: 'Pending',
  PENDING_REVIEW: 'Held for review',
  PUBLISHED: 'Published',
  HIDDEN: 'Hidden',
  REMOVED: 'Removed',
};

import type { PostStatus } from '../posts/post.entity';

/** Pure moderation rules: scores → action, trust → scrutiny, signals → queue priority. */

export const LABELS = ['toxicity', 'hate', 'spam'] as const;
export type Label = (typeof LABELS)[number];
export type Scores = Record<Label, number>;

export interface LabelBands {
  /** At or above: held for review (PENDING_REVIEW). */
  review: number;
  /** At or above: hidden at once (HIDDEN). */
  hide: number;
}
export type Policy = Record<Label, LabelBands>;

/**
 * Defaults sit above the model's own operating thresholds (ml-runtime/models/moderation), which
 * were tuned on tweets: on technical prose the model runs hot ("editor wars" scores 0.6 toxicity),
 * so review starts higher, and hiding needs near-certainty. The model is a first-pass signal.
 */
export const DEFAULT_POLICY: Policy = {
  toxicity: { review: 0.7, hide: 0.97 },
  hate: { review: 0.55, hide: 0.9 },
  spam: { review: 0.6, hide: 0.97 },
};

export type AutomatedAction = 'ALLOW' | 'HOLD' | 'HIDE';
const STATUS_OF: Record<AutomatedAction, PostStatus> = { ALLOW: 'PUBLISHED', HOLD: 'PENDING_REVIEW', HIDE: 'HIDDEN' };

export interface AuthorRecord {
  accountAgeDays: number;
  reputation: number;
  acceptedAnswers: number;
  /** Human decisions that hid or removed this author's content. */
  strikes: number;
}

/**
 * Trust in [0, 1], in the spirit of Discourse's trust levels: earned with time, reputation and
 * accepted answers; any strike resets it.
 */
export function trustOf(a: AuthorRecord): number {
  if (a.strikes > 0) return 0;
  const earned = a.accountAgeDays / 90 + Math.max(0, a.reputation) / 500 + a.acceptedAnswers * 0.2;
  return Math.min(1, earned);
}

/** A fully trusted author's review threshold moves halfway to the hide threshold; hiding is unchanged. */
export function effectiveBands(bands: LabelBands, trust: number): LabelBands {
  return { review: bands.review + (bands.hide - bands.review) * 0.5 * trust, hide: bands.hide };
}

export interface Decision {
  action: AutomatedAction;
  status: PostStatus;
  /** The label that decided, when the content was not allowed. */
  label: Label | null;
}

export function decide(scores: Scores, policy: Policy, trust: number): Decision {
  let worst: { action: AutomatedAction; label: Label | null; margin: number } = { action: 'ALLOW', label: null, margin: -Infinity };
  for (const label of LABELS) {
    const bands = effectiveBands(policy[label], trust);
    const s = scores[label];
    if (s >= bands.hide && (worst.action !== 'HIDE' || s - bands.hide > worst.margin)) {
      worst = { action: 'HIDE', label, margin: s - bands.hide };
    } else if (s >= bands.review && worst.action === 'ALLOW') {
      worst = { action: 'HOLD', label, margin: s - bands.review };
    } else if (s >= bands.review && worst.action === 'HOLD' && s - bands.review > worst.margin) {
      worst = { action: 'HOLD', label, margin: s - bands.review };
    }
  }
  return { action: worst.action, status: STATUS_OF[worst.action], label: worst.label };
}

export function checkPolicy(policy: Policy): string | null {
  for (const label of LABELS) {
    const b = policy[label];
    if (!b || !(b.review >= 0 && b.review <= b.hide && b.hide <= 1)) return `${label}: need 0 ≤ review ≤ hide ≤ 1`;
  }
  return null;
}

/** Laplace-smoothed share of a reporter's resolved reports that moderators upheld. */
export function reporterAccuracy(upheld: number, resolved: number): number {
  return (upheld + 1) / (resolved + 2);
}

export interface QueueSignals {
  scores: Scores | null;
  /** Accuracy of each open report's reporter. */
  openReports: number[];
  appealOpen: boolean;
  escalated: boolean;
}

/**
 * Review-queue priority: the model's strongest signal, plus each open report weighted by how often
 * its reporter has been right, plus open appeals and escalations, which a person must answer.
 */
export function priorityOf(s: QueueSignals): number {
  const model = s.scores ? Math.max(...LABELS.map((l) => s.scores![l])) * 100 : 0;
  const reports = s.openReports.reduce((sum, acc) => sum + 25 * acc, 0);
  return Math.round((model + reports + (s.appealOpen ? 40 : 0) + (s.escalated ? 60 : 0)) * 1000) / 1000;
}

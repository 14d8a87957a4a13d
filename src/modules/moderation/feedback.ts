import type { EntityManager } from 'typeorm';
import { LABELS, type Label } from './policy';

/**
 * Human decisions as labelled examples for `npm run train:moderation -- --feedback`, so the model
 * learns this community's norms. One example per post: its latest human decision.
 */
export interface FeedbackExample {
  text: string;
  /** toxicity, hate, spam: 1, 0, or -1 where the decision says nothing about that label. */
  y: [number, number, number];
  action: string;
  eventId: string;
}

const REPORT_LABEL: Record<string, Label | undefined> = { TOXIC: 'toxicity', HATE: 'hate', SPAM: 'spam' };

/**
 * Publishing content (approve, restore, a granted appeal) says it is none of the labels. Hiding or
 * removing it says it is whatever the reports or the model named; with neither, nothing is learnt.
 */
export function feedbackLabels(action: string, reportReasons: string[], modelLabel: string | null): [number, number, number] | null {
  if (['APPROVE', 'RESTORE', 'GRANT'].includes(action)) return [0, 0, 0];
  if (!['HIDE', 'REMOVE'].includes(action)) return null;
  const named = new Set<Label>(reportReasons.map((r) => REPORT_LABEL[r]).filter((l): l is Label => Boolean(l)));
  const fromModel = LABELS.find((l) => modelLabel?.startsWith(l));
  if (!named.size && fromModel) named.add(fromModel);
  if (!named.size) return null;
  return LABELS.map((l) => (named.has(l) ? 1 : -1)) as [number, number, number];
}

export async function exportFeedback(m: EntityManager): Promise<FeedbackExample[]> {
  const rows: Array<{ id: string; text: string; action: string; reasons: string[] | null; model_reason: string | null }> = await m.query(
    `SELECT DISTINCT ON (e.subject_id) e.id::text AS id, concat_ws(E'\\n\\n', p.title, p.body) AS text, e.action,
            (SELECT array_agg(DISTINCT r.reason) FROM reports r WHERE r.subject_id = e.subject_id) AS reasons,
            (SELECT a.reason FROM moderation_events a WHERE a.subject_id = e.subject_id AND a.type = 'AUTOMATED' AND a.id < e.id
              ORDER BY a.id DESC LIMIT 1) AS model_reason
       FROM moderation_events e JOIN posts p ON p.id = e.subject_id
      WHERE e.type IN ('HUMAN', 'APPEAL_RESOLVED') AND e.action IN ('APPROVE', 'HIDE', 'REMOVE', 'RESTORE', 'GRANT')
      ORDER BY e.subject_id, e.id DESC`,
  );
  return rows.flatMap((r) => {
    const y = feedbackLabels(r.action, r.reasons ?? [], r.model_reason);
    return y ? [{ text: r.text, y, action: r.action, eventId: r.id }] : [];
  });
}

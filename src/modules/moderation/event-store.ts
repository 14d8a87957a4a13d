import type { EntityManager } from 'typeorm';
import type { PostStatus } from '../posts/post.entity';
import { LABELS, type Scores, priorityOf, reporterAccuracy } from './policy';

export type EventType = 'AUTOMATED' | 'HUMAN' | 'REPORT' | 'APPEAL' | 'APPEAL_RESOLVED';

export interface Span {
  start: number;
  end: number;
  text?: string;
  weight: number;
}

export interface NewEvent {
  subjectId: number;
  type: EventType;
  action: string;
  actorId: number | null;
  modelVersion?: string | null;
  scores?: Scores | null;
  explanations?: Record<string, Span[]> | null;
  reason?: string | null;
  previousStatus: PostStatus;
  newStatus: PostStatus;
  jobId?: string | null;
}

/** What subscribers receive and the history shows; JSON-safe, so it crosses Redis as is. */
export interface ModerationEventRecord {
  id: string;
  subjectId: number;
  authorId: number;
  type: EventType;
  action: string;
  actorId: number | null;
  modelVersion: string | null;
  scores: Scores | null;
  explanations: Record<string, Span[]> | null;
  reason: string | null;
  previousStatus: PostStatus;
  newStatus: PostStatus;
  createdAt: string;
}

/**
 * Serialises every append: ids then commit in id order, so a reader that resumes "after id N"
 * can never later meet an id ≤ N committed behind its back.
 */
const APPEND_LOCK = 0x636f6c6c; // "coll"

interface EventRow {
  id: string; subject_id: number; author_id: number; type: EventType; action: string; actor_id: number | null;
  model_version: string | null; scores: Scores | null; explanations: Record<string, Span[]> | null; reason: string | null;
  previous_status: PostStatus; new_status: PostStatus; created_at: Date;
}

export const EVENT_COLUMNS = `e.id::text AS id, e.subject_id, p.author_id, e.type, e.action, e.actor_id, e.model_version,
  e.scores, e.explanations, e.reason, e.previous_status, e.new_status, e.created_at`;

export function toRecord(r: EventRow): ModerationEventRecord {
  return {
    id: r.id, subjectId: r.subject_id, authorId: r.author_id, type: r.type, action: r.action, actorId: r.actor_id,
    modelVersion: r.model_version, scores: r.scores, explanations: r.explanations, reason: r.reason,
    previousStatus: r.previous_status, newStatus: r.new_status, createdAt: new Date(r.created_at).toISOString(),
  };
}

/**
 * Appends events, moves each subject's post status and derived status row, all in the caller's
 * transaction. Returns the events and the subjects that became visible to everyone for the first time.
 */
export async function appendEvents(m: EntityManager, events: NewEvent[]): Promise<{ records: ModerationEventRecord[]; firstPublished: number[] }> {
  if (!events.length) return { records: [], firstPublished: [] };
  await m.query(`SELECT pg_advisory_xact_lock($1)`, [APPEND_LOCK]);
  const col = <K extends keyof NewEvent>(k: K) => events.map((e) => e[k] ?? null);
  const rows: EventRow[] = await m.query(
    `WITH ins AS (
       INSERT INTO moderation_events (subject_id, type, action, actor_id, model_version, scores, explanations, reason, previous_status, new_status, job_id)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[], $6::jsonb[], $7::jsonb[], $8::text[], $9::text[], $10::text[], $11::bigint[])
       RETURNING *)
     SELECT ${EVENT_COLUMNS} FROM ins e JOIN posts p ON p.id = e.subject_id ORDER BY e.id`,
    [
      col('subjectId'), col('type'), col('action'), col('actorId'), col('modelVersion'),
      events.map((e) => (e.scores ? JSON.stringify(e.scores) : null)),
      events.map((e) => (e.explanations ? JSON.stringify(e.explanations) : null)),
      col('reason'), col('previousStatus'), col('newStatus'), col('jobId'),
    ],
  );
  // The last event of each subject sets its state.
  const last = new Map<number, EventRow>();
  for (const r of rows) last.set(r.subject_id, r);
  const finals = [...last.values()];
  const published: Array<{ id: number }> = await m.query(
    `WITH d AS (SELECT * FROM unnest($1::int[], $2::text[]) AS d(id, status)),
          before AS (SELECT p.id, p.first_published_at IS NULL AS never FROM posts p JOIN d ON d.id = p.id),
          changed AS (
            UPDATE posts p SET status = d.status,
              first_published_at = CASE WHEN d.status = 'PUBLISHED' THEN COALESCE(p.first_published_at, now()) ELSE p.first_published_at END
             FROM d JOIN before ON before.id = d.id
            WHERE p.id = d.id
            RETURNING p.id, (before.never AND d.status = 'PUBLISHED') AS first)
     SELECT * FROM changed`,
    [finals.map((r) => r.subject_id), finals.map((r) => r.new_status)],
  );
  await m.query(
    `INSERT INTO moderation_status AS s (subject_id, status, last_event_id, model_version, scores, explanations)
     SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::text[], $5::jsonb[], $6::jsonb[])
     ON CONFLICT (subject_id) DO UPDATE SET status = EXCLUDED.status, last_event_id = EXCLUDED.last_event_id,
       model_version = COALESCE(EXCLUDED.model_version, s.model_version), scores = COALESCE(EXCLUDED.scores, s.scores),
       explanations = COALESCE(EXCLUDED.explanations, s.explanations), updated_at = now()`,
    [
      finals.map((r) => r.subject_id), finals.map((r) => r.new_status), finals.map((r) => r.id),
      finals.map((r) => r.model_version), finals.map((r) => (r.scores ? JSON.stringify(r.scores) : null)),
      finals.map((r) => (r.explanations ? JSON.stringify(r.explanations) : null)),
    ],
  );
  await refreshPriority(m, finals.map((r) => r.subject_id));
  return {
    records: rows.map(toRecord),
    firstPublished: (published as Array<{ id: number; first: boolean }>).filter((r) => r.first).map((r) => r.id),
  };
}

/** Recomputes queue priority from the status row, open reports and their reporters' track records. */
export async function refreshPriority(m: EntityManager, subjectIds: number[]): Promise<void> {
  if (!subjectIds.length) return;
  const rows: Array<{ subject_id: number; scores: Scores | null; appeal_state: string; escalated: boolean; accuracies: Array<[number, number]> | null }> =
    await m.query(
      `SELECT s.subject_id, s.scores, s.appeal_state, s.escalated,
              (SELECT json_agg(json_build_array(
                        (SELECT count(*) FROM reports x WHERE x.reporter_id = r.reporter_id AND x.outcome = 'UPHELD'),
                        (SELECT count(*) FROM reports x WHERE x.reporter_id = r.reporter_id AND x.outcome IS NOT NULL)))
                 FROM reports r WHERE r.subject_id = s.subject_id AND r.outcome IS NULL) AS accuracies
         FROM moderation_status s WHERE s.subject_id = ANY($1)`,
      [subjectIds],
    );
  const priorities = rows.map((r) =>
    priorityOf({
      scores: r.scores && LABELS.every((l) => typeof r.scores![l] === 'number') ? r.scores : null,
      openReports: (r.accuracies ?? []).map(([up, res]) => reporterAccuracy(Number(up), Number(res))),
      appealOpen: r.appeal_state === 'OPEN',
      escalated: r.escalated,
    }),
  );
  await m.query(
    `UPDATE moderation_status s SET priority = d.priority,
        report_count = (SELECT count(*) FROM reports r WHERE r.subject_id = s.subject_id AND r.outcome IS NULL)
       FROM unnest($1::int[], $2::float8[]) AS d(id, priority) WHERE s.subject_id = d.id`,
    [rows.map((r) => r.subject_id), priorities],
  );
}

import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { InferenceClient } from '../../../ml-runtime';
import { inTransaction } from '../../shared/db/unit-of-work';
import type { Logger } from '../../shared/logger';
import type { PostStatus } from '../posts/post.entity';
import { type ModerationEventRecord, type NewEvent, appendEvents } from './event-store';
import { decide, trustOf } from './policy';
import { loadPolicy } from './policy-store';

export interface DispatcherOptions {
  batchSize: number;
  /** How long a claimed job stays invisible to other dispatchers; a crashed claimer's jobs return after it. */
  leaseMs: number;
  /** Poll interval when no notification arrives (notifications normally wake it at once). */
  pollMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  deadlineMs: number;
}

export const DISPATCHER_DEFAULTS: DispatcherOptions = {
  batchSize: 128, leaseMs: 30_000, pollMs: 1_000, backoffBaseMs: 250, backoffMaxMs: 60_000, deadlineMs: 5_000,
};

export const JOBS_CHANNEL = 'moderation_jobs';

/** Exponential backoff with jitter; attempts never run out, so content is retried, never dropped. */
export function backoffMs(attempts: number, base: number, max: number, random = Math.random): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp * (0.5 + random() / 2));
}

export type PublishDecisions = (records: ModerationEventRecord[], firstPublished: number[]) => Promise<void>;

/**
 * The outbox consumer: claims pending moderation jobs (`FOR UPDATE SKIP LOCKED`, so several server
 * processes share them), scores them in one pool call, and records each decision exactly once.
 */
export class ModerationDispatcher {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private listener: Client | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly databaseUrl: string,
    private readonly inference: InferenceClient,
    private readonly publish: PublishDecisions,
    private readonly log: Logger,
    private readonly opts: DispatcherOptions = DISPATCHER_DEFAULTS,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.listener = new Client({ connectionString: this.databaseUrl });
    this.listener.on('notification', () => this.wake?.());
    this.listener.on('error', (err) => this.log.warn({ err }, 'moderation listener error; polling only'));
    await this.listener.connect();
    await this.listener.query(`LISTEN ${JOBS_CHANNEL}`);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let handled = 0;
      try {
        handled = await this.runOnce();
      } catch (err) {
        this.log.error({ err }, 'moderation batch failed');
      }
      if (handled === 0 && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.opts.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** One claim → score → decide round; returns how many jobs it claimed. */
  async runOnce(): Promise<number> {
    const jobs: Array<{ id: string; subject_id: number; attempts: number }> = await this.db.query(
      // In a CTE: TypeORM answers a bare UPDATE … RETURNING with [rows, count].
      `WITH claimed AS (
         UPDATE moderation_jobs SET locked_until = clock_timestamp() + $2 * interval '1 millisecond', attempts = attempts + 1
          WHERE id IN (SELECT id FROM moderation_jobs
                        WHERE state = 'PENDING' AND available_at <= now() AND (locked_until IS NULL OR locked_until < now())
                        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING id::text, subject_id, attempts)
       SELECT * FROM claimed ORDER BY id::bigint`,
      [this.opts.batchSize, this.opts.leaseMs],
    );
    if (!jobs.length) return 0;
    const posts: Array<{ id: number; text: string }> = await this.db.query(
      `SELECT id, concat_ws(E'\\n\\n', title, body) AS text FROM posts WHERE id = ANY($1)`,
      [jobs.map((j) => j.subject_id)],
    );
    const textOf = new Map(posts.map((p) => [p.id, p.text]));
    let results;
    try {
      results = await this.inference.moderate(jobs.map((j) => textOf.get(j.subject_id) ?? ''), { deadlineMs: this.opts.deadlineMs });
    } catch (err) {
      await this.retryLater(jobs, err);
      return jobs.length;
    }
    const scored = new Map(jobs.map((j, i) => [j.id, results[i]]));
    await this.decide(scored);
    return jobs.length;
  }

  private async retryLater(jobs: Array<{ id: string; attempts: number }>, err: unknown): Promise<void> {
    const code = (err as { code?: string }).code ?? 'ERROR';
    this.log.warn({ code, jobs: jobs.length }, 'moderation scoring failed; retrying with backoff');
    await this.db.query(
      `UPDATE moderation_jobs j SET locked_until = NULL, last_error = $3,
              available_at = now() + d.delay * interval '1 millisecond'
         FROM unnest($1::bigint[], $2::int[]) AS d(id, delay) WHERE j.id = d.id AND j.state = 'PENDING'`,
      [jobs.map((j) => j.id), jobs.map((j) => backoffMs(j.attempts, this.opts.backoffBaseMs, this.opts.backoffMaxMs)), `${code}: ${String((err as Error).message ?? err)}`.slice(0, 500)],
    );
  }

  private async decide(scored: Map<string, Awaited<ReturnType<InferenceClient['moderate']>>[number]>): Promise<void> {
    await inTransaction(this.db, async (uow) => {
      const m = uow.manager;
      // Re-read under lock: a job another dispatcher decided meanwhile (its lease had run out) is skipped.
      const live: Array<{ id: string; subject_id: number; status: PostStatus; author_id: number }> = await m.query(
        `SELECT j.id::text, j.subject_id, p.status, p.author_id FROM moderation_jobs j JOIN posts p ON p.id = j.subject_id
          WHERE j.id = ANY($1) AND j.state = 'PENDING' ORDER BY j.id FOR UPDATE OF j, p`,
        [[...scored.keys()]],
      );
      if (!live.length) return;
      // A job whose post was edited after it was queued scored the old text: the edit's newer job
      // decides, or the stale verdict would settle the post and the newer one find it no longer
      // PENDING. Read after the locks: an edit holds the post's lock, so every earlier edit is visible.
      const stale: Array<{ id: string }> = await m.query(
        `SELECT j.id::text FROM moderation_jobs j
          WHERE j.id = ANY($1) AND EXISTS (SELECT 1 FROM moderation_jobs n WHERE n.subject_id = j.subject_id AND n.id > j.id)`,
        [live.map((j) => j.id)],
      );
      const superseded = new Set(stale.map((j) => j.id));
      const latest = new Map<number, (typeof live)[number]>();
      for (const j of live) if (!superseded.has(j.id)) latest.set(j.subject_id, j);
      const policy = await loadPolicy(m);
      const trust = await this.trustOf(m, [...new Set(live.map((j) => j.author_id))]);
      const events: NewEvent[] = [...latest.values()].map((j) => {
        const r = scored.get(j.id)!;
        const d = decide(r.scores, policy, trust.get(j.author_id) ?? 0);
        // The model only moves content that is waiting for it; a person's decision since then stands.
        const newStatus = j.status === 'PENDING' ? d.status : j.status;
        return {
          subjectId: j.subject_id, type: 'AUTOMATED', action: d.action, actorId: null, modelVersion: r.modelVersion,
          scores: r.scores, explanations: r.explanations, reason: d.label ? `${d.label} score ${r.scores[d.label].toFixed(3)}` : null,
          previousStatus: j.status, newStatus, jobId: j.id,
        };
      });
      const { records, firstPublished } = await appendEvents(m, events);
      await m.query(`UPDATE moderation_jobs SET state = 'DONE', decided_at = now(), locked_until = NULL WHERE id = ANY($1)`, [live.map((j) => j.id)]);
      uow.afterCommit(() => this.publish(records, firstPublished));
    }, (err) => this.log.error({ err }, 'publishing moderation decisions failed'));
  }

  private async trustOf(m: import('typeorm').EntityManager, authorIds: number[]): Promise<Map<number, number>> {
    const rows: Array<{ id: number; age_days: number; reputation: number; accepted: number; strikes: number }> = await m.query(
      `SELECT u.id, extract(epoch FROM now() - u.created_at) / 86400 AS age_days, u.reputation,
              (SELECT count(*) FROM posts a WHERE a.author_id = u.id AND a.is_accepted)::int AS accepted,
              (SELECT count(*) FROM moderation_events e JOIN posts p ON p.id = e.subject_id
                WHERE p.author_id = u.id AND e.type = 'HUMAN' AND e.action IN ('HIDE', 'REMOVE'))::int AS strikes
         FROM users u WHERE u.id = ANY($1)`,
      [authorIds],
    );
    return new Map(rows.map((r) => [r.id, trustOf({ accountAgeDays: Number(r.age_days), reputation: r.reputation, acceptedAnswers: r.accepted, strikes: r.strikes })]));
  }
}

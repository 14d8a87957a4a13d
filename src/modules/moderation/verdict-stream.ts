import type { EntityManager } from 'typeorm';
import { DomainError, badInput } from '../../shared/errors';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import { EVENT_COLUMNS, type ModerationEventRecord, toRecord } from './event-store';

const PAGE = 500;

export interface StreamOptions {
  m: EntityManager;
  pubSub: AppPubSub;
  /** Resume after this event id (a previous event's `sequence`); null: live events only. */
  after: string | null;
  retentionDays: number;
  /** Which events this subscriber wants (and may see). */
  accept(r: ModerationEventRecord): boolean;
  /** Throws (e.g. FORBIDDEN) once the subscriber may no longer watch; re-run when their account changes. */
  authorize(): Promise<void>;
  /** Checked before every event: throws once the subscriber's token has expired. */
  checkToken(): void;
  viewerId: number;
}

function parseCursor(after: string): bigint {
  if (!/^\d{1,19}$/.test(after)) throw badInput(`"${after}" is not a verdict cursor`, 'after');
  return BigInt(after);
}

async function page(m: EntityManager, after: bigint, before: bigint | null): Promise<ModerationEventRecord[]> {
  const rows = await m.query(
    `SELECT ${EVENT_COLUMNS} FROM moderation_events e JOIN posts p ON p.id = e.subject_id
      WHERE e.id > $1 ${before !== null ? 'AND e.id < $3' : ''} ORDER BY e.id LIMIT $2`,
    before !== null ? [after.toString(), PAGE, before.toString()] : [after.toString(), PAGE],
  );
  return rows.map(toRecord);
}

async function checkRetention(m: EntityManager, cursor: bigint, retentionDays: number): Promise<void> {
  const [row]: Array<{ max: string | null; at: Date | null }> = await m.query(
    `SELECT (SELECT max(id)::text FROM moderation_events) AS max,
            (SELECT created_at FROM moderation_events WHERE id <= $1 ORDER BY id DESC LIMIT 1) AS at`,
    [cursor.toString()],
  );
  if (cursor > BigInt(row.max ?? '0')) throw badInput('That cursor is ahead of the stream; resume from a sequence you received', 'after');
  if (row.at && Date.now() - new Date(row.at).getTime() > retentionDays * 86_400_000) {
    throw new DomainError('BAD_USER_INPUT', `That cursor is older than the ${retentionDays}-day retention; resubscribe without \`after\` and reload the queue`, { field: 'after', reason: 'CURSOR_EXPIRED' });
  }
}

/**
 * Backfill then live, with no gap and no duplicate (as Ozone's subscribeLabels): the live
 * subscription starts before the backfill query, events already sent are skipped by id, and an id
 * that jumps ahead is filled from the database first. Appends commit in id order (event-store.ts),
 * so "after id N" is a complete description of what a client has seen.
 */
export async function* verdictStream(o: StreamOptions): AsyncGenerator<ModerationEventRecord> {
  await o.authorize();
  const live = o.pubSub.subscribe(TOPIC.VERDICT)[Symbol.asyncIterator]();
  const changes = o.pubSub.subscribe(TOPIC.USER_CHANGED)[Symbol.asyncIterator]();
  let nextLive = live.next(); // attaches the listener now, before the backfill reads
  let nextChange = changes.next();
  try {
    let last: bigint | null = null;
    const emit = function* (r: ModerationEventRecord) {
      last = BigInt(r.id);
      o.checkToken();
      if (o.accept(r)) yield r;
    };
    if (o.after !== null) {
      last = parseCursor(o.after);
      await checkRetention(o.m, last, o.retentionDays);
      for (let rows = await page(o.m, last, null); rows.length; rows = await page(o.m, last!, null)) {
        for (const r of rows) yield* emit(r);
      }
    }
    for (;;) {
      const next = await Promise.race([
        nextLive.then((v) => ({ kind: 'verdict' as const, v })),
        nextChange.then((v) => ({ kind: 'user' as const, v })),
      ]);
      if (next.kind === 'user') {
        if (next.v.done) return;
        nextChange = changes.next();
        if (next.v.value.userId === o.viewerId) await o.authorize();
        continue;
      }
      if (next.v.done) return;
      nextLive = live.next();
      const r = next.v.value;
      const id = BigInt(r.id);
      if (last !== null && id <= last) continue;
      if (last !== null && id > last + 1n) {
        // Ids jumped: events committed by another process may not have reached us yet.
        for (const missed of await page(o.m, last, id)) yield* emit(missed);
      }
      yield* emit(r);
    }
  } finally {
    await Promise.allSettled([live.return?.(), changes.return?.()]);
  }
}

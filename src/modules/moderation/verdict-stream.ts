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
  /** The transport's synchronous delivery for live events (RequestContext.push), when it has one. */
  push?: (r: ModerationEventRecord) => boolean;
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

/** One subscriber's inbox: the hub pushes into it synchronously; its stream drains it. */
interface Inbox {
  viewerId: number;
  events: ModerationEventRecord[];
  accountChanged: boolean;
  wake: (() => void) | null;
  /** Set while the stream waits with nothing queued: takes an event synchronously, or declines. */
  direct: ((r: ModerationEventRecord) => boolean) | null;
}

/**
 * One pub/sub listener per process for verdicts and account changes, handing each event to every
 * open stream's inbox. Per-subscriber listeners (two event-target listeners and queues each) made
 * fan-out to thousands of dashboards slow and memory-hungry.
 */
class VerdictHub {
  private readonly inboxes = new Set<Inbox>();

  constructor(pubSub: AppPubSub) {
    void this.pump(pubSub.subscribe(TOPIC.VERDICT), (r) => {
      for (const box of this.inboxes) {
        if (box.direct && !box.events.length && !box.accountChanged && box.direct(r)) continue;
        box.events.push(r);
        box.wake?.();
      }
    });
    void this.pump(pubSub.subscribe(TOPIC.USER_CHANGED), ({ userId }) => {
      for (const box of this.inboxes) {
        if (box.viewerId !== userId) continue;
        box.accountChanged = true;
        box.direct = null; // nothing more goes past the stream until it has re-checked access
        box.wake?.();
      }
    });
  }

  private async pump<T>(source: AsyncIterable<T>, deliver: (value: T) => void): Promise<void> {
    for await (const value of source) deliver(value);
  }

  open(viewerId: number): Inbox {
    const box: Inbox = { viewerId, events: [], accountChanged: false, wake: null, direct: null };
    this.inboxes.add(box);
    return box;
  }

  close(box: Inbox): void {
    this.inboxes.delete(box);
  }
}

const hubs = new WeakMap<AppPubSub, VerdictHub>();
function hubFor(pubSub: AppPubSub): VerdictHub {
  let hub = hubs.get(pubSub);
  if (!hub) hubs.set(pubSub, (hub = new VerdictHub(pubSub)));
  return hub;
}

/**
 * Backfill then live, with no gap and no duplicate (as Ozone's subscribeLabels): the inbox opens
 * before the backfill query, events already sent are skipped by id, and an id that jumps ahead is
 * filled from the database first. Appends commit in id order (event-store.ts), so "after id N" is a
 * complete description of what a client has seen.
 */
export async function* verdictStream(o: StreamOptions): AsyncGenerator<ModerationEventRecord> {
  await o.authorize();
  const hub = hubFor(o.pubSub);
  const box = hub.open(o.viewerId); // receives events from now on, before the backfill reads
  try {
    let last: bigint | null = null;
    const emit = function* (r: ModerationEventRecord) {
      last = BigInt(r.id);
      o.checkToken();
      if (o.accept(r)) yield r;
    };
    // While the stream waits with nothing queued, the hub hands it live events synchronously: no
    // generator step and no promise per subscriber, which is what delivery to thousands of
    // dashboards costs otherwise. What needs the database or may end the stream (an id gap, an
    // expired token) declines, and the event takes the generator path below.
    const direct = o.push && ((r: ModerationEventRecord): boolean => {
      try {
        const id = BigInt(r.id);
        if (last !== null && id <= last) return true;
        if (last !== null && id > last + 1n) return false;
        o.checkToken();
        if (o.accept(r) && !o.push!(r)) return false;
        last = id;
        return true;
      } catch {
        return false;
      }
    });
    if (o.after !== null) {
      last = parseCursor(o.after);
      await checkRetention(o.m, last, o.retentionDays);
      for (let rows = await page(o.m, last, null); rows.length; rows = await page(o.m, last!, null)) {
        for (const r of rows) yield* emit(r);
      }
    }
    for (;;) {
      if (!box.events.length && !box.accountChanged) {
        box.direct = direct || null;
        await new Promise<void>((resolve) => (box.wake = resolve));
      }
      box.direct = null;
      box.wake = null;
      if (box.accountChanged) {
        box.accountChanged = false;
        await o.authorize();
      }
      while (box.events.length) {
        const r = box.events.shift()!;
        const id = BigInt(r.id);
        if (last !== null && id <= last) continue;
        if (last !== null && id > last + 1n) {
          // Ids jumped: events committed by another process may not have reached us yet.
          for (const missed of await page(o.m, last, id)) yield* emit(missed);
        }
        yield* emit(r);
      }
    }
  } finally {
    hub.close(box);
  }
}

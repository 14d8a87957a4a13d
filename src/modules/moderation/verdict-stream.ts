import type { EntityManager } from 'typeorm';
import { DomainError, badInput } from '../../shared/errors';
import { type AppPubSub, MAX_SUBSCRIBER_BACKLOG, TOPIC } from '../../shared/pubsub';
import { EVENT_COLUMNS, type ModerationEventRecord, toRecord } from './event-store';

const PAGE = 500;
/** Live events held per stream; the pub/sub's own bound per subscriber (`shared/pubsub.ts`). */
const MAX_QUEUED = MAX_SUBSCRIBER_BACKLOG;

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
  /** Most live events held for this stream before it reads them from the event log instead. */
  maxQueued?: number;
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
 * One subscriber's inbox: the hub pushes into it synchronously; its stream drains it. A stream that
 * reads more slowly than verdicts arrive does not hold them all: past `maxQueued` the inbox is
 * emptied and the stream pages what it missed from the event log, which holds every event anyway.
 */
interface Inbox {
  viewerId: number;
  events: ModerationEventRecord[];
  maxQueued: number;
  /** Set when queued events were dropped: the stream resumes from the log after this id. */
  resumeAfter: bigint | null;
  accountChanged: boolean;
  wake: (() => void) | null;
  /** Set while the stream waits with nothing queued: takes an event synchronously, or declines. */
  direct: ((r: ModerationEventRecord, id: bigint) => boolean) | null;
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
      let id: bigint | undefined; // parsed once per event, not once per open stream
      for (const box of this.inboxes) {
        if (box.direct && !box.events.length && !box.accountChanged && box.direct(r, (id ??= BigInt(r.id)))) continue;
        if (box.events.length >= box.maxQueued) {
          box.resumeAfter ??= BigInt(box.events[0].id) - 1n;
          box.events.length = 0;
        }
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

  open(viewerId: number, maxQueued: number): Inbox {
    const box: Inbox = { viewerId, events: [], maxQueued, resumeAfter: null, accountChanged: false, wake: null, direct: null };
    this.inboxes.add(box);
    return box;
  }

  close(box: Inbox): void {
    this.inboxes.delete(box);
  }

  queued(): number[] {
    return [...this.inboxes].map((box) => box.events.length);
  }
}

/** Live events waiting in each open verdict stream of this process (for metrics and tests). */
export function queuedVerdicts(pubSub: AppPubSub): number[] {
  return hubs.get(pubSub)?.queued() ?? [];
}

const hubs = new WeakMap<AppPubSub, VerdictHub>();
function hubFor(pubSub: AppPubSub): VerdictHub {
  let hub = hubs.get(pubSub);
  if (!hub) hubs.set(pubSub, (hub = new VerdictHub(pubSub)));
  return hub;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * Backfill then live, with no gap and no duplicate (as Ozone's subscribeLabels): the inbox opens
 * before the backfill query, events already sent are skipped by id, and an id that jumps ahead is
 * filled from the database first. Appends commit in id order (event-store.ts), so "after id N" is a
 * complete description of what a client has seen.
 */
export function verdictStream(o: StreamOptions): AsyncIterableIterator<ModerationEventRecord> {
  return new VerdictStream(o);
}

/**
 * A hand-written iterator rather than an async generator, for two reasons that matter at
 * thousands of open dashboards: a parked generator keeps its whole frame (every local of the
 * stream) per subscriber, where this keeps a few fields; and return() takes effect at once, while
 * a generator parked on its next event would only run its `finally` when one arrives.
 */
class VerdictStream implements AsyncIterableIterator<ModerationEventRecord> {
  private box: Inbox | null = null;
  private hub: VerdictHub | null = null;
  private last: bigint | null = null;
  /** Accepted events that next() has not returned yet. */
  private readonly ready: ModerationEventRecord[] = [];
  private phase: 'start' | 'backfill' | 'live' = 'start';
  private finished = false;
  /**
   * While the stream waits with nothing queued, the hub hands it live events synchronously: no
   * iterator step and no promise per subscriber, which is what delivery to thousands of
   * dashboards costs otherwise. What needs the database or may end the stream (an id gap, an
   * expired token) declines, and the event takes the path through next().
   */
  private readonly direct: ((r: ModerationEventRecord, id: bigint) => boolean) | null;

  constructor(private readonly o: StreamOptions) {
    this.direct = o.push ? (r, id) => this.deliverDirect(r, id) : null;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ModerationEventRecord>> {
    try {
      for (;;) {
        if (this.ready.length) return { done: false, value: this.ready.shift()! };
        if (this.finished) return DONE;
        const wait = this.step();
        if (wait) await wait;
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  async return(): Promise<IteratorResult<ModerationEventRecord>> {
    this.close();
    return DONE;
  }

  async throw(err?: unknown): Promise<IteratorResult<ModerationEventRecord>> {
    this.close();
    throw err;
  }

  /** Moves the stream on by what is at hand; returns what to wait for, if anything. */
  private step(): Promise<void> | null {
    if (this.phase === 'start') return this.start();
    if (this.phase === 'backfill') return this.backfillPage();
    const box = this.box!;
    box.direct = null;
    box.wake = null;
    if (box.accountChanged) {
      box.accountChanged = false;
      return this.o.authorize();
    }
    if (box.resumeAfter !== null) {
      // Fell behind and the inbox was emptied: read the log from the last event sent (or from
      // before the first one dropped, for a stream that has sent none), then go live again.
      this.last ??= box.resumeAfter;
      box.resumeAfter = null;
      this.phase = 'backfill';
      return this.backfillPage();
    }
    while (box.events.length) {
      const r = box.events[0];
      const id = BigInt(r.id);
      if (this.last !== null && id <= this.last) {
        box.events.shift();
        continue;
      }
      // Ids jumped: events committed by another process may not have reached us yet.
      if (this.last !== null && id > this.last + 1n) return this.fillGap(id);
      box.events.shift();
      this.emit(r);
      if (this.ready.length) return null;
    }
    box.direct = this.direct;
    return new Promise<void>((resolve) => (box.wake = resolve));
  }

  private async start(): Promise<void> {
    await this.o.authorize();
    this.hub = hubFor(this.o.pubSub);
    this.box = this.hub.open(this.o.viewerId, this.o.maxQueued ?? MAX_QUEUED); // receives events from now on, before the backfill reads
    if (this.finished) return this.hub.close(this.box); // returned while authorizing
    if (this.o.after === null) {
      this.phase = 'live';
      return;
    }
    this.last = parseCursor(this.o.after);
    await checkRetention(this.o.m, this.last, this.o.retentionDays);
    this.phase = 'backfill';
  }

  private async backfillPage(): Promise<void> {
    const rows = await page(this.o.m, this.last!, null);
    if (!rows.length) this.phase = 'live';
    for (const r of rows) this.emit(r);
  }

  private async fillGap(before: bigint): Promise<void> {
    for (const missed of await page(this.o.m, this.last!, before)) this.emit(missed);
  }

  private emit(r: ModerationEventRecord): void {
    this.last = BigInt(r.id);
    this.o.checkToken();
    if (this.o.accept(r)) this.ready.push(r);
  }

  private deliverDirect(r: ModerationEventRecord, id: bigint): boolean {
    try {
      if (this.last !== null && id <= this.last) return true;
      if (this.last !== null && id > this.last + 1n) return false;
      this.o.checkToken();
      if (this.o.accept(r) && !this.o.push!(r)) return false;
      this.last = id;
      return true;
    } catch {
      return false;
    }
  }

  private close(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.box) {
      this.box.direct = null;
      this.hub!.close(this.box);
      this.box.wake?.(); // a next() parked on the inbox returns done now
    }
  }
}

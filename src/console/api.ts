import { type Client, createClient } from 'graphql-ws/client';
import type { ModerationEvent } from './types';

/** A GraphQL error as the server reports it (`extensions.code` from a closed set). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** What is left of the member's hourly cost budget, as the last response reported it. */
export const budget = { remaining: Infinity, limit: Infinity };

/** GraphQL over HTTP on this origin; the token, when given, goes in the Authorization header. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, token?: string | null): Promise<T> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json().catch(() => null)) as {
    data?: T;
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
    extensions?: { cost?: { remaining?: number; limit?: number } };
  } | null;
  if (!json) throw new ApiError(`The server answered ${res.status} without a GraphQL body`, undefined);
  const cost = json.extensions?.cost;
  if (typeof cost?.remaining === 'number' && typeof cost.limit === 'number') Object.assign(budget, { remaining: cost.remaining, limit: cost.limit });
  if (json.errors?.length) throw new ApiError(json.errors[0].message, json.errors[0].extensions?.code);
  return json.data as T;
}

export const EVENT_FIELDS = `
  sequence type action reason modelVersion previousStatus newStatus createdAt subjectId
  actor { handle }
  scores { label score spans { start end weight } }
  post { id kind title body author { handle } }`;

const VERDICTS = `subscription Verdicts($after: String) { moderationVerdicts(after: $after) { ${EVENT_FIELDS} } }`;

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'paused' | 'stopped';

export interface FeedHandlers {
  event(e: ModerationEvent): void;
  state(s: FeedState, detail?: string): void;
  /** The session is no longer valid (expired token, lost role): the console signs out. */
  denied(message: string): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The live verdict stream with resume: every event's `sequence` is remembered, and each new
 * connection subscribes with `after` set to it, so a dropped socket, a pause or a page reload
 * (the cursor is kept for the tab) replays exactly what was missed. Reconnection is done here
 * rather than by graphql-ws's retry, which would resend the first subscription's variables.
 */
export class VerdictFeed {
  private client: Client | null = null;
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly token: string,
    private readonly on: FeedHandlers,
    private cursor: string | null = sessionStorage.getItem('colloquy.cursor'),
  ) {}

  get lastSequence(): string | null {
    return this.cursor;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.client?.dispose();
    await this.running;
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (paused) void this.client?.dispose();
    else this.wake?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      if (this.paused) {
        this.on.state('paused');
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      this.on.state(failures ? 'reconnecting' : 'connecting');
      const outcome = await this.runOnce(() => {
        failures = 0;
        this.on.state('live');
      });
      if (this.stopped) break;
      if (outcome.kind === 'denied') return this.on.denied(outcome.message);
      if (outcome.kind === 'expired') {
        // The cursor is older than the server keeps: start again from live events.
        this.cursor = null;
        sessionStorage.removeItem('colloquy.cursor');
        continue;
      }
      if (this.paused) continue;
      failures++;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(failures, 5)) * (0.5 + Math.random() / 2);
      this.on.state('reconnecting', outcome.kind === 'error' ? outcome.message : undefined);
      await Promise.race([sleep(delay), new Promise<void>((r) => (this.wake = r))]);
    }
    this.on.state('stopped');
  }

  private async runOnce(onLive: () => void): Promise<{ kind: 'closed' } | { kind: 'denied' | 'expired' | 'error'; message: string }> {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
    const client = createClient({
      url,
      connectionParams: { authorization: `Bearer ${this.token}` },
      retryAttempts: 0,
      lazy: true,
      on: { connected: onLive },
    });
    this.client = client;
    try {
      for await (const result of client.iterate<{ moderationVerdicts: ModerationEvent }>({ query: VERDICTS, variables: { after: this.cursor } })) {
        const err = result.errors?.[0] as { message: string; extensions?: { code?: string; reason?: string } } | undefined;
        if (err) {
          const code = err.extensions?.code;
          if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') return { kind: 'denied', message: err.message };
          if (err.extensions?.reason === 'CURSOR_EXPIRED') return { kind: 'expired', message: err.message };
          return { kind: 'error', message: err.message };
        }
        const e = result.data?.moderationVerdicts;
        if (!e) continue;
        this.cursor = e.sequence;
        sessionStorage.setItem('colloquy.cursor', e.sequence);
        this.on.event(e);
      }
      return { kind: 'closed' };
    } catch (err) {
      // graphql-ws rejects with the GraphQL errors array or a CloseEvent.
      const list = Array.isArray(err) ? (err as Array<{ message: string; extensions?: { code?: string; reason?: string } }>) : null;
      const code = list?.[0]?.extensions?.code;
      if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') return { kind: 'denied', message: list![0].message };
      if (list?.[0]?.extensions?.reason === 'CURSOR_EXPIRED') return { kind: 'expired', message: list[0].message };
      const close = err as { code?: number; reason?: string };
      if (close && (close.code === 4401 || close.code === 4403)) return { kind: 'denied', message: close.reason || 'Session ended' };
      return { kind: 'error', message: list?.[0]?.message ?? (close?.reason || 'connection lost') };
    } finally {
      await client.dispose();
      if (this.client === client) this.client = null;
    }
  }
}

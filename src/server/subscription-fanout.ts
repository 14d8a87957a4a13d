import {
  type DocumentNode, type ExecutionArgs, type ExecutionResult, type FieldNode, type OperationDefinitionNode,
  Kind, createSourceEventStream, execute, getOperationAST, print, subscribe, visit,
} from 'graphql';
import WebSocket from 'ws';
import type { Viewer } from '../modules/users/user.service';

/**
 * Shared execution for broadcast subscriptions. graphql-ws executes the selection set and
 * serialises the result once per subscriber and event; with 10,000 dashboards watching one verdict
 * that is 10,000 identical executions. Here subscribers with the same *shape* (document, the
 * variables its selection uses, role class, and the viewer's id where the selection depends on
 * identity) share one execution and one JSON string per event, and each socket is sent that string
 * inside its own `next` frame.
 *
 * What stays per subscriber is the source stream (the subscription field's `subscribe` resolver,
 * e.g. verdictStream): authorization at subscribe time, re-checks when the account changes, token
 * expiry before each event, filters, and the `after` backfill with no gap and no duplicate. Only
 * events that stream yields are rendered, so nothing reaches a socket its subscriber may not see.
 */

/**
 * Root subscription fields whose payload is rendered from the event alone: their arguments pick
 * which events reach a subscriber (its own source stream), never how an event is rendered, so
 * subscribers differing only in those arguments (e.g. `after`) share renders.
 */
const SHARED_FIELDS = new Set(['moderationVerdicts', 'postModeration']);

/** Staff see every post and every field whatever their identity, so their role alone decides a render. */
const STAFF = new Set(['MODERATOR', 'ADMIN']);

/** Fields whose value depends on who the viewer is, not only on their role (viewerVote, email, …). */
const IDENTITY_FIELD = /^(viewer|email$)/;

export interface FanoutTarget {
  socket: WebSocket;
  /** The graphql-ws operation id; every frame for this subscription carries it. */
  id: string;
  viewer: Viewer | null;
}

/**
 * What a subscription's context offers its source stream once the transport renders its events
 * once per shape: a stream that is caught up may hand a live event here synchronously instead of
 * yielding it, so delivering one event to 10,000 dashboards is a loop, not 10,000 generator steps
 * and promise chains. Returns false when the subscriber is gone; the stream then yields as usual.
 */
export interface PushCapableContext {
  push?: (event: unknown) => boolean;
}

interface DocumentShape {
  /** Small and unique per distinct document text, so a subscriber's key does not hold the printed document. */
  id: number;
  /** Variables used below the root field (root arguments do not affect rendering). */
  variables: string[];
  identity: boolean;
}

type Rendered = { json: string };
/** A subscriber as a render sees it: frames queued in event order, and where to send them. */
interface Waiter {
  queue: Rendering[];
  send(r: Rendered): void;
}

interface Rendering {
  promise: Promise<void>;
  value?: Rendered;
  /** Subscribers whose next frame is this render, waiting for it to settle. */
  waiters?: Waiter[];
}


/** A document is shareable when it subscribes to exactly one field from SHARED_FIELDS. */
function analyse(document: DocumentNode, operationName: string | null | undefined, idFor: (text: string) => number): DocumentShape | null {
  const op = getOperationAST(document, operationName);
  if (!op || op.operation !== 'subscription' || op.selectionSet.selections.length !== 1) return null;
  const root = op.selectionSet.selections[0];
  if (root.kind !== Kind.FIELD || !SHARED_FIELDS.has(root.name.value)) return null;
  const stripped: OperationDefinitionNode = { ...op, selectionSet: { ...op.selectionSet, selections: [{ ...root, arguments: [] } as FieldNode] } };
  const below: DocumentNode = { ...document, definitions: document.definitions.map((d) => (d === op ? stripped : d)) };
  const variables = new Set<string>();
  let identity = false;
  visit(below, {
    Variable: (node) => void variables.add(node.name.value),
    Field: (node) => void (IDENTITY_FIELD.test(node.name.value) && (identity = true)),
  });
  return { id: idFor(print(below)), variables: [...variables].sort(), identity };
}

export function createSubscriptionFanout(options: {
  /** A fresh context per render: fresh DataLoaders, so an event never reads through a stale cache. */
  contextFor(viewer: Viewer | null): unknown;
  /** Errors in a shared render are formatted as graphql-ws would format them (formatError). */
  formatResult(result: ExecutionResult): unknown;
  enabled: boolean;
}) {
  const targets = new WeakMap<object, FanoutTarget>();
  // Parsed documents are cached and shared by subscribers (ws.ts), so this runs once per document.
  const shapes = new WeakMap<DocumentNode, DocumentShape | null>();
  const shapeIds = new Map<string, number>();
  const idFor = (text: string) => {
    let id = shapeIds.get(text);
    if (id === undefined) shapeIds.set(text, (id = shapeIds.size + 1));
    return id;
  };
  // Keyed by the event object itself: entries live exactly as long as some stream still holds the
  // event, and a later event (even with the same id) is rendered afresh.
  const renders = new WeakMap<object, Map<string, Rendering>>();

  // Keys are built per subscriber; interned, thousands of subscribers of one shape share one flat string.
  const keys = new Map<string, string>();
  function shapeKey(args: ExecutionArgs, viewer: Viewer | null): string | null {
    let shape = shapes.get(args.document);
    if (shape === undefined) shapes.set(args.document, (shape = analyse(args.document, args.operationName, idFor)));
    if (!shape) return null;
    const role = viewer?.role ?? 'ANONYMOUS';
    const who = shape.identity || !STAFF.has(role) ? String(viewer?.id ?? '') : '';
    const vars = shape.variables.length ? JSON.stringify(shape.variables.map((v) => args.variableValues?.[v] ?? null)) : '';
    const key = `${shape.id}\u0000${vars}\u0000${role}\u0000${who}`;
    const interned = keys.get(key);
    if (interned) return interned;
    if (keys.size >= 10_000) keys.clear(); // per-viewer keys come and go; a miss only costs a copy
    keys.set(key, key);
    return key;
  }

  /** Sends every settled render at the head of the queue; waits on the first unsettled one. */
  function flush(s: Waiter): void {
    while (s.queue.length && s.queue[0].value) s.send(s.queue.shift()!.value!);
    if (s.queue.length) (s.queue[0].waiters ??= []).push(s);
  }

  /** The shared render of `event` for `key`, started by the first subscriber of that shape to see it. */
  function renderOnce(s: SharedSubscription, event: unknown): Rendering {
    const run = (): Rendering => {
      const entry: Rendering = {
        promise: Promise.resolve(execute({ ...s.args, rootValue: event, contextValue: options.contextFor(s.viewer) })).then(
          (result: ExecutionResult) => {
            entry.value = { json: JSON.stringify(result.errors ? options.formatResult(result) : result) };
            const waiting = entry.waiters ?? [];
            entry.waiters = undefined;
            for (const w of waiting) flush(w);
          },
        ),
      };
      return entry;
    };
    if (typeof event !== 'object' || event === null) return run();
    let byShape = renders.get(event);
    if (!byShape) renders.set(event, (byShape = new Map()));
    let rendering = byShape.get(s.key);
    if (!rendering) byShape.set(s.key, (rendering = run()));
    return rendering;
  }

  /**
   * One open shared subscription, and the iterator graphql-ws drives. A class with its methods on
   * the prototype, not an object of closures: ten thousand of these stay open at once. return()
   * takes effect while next() is still waiting for an event (an async generator would queue it
   * behind that wait). Events the stream yields (backfill, gaps filled from the database) take the
   * same queue as pushed ones, so graphql-ws itself only ever sees the end of the stream or its error.
   */
  class SharedSubscription implements AsyncIterableIterator<ExecutionResult> {
    readonly socket: WebSocket;
    readonly id: string;
    readonly viewer: Viewer | null;
    /** This subscription's `next` frame up to its payload, built once rather than per event. */
    readonly frameStart: string;
    /** Renders not yet sent, in event order: a frame never overtakes an earlier one still rendering. */
    readonly queue: Rendering[] = [];
    done = false;
    source: AsyncIterator<unknown> | null = null;

    constructor(target: FanoutTarget, readonly args: ExecutionArgs, readonly key: string) {
      this.socket = target.socket;
      this.id = target.id;
      this.viewer = target.viewer;
      this.frameStart = `{"id":${JSON.stringify(target.id)},"type":"next","payload":`;
    }

    /** The context's `push`: a caught-up stream hands a live event straight to this subscriber. */
    push(event: unknown): boolean {
      if (this.done || this.socket.readyState !== WebSocket.OPEN) return false;
      this.enqueue(renderOnce(this, event));
      return true;
    }

    enqueue(rendering: Rendering): void {
      // The common case at scale: the render settled for an earlier subscriber, nothing is pending.
      if (!this.queue.length && rendering.value) return this.send(rendering.value);
      this.queue.push(rendering);
      if (this.queue.length === 1) (rendering.waiters ??= []).push(this);
    }

    send(r: Rendered): void {
      if (this.done || this.socket.readyState !== WebSocket.OPEN) return;
      this.socket.send(this.frameStart + r.json + '}');
    }

    [Symbol.asyncIterator](): this {
      return this;
    }

    async next(): Promise<IteratorResult<ExecutionResult>> {
      while (!this.done) {
        let step: IteratorResult<unknown>;
        try {
          step = await this.source!.next();
        } catch (err) {
          // The error (FORBIDDEN, an expired token) ends the subscription as before, after the
          // frames already due to this subscriber.
          await Promise.all(this.queue.map((r) => r.promise));
          flush(this);
          this.finish();
          throw err;
        }
        if (step.done || this.done) break;
        this.enqueue(renderOnce(this, step.value));
      }
      this.finish();
      return { done: true, value: undefined };
    }

    async return(): Promise<IteratorResult<ExecutionResult>> {
      this.finish();
      return { done: true, value: undefined };
    }

    async throw(err: unknown): Promise<IteratorResult<ExecutionResult>> {
      this.finish();
      throw err;
    }

    private finish(): void {
      if (this.done) return;
      this.done = true;
      this.queue.length = 0;
      // Not awaited: graphql-ws awaits this from its message handler.
      void Promise.resolve(this.source?.return?.()).catch(() => undefined);
    }
  }

  return {
    /** Called from onSubscribe: where this operation's frames go. */
    register(contextValue: object, target: FanoutTarget): void {
      if (options.enabled) targets.set(contextValue, target);
    },

    /** graphql-ws's `subscribe`: shared rendering for shareable documents, graphql's own otherwise. */
    async subscribe(args: ExecutionArgs) {
      const target = targets.get(args.contextValue as object);
      const key = target && shapeKey(args, target.viewer);
      if (!target || !key) return subscribe(args);
      const s = new SharedSubscription(target, args, key);
      // Before the source stream exists: its subscribe resolver reads `push` from the context.
      (args.contextValue as PushCapableContext).push = s.push.bind(s);
      const stream = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
      s.source = stream[Symbol.asyncIterator]();
      return s;
    },
  };
}

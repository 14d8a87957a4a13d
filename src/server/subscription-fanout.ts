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

interface DocumentShape {
  /** The document with the root field's arguments removed: what decides how an event renders. */
  text: string;
  /** Variables used below the root field (root arguments do not affect rendering). */
  variables: string[];
  identity: boolean;
}

type Rendered = { json: string; result?: undefined } | { json?: undefined; result: ExecutionResult };
interface Rendering { promise: Promise<Rendered>; value?: Rendered }

/** A document is shareable when it subscribes to exactly one field from SHARED_FIELDS. */
function analyse(document: DocumentNode, operationName: string | null | undefined): DocumentShape | null {
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
  return { text: print(below), variables: [...variables].sort(), identity };
}

export function createSubscriptionFanout(options: {
  /** A fresh context per render: fresh DataLoaders, so an event never reads through a stale cache. */
  contextFor(viewer: Viewer | null): unknown;
  enabled: boolean;
}) {
  const targets = new WeakMap<object, FanoutTarget>();
  // Parsed documents are cached and shared by subscribers (ws.ts), so this runs once per document.
  const shapes = new WeakMap<DocumentNode, DocumentShape | null>();
  // Keyed by the event object itself: entries live exactly as long as some stream still holds the
  // event, and a later event (even with the same id) is rendered afresh.
  const renders = new WeakMap<object, Map<string, Rendering>>();

  function shapeKey(args: ExecutionArgs, viewer: Viewer | null): string | null {
    let shape = shapes.get(args.document);
    if (shape === undefined) shapes.set(args.document, (shape = analyse(args.document, args.operationName)));
    if (!shape) return null;
    const role = viewer?.role ?? 'ANONYMOUS';
    const who = shape.identity || !STAFF.has(role) ? String(viewer?.id ?? '') : '';
    const vars = JSON.stringify(shape.variables.map((v) => args.variableValues?.[v] ?? null));
    return `${shape.text}\u0000${vars}\u0000${role}\u0000${who}`;
  }

  /**
   * The shared render of `event` for `key`: a settled entry is returned synchronously, since at
   * 10,000 subscribers even one extra microtask hop each shows in the delivery time.
   */
  function renderOnce(args: ExecutionArgs, key: string, viewer: Viewer | null, event: unknown): Rendering {
    const run = (): Rendering => {
      const entry: Rendering = {
        promise: Promise.resolve(execute({ ...args, rootValue: event, contextValue: options.contextFor(viewer) })).then((result: ExecutionResult) =>
          // Results with errors go through graphql-ws's own path, so they are formatted as before.
          (entry.value = result.errors ? { result } : { json: JSON.stringify(result) })),
      };
      return entry;
    };
    if (typeof event !== 'object' || event === null) return run();
    let byShape = renders.get(event);
    if (!byShape) renders.set(event, (byShape = new Map()));
    let rendering = byShape.get(key);
    if (!rendering) byShape.set(key, (rendering = run()));
    return rendering;
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
      const stream = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
      const source = stream[Symbol.asyncIterator]();
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        // Not awaited: a generator parked on its next event only runs `finally` when one arrives,
        // and graphql-ws awaits this from its message handler.
        void Promise.resolve(source.return?.()).catch(() => undefined);
      };
      // A hand-written iterator rather than an async generator: return() must take effect while
      // next() is still waiting for an event (an async generator would queue it behind that wait).
      const iterator: AsyncIterableIterator<ExecutionResult> & Required<Pick<AsyncIterator<ExecutionResult>, 'return' | 'throw'>> = {
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next() {
          while (!done) {
            const step = await source.next(); // a thrown error (FORBIDDEN, expired token) ends it as before
            if (step.done || done) break;
            const rendering = renderOnce(args, key, target.viewer, step.value);
            const r = rendering.value ?? (await rendering.promise);
            if (done) break;
            if (r.result) return { done: false, value: r.result };
            if (target.socket.readyState === WebSocket.OPEN) {
              target.socket.send(`{"id":${JSON.stringify(target.id)},"type":"next","payload":${r.json}}`);
            }
          }
          finish();
          return { done: true, value: undefined };
        },
        async return() {
          finish();
          return { done: true, value: undefined };
        },
        async throw(err: unknown) {
          finish();
          throw err;
        },
      };
      return iterator;
    },
  };
}

import type http from 'node:http';
import { type DocumentNode, type GraphQLFormattedError, type GraphQLSchema, GraphQLError, parse, specifiedRules, validate } from 'graphql';
import { type WebSocket, WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { AppContext } from '../context/app-context';
import { createRequestContext, resolveViewer } from '../context/request-context';
import type { Viewer } from '../modules/users/user.service';
import { createOperationAnalyzer, depthRule } from './limits';
import { admitOperation } from './rate-limit';
import type { Credential } from '../modules/access/scopes';
import { createSubscriptionFanout } from './subscription-fanout';
import { createPersistedQueries, type PersistedQueries } from './persisted-queries';
import { createSocketExpiry } from './socket-expiry';

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

type Extra = {
  viewer?: Viewer | null;
  expiresAt?: Date | null;
  credential?: Credential;
  clientIp?: string | null;
};

/** A token may come as `{ authorization: "Bearer …" }` (like the HTTP header) or `{ token }`. */
function tokenFrom(params: Record<string, unknown> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization ?? params?.token;
  return typeof value === 'string' ? value : undefined;
}

export interface WebSocketOptions {
  /** Render broadcast subscriptions once per shape rather than per subscriber (subscription-fanout.ts); off only to compare. */
  sharedExecution?: boolean;
  /** The HTTP server's, so a query registered over one transport is known to the other. */
  persistedQueries?: PersistedQueries;
}

const DOCUMENT_CACHE_SIZE = 500;

/** Sockets pinged by the last heartbeat that have not answered yet. */
const unanswered = new WeakSet<WebSocket>();
function answered(this: WebSocket): void {
  unanswered.delete(this);
}

/**
 * Dead peers (a laptop lid closed, a NAT that forgot the flow) are found by ping: a socket that
 * has not answered the previous heartbeat's ping by the next one is terminated. As graphql-ws's
 * own keep-alive, but with one timer for the process instead of an interval and a timeout per
 * socket, which at ten thousand dashboards is megabytes.
 */
function startHeartbeat(wss: WebSocketServer, everyMs: number): NodeJS.Timeout {
  wss.on('connection', (socket) => socket.on('pong', answered));
  return setInterval(() => {
    for (const socket of wss.clients) {
      if (unanswered.has(socket)) {
        socket.terminate();
        continue;
      }
      unanswered.add(socket);
      socket.ping();
    }
  }, everyMs).unref();
}

/**
 * Dashboards send the same few subscription documents thousands of times. Parsing and validating
 * each once, and sharing the (immutable) AST, saves the CPU and keeps one AST in memory instead of
 * one per subscriber. Bounded: the oldest entry goes first.
 */
function documentCache(schema: GraphQLSchema, rules: typeof specifiedRules) {
  type Entry = { query: string; errors: readonly GraphQLError[] } & ({ document: DocumentNode } | { document?: undefined });
  const cache = new Map<string, Entry>();
  return (query: string) => {
    let entry = cache.get(query);
    if (!entry) {
      try {
        const document = parse(query);
        entry = { query, document, errors: validate(schema, document, rules) };
      } catch (err) {
        entry = { query, errors: [err as GraphQLError] };
      }
      if (cache.size >= DOCUMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(query, entry);
    }
    return entry;
  };
}

/** graphql-ws on the HTTP server's port and path, with the same limits and error format as HTTP. */
export function attachWebSocket(app: AppContext, server: http.Server, schema: GraphQLSchema, formatError: FormatError, options: WebSocketOptions = {}) {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: app.config.limits.maxBodyBytes });
  const rules = [...specifiedRules, depthRule(app.config.limits.maxDepth)];
  const format = (errors: readonly GraphQLError[]) => errors.map((e) => formatError(e.toJSON(), e));
  const documents = documentCache(schema, rules);
  const analyze = createOperationAnalyzer(schema);
  const persisted = options.persistedQueries ?? createPersistedQueries(app.config.persistedQueries);
  const expiry = createSocketExpiry((socket) => socket.close(4401, 'Token expired'));
  const fanout = createSubscriptionFanout({
    enabled: options.sharedExecution ?? true,
    formatResult: (result) => ({ ...result, errors: result.errors && format(result.errors) }),
    // Per render, not per subscriber: the token's expiry is checked by each subscriber's own stream.
    contextFor: (viewer) => createRequestContext(app, viewer, null),
  });

  const cleanup = useServer<Record<string, unknown>, Extra>(
    {
      schema,
      subscribe: (args) => fanout.subscribe(args),
      onClose: (ctx) => expiry.forget(ctx.extra.socket),
      onConnect: async (ctx) => {
        try {
          const { viewer, expiresAt, credential } = await resolveViewer(app, tokenFrom(ctx.connectionParams));
          (ctx.extra as Extra).viewer = viewer;
          (ctx.extra as Extra).expiresAt = expiresAt ?? null;
          (ctx.extra as Extra).credential = credential;
          (ctx.extra as Extra).clientIp = ctx.extra.request?.socket.remoteAddress ?? null;
          // A socket must not outlive the token that opened it.
          if (expiresAt) expiry.watch(ctx.extra.socket, expiresAt);
          // Nor need the token stay in memory for as long as the socket is open.
          for (const key of ['authorization', 'Authorization', 'token']) delete (ctx.connectionParams as Record<string, unknown> | undefined)?.[key];
          // The upgrade request (headers, socket refs) is not needed after the handshake; dropping it
          // saves a few KB per connection, which adds up at 10,000 dashboards.
          (ctx.extra as { request?: unknown }).request = undefined;
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const source = await persisted.resolve(payload);
        if (source.errors) return source.errors;
        const { document, errors, query } = documents(source.query);
        if (!document) return [...errors];
        if (errors.length) return [...errors];
        // graphql-ws keeps the subscribe message for the subscription's lifetime: point it at the
        // cached text, so thousands of dashboards share one copy of the same document.
        if (payload.query === query) (payload as { query: string }).query = query;
        const { viewer = null, expiresAt = null, credential, clientIp } = ctx.extra as Extra;
        const contextValue = createRequestContext(app, viewer, expiresAt, { credential, clientIp });
        // Subscriptions are charged their cost once, when they start, like any other operation.
        const { refusal } = await admitOperation(contextValue, analyze, { document, variables: payload.variables, operationName: payload.operationName }, 'socket');
        if (refusal) return [refusal.error];
        contextValue.rateLimit = null; // charged; the subscription need not carry the receipt while open
        fanout.register(contextValue, { socket: ctx.extra.socket, id, viewer });
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue };
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: format(result.errors) } : undefined,
      onError: (_ctx, _id, _payload, errors) => format(errors),
    },
    wss,
    0, // keep-alive below: one timer for all sockets rather than graphql-ws's two per socket
  );
  const heartbeat = startHeartbeat(wss, app.config.wsKeepAliveMs);

  return {
    async close() {
      expiry.stop();
      clearInterval(heartbeat);
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

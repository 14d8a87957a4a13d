import type http from 'node:http';
import { type GraphQLFormattedError, type GraphQLSchema, GraphQLError, parse, specifiedRules, validate } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { AppContext } from '../context/app-context';
import { createRequestContext, resolveViewer } from '../context/request-context';
import type { Viewer } from '../modules/users/user.service';
import { costError, depthRule, operationCost } from './limits';

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

type Extra = {
  viewer?: Viewer | null;
  expiresAt?: Date | null;
};

/** A token may come as `{ authorization: "Bearer …" }` (like the HTTP header) or `{ token }`. */
function tokenFrom(params: Record<string, unknown> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization ?? params?.token;
  return typeof value === 'string' ? value : undefined;
}

/** graphql-ws on the HTTP server's port and path, with the same limits and error format as HTTP. */
export function attachWebSocket(app: AppContext, server: http.Server, schema: GraphQLSchema, formatError: FormatError) {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: app.config.limits.maxBodyBytes });
  const rules = [...specifiedRules, depthRule(app.config.limits.maxDepth)];
  const format = (errors: readonly GraphQLError[]) => errors.map((e) => formatError(e.toJSON(), e));

  const cleanup = useServer<Record<string, unknown>, Extra>(
    {
      schema,
      onConnect: async (ctx) => {
        try {
          const { viewer, expiresAt } = await resolveViewer(app, tokenFrom(ctx.connectionParams));
          (ctx.extra as Extra).viewer = viewer;
          (ctx.extra as Extra).expiresAt = expiresAt ?? null;
          if (expiresAt) {
            // A socket must not outlive the token that opened it.
            const ms = Math.max(0, expiresAt.getTime() - Date.now());
            setTimeout(() => ctx.extra.socket.close(4401, 'Token expired'), Math.min(ms, 2 ** 31 - 1)).unref();
          }
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err as GraphQLError];
        }
        const errors = validate(schema, document, rules);
        if (errors.length) return errors;
        const cost = operationCost(schema, document, payload.variables ?? undefined, payload.operationName);
        if (cost > app.config.limits.maxCost) return [costError(cost, app.config.limits.maxCost)];
        return {
          schema,
          document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: createRequestContext(app, (ctx.extra as Extra).viewer ?? null, (ctx.extra as Extra).expiresAt ?? null),
        };
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: format(result.errors) } : undefined,
      onError: (_ctx, _id, _payload, errors) => format(errors),
    },
    wss,
  );

  return {
    async close() {
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { type DocumentNode, GraphQLError, Kind, type OperationDefinitionNode, execute } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import type { RequestContext } from '../context/request-context';
import { missingScope, missingScopeError } from '../modules/access/scopes';
import { unauthenticated } from '../shared/errors';
import { currentQueryScope } from '../shared/db/query-counter';
import type { BudgetKey, BudgetStatus } from '../shared/rate-limiter';
import { toGraphQLError } from './errors';
import { costError, createOperationAnalyzer, type OperationAnalyzer } from './limits';

/** Why an operation was not run, and the HTTP answer that goes with it. */
export interface Refusal {
  error: GraphQLError;
  httpStatus: number;
  retryAfterSeconds?: number;
}

export function budgetKey(ctx: RequestContext): BudgetKey {
  return ctx.viewer ? { kind: 'user', userId: ctx.viewer.id } : { kind: 'ip', ip: ctx.clientIp ?? 'unknown' };
}

function rateLimitedError(cost: number, status: BudgetStatus, retryAfter: number): GraphQLError {
  return new GraphQLError(
    `Rate limit exceeded: this operation costs ${cost} and ${status.remaining} of ${status.limit} points remain until ${status.resetAt.toISOString()}; retry after ${retryAfter} s`,
    { extensions: { code: 'RATE_LIMITED', retryAfter, cost, limit: status.limit, remaining: status.remaining, resetAt: status.resetAt.toISOString() } },
  );
}

/**
 * Admission before anything runs, the same over HTTP and WebSocket: the per-operation cost ceiling,
 * the token's scopes, then the caller's budget, charged the operation's cost. A refused operation
 * is charged nothing. `dryRun` (HTTP only, where nothing else of the operation runs) charges nothing.
 */
export async function admitOperation(
  ctx: RequestContext,
  analyze: OperationAnalyzer,
  op: { document: DocumentNode; variables?: Record<string, unknown> | null; operationName?: string | null },
  transport: 'http' | 'socket',
): Promise<{ refusal: Refusal | null; dryRun: boolean }> {
  const analysis = analyze(op.document, op.variables, op.operationName);
  if (!analysis) return { refusal: null, dryRun: false }; // no such operation: execution reports it
  // A socket authenticated once, when it opened: an API token revoked since must not start more.
  if (transport === 'socket' && ctx.credential.kind === 'apiToken' && !(await ctx.services.apiTokens.isActive(ctx.credential.tokenId))) {
    return { refusal: { error: toGraphQLError(unauthenticated('This API token has been revoked or has expired')), httpStatus: 401 }, dryRun: false };
  }
  const { cost } = analysis;
  const limiter = ctx.app.rateLimiter;
  const key = budgetKey(ctx);
  const refuse = async (error: GraphQLError, httpStatus: number) => {
    ctx.rateLimit = { cost, status: await limiter.peek(key) };
    return { refusal: { error, httpStatus }, dryRun: false };
  };
  const { maxCost } = ctx.app.config.limits;
  if (cost > maxCost) return refuse(costError(cost, maxCost), 400);
  const scope = missingScope(ctx.credential, analysis.scopes);
  if (scope) return refuse(toGraphQLError(missingScopeError(scope)), 403);
  // More than the whole budget could never run, however long the caller waited.
  if (cost > limiter.limitFor(key)) return refuse(costError(cost, limiter.limitFor(key)), 400);
  if (analysis.dryRun && transport === 'http') {
    ctx.rateLimit = { cost, status: await limiter.peek(key) };
    return { refusal: null, dryRun: true };
  }
  // Every operation costs at least a point, as on GitHub, so even trivial ones are bounded.
  const charge = await limiter.charge(key, Math.max(1, cost));
  ctx.rateLimit = { cost, status: charge.status };
  if (charge.ok) return { refusal: null, dryRun: false };
  return {
    refusal: { error: rateLimitedError(cost, charge.status, charge.retryAfterSeconds), httpStatus: 429, retryAfterSeconds: charge.retryAfterSeconds },
    dryRun: false,
  };
}

/** Apollo reads the HTTP status and headers of a request-level error from `extensions.http` and strips it from the body. */
function withHttp(refusal: Refusal): GraphQLError {
  const headers = new HeaderMap();
  if (refusal.retryAfterSeconds !== undefined) headers.set('retry-after', String(refusal.retryAfterSeconds));
  const { error } = refusal;
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: refusal.httpStatus, headers } } });
}

/** The operation with only its `rateLimit` root fields: what a dry run answers. */
function onlyRateLimit(document: DocumentNode, operation: OperationDefinitionNode): DocumentNode {
  const selections = operation.selectionSet.selections.filter((s) => s.kind === Kind.FIELD && s.name.value === 'rateLimit');
  return { ...document, definitions: document.definitions.map((d) => (d === operation ? { ...operation, selectionSet: { ...operation.selectionSet, selections } } : d)) };
}

/**
 * Cost, scopes and budget for every HTTP operation, and `extensions.cost` (GitHub's figures: the
 * requested cost, the budget's limit, what remains and when it resets) on every response.
 */
export function operationLimitsPlugin(schema: GraphQLSchema, exposeSqlCount: boolean): ApolloServerPlugin<RequestContext> {
  const analyze = createOperationAnalyzer(schema);
  return {
    async requestDidStart() {
      let dryRun = false;
      return {
        async didResolveOperation({ request, document, contextValue }) {
          const admission = await admitOperation(contextValue, analyze, { document, variables: request.variables, operationName: request.operationName }, 'http');
          dryRun = admission.dryRun;
          if (admission.refusal) throw withHttp(admission.refusal);
        },
        async responseForOperation({ request, document, operation, contextValue }) {
          if (!dryRun) return null;
          const result = await execute({ schema, document: onlyRateLimit(document, operation), contextValue, variableValues: request.variables, operationName: request.operationName });
          return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data: result.data } } };
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          // Parse and validation errors come before admission: the budget is still worth reporting.
          const charged = contextValue?.rateLimit;
          const status = charged?.status ?? (contextValue?.app ? await contextValue.app.rateLimiter.peek(budgetKey(contextValue)) : null);
          if (status) {
            // GitHub's headers too, so a client can pace itself without parsing the body.
            response.http.headers.set('x-ratelimit-limit', String(status.limit));
            response.http.headers.set('x-ratelimit-remaining', String(status.remaining));
            response.http.headers.set('x-ratelimit-used', String(status.used));
            response.http.headers.set('x-ratelimit-reset', String(Math.ceil(status.resetAt.getTime() / 1000)));
          }
          result.extensions = {
            ...result.extensions,
            ...(status
              ? { cost: { ...(charged ? { requested: charged.cost } : {}), limit: status.limit, remaining: status.remaining, resetAt: status.resetAt.toISOString() } }
              : {}),
            ...(exposeSqlCount ? { sqlQueries: currentQueryScope()?.count ?? 0 } : {}),
          };
        },
      };
    },
  };
}

import { type DocumentNode, type ExecutionResult, GraphQLError, type GraphQLSchema, execute, printSchema } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { ApolloServerOptionsWithGateway } from '@apollo/server';

type Gateway = ApolloServerOptionsWithGateway<object>['gateway'];
type Executor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>;

/**
 * Executes queries and mutations with plans compiled by graphql-jit instead of graphql-js's
 * interpreter, cached per parsed document. Apollo Server has no executor option; its `gateway`
 * hook (load() → { schema, executor }) is the documented way to supply one, and it keeps the whole
 * request pipeline: the document cache, validation rules, plugins, formatError, HTTP status
 * mapping. What it gives up: `willResolveField` plugin hooks and incremental delivery (@defer),
 * neither of which this server uses. Subscriptions run over graphql-ws with the schema itself.
 *
 * Anything the compiler declines, and requests whose variables fail coercion (graphql-js words
 * those errors the way Apollo recognises as BAD_USER_INPUT), run through graphql-js `execute`.
 */
export function compiledExecution(schema: GraphQLSchema, maxCachedDocuments = 1000): Gateway {
  // Apollo's document store hands back the same DocumentNode for the same query text.
  const plans = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  let cached = 0;

  function plan(document: DocumentNode, operationName: string | null): CompiledQuery | null {
    let byName = plans.get(document);
    if (!byName) {
      // The WeakMap forgets documents Apollo evicts; the count only bounds compilation of
      // endless distinct documents when no document store keeps them alive.
      if (cached >= maxCachedDocuments) return null;
      plans.set(document, (byName = new Map()));
      cached++;
    }
    const key = operationName ?? '';
    if (!byName.has(key)) {
      const compiled = compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
      byName.set(key, isCompiledQuery(compiled) ? compiled : null);
    }
    return byName.get(key)!;
  }

  const interpret = (document: DocumentNode, operationName: string | null, context: unknown, variables: Record<string, unknown> | undefined) =>
    execute({ schema, document, operationName, contextValue: context, variableValues: variables });

  const executor: Executor = async ({ document, operation, operationName, context, request }) => {
    const kind = operation?.operation;
    const compiled = kind === 'query' || kind === 'mutation' ? plan(document, operationName) : null;
    if (!compiled) return interpret(document, operationName, context, request.variables) as Promise<ExecutionResult>;
    const result = await compiled.query(undefined, context, request.variables);
    // No data at all means nothing ran: the variables were refused before execution.
    if (result.errors?.length && result.data === undefined) return interpret(document, operationName, context, request.variables);
    return result.errors?.length ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };

  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async stop() {},
  };
}

/**
 * graphql-jit's errors leave `extensions` undefined when the original error has none, where
 * graphql-js sets `{}`; Apollo's error formatting reads `extensions.code` and would turn every
 * domain error into INTERNAL_SERVER_ERROR. Rebuilds them the way graphql-js builds a located error.
 */
function asGraphQLError(e: GraphQLError): GraphQLError {
  const error = new GraphQLError(e.message, { path: e.path, originalError: e.originalError ?? undefined, extensions: e.extensions ?? undefined });
  if (e.locations) (error as { locations?: GraphQLError['locations'] }).locations = e.locations;
  return error;
}

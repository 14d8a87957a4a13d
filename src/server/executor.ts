import { type DocumentNode, type ExecutionResult, GraphQLError, type GraphQLSchema, execute, printSchema } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { ApolloServerOptionsWithGateway } from '@apollo/server';

type Gateway = ApolloServerOptionsWithGateway<object>['gateway'];
type Executor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>;

/**
 * Executes queries and mutations with plans compiled by graphql-jit instead of graphql-js's
 * interpreter, cached per parsed document. Apollo Server has no executor option; its `gateway`
 * hook (load() → { executor }, the schema through onSchemaLoadOrUpdate) is the documented way to
 * supply one, and it keeps the whole request pipeline: the document cache, validation rules,
 * plugins, formatError, HTTP status mapping. It gives up incremental delivery (@defer), which
 * this server does not offer. Subscriptions run over graphql-ws with `schema`, untouched.
 *
 * Apollo wraps every resolver of the schema it serves (`served`, a second build of the same
 * schema) so that plugins' willResolveField hooks see each field; the cache-control plugin collects
 * its hints that way. Once a response can no longer be cached whatever its fields say (maxAge 0, as
 * for every POST), those hooks have nothing to add, and plans compiled against the unwrapped
 * `schema` read plain fields directly instead of calling a wrapper per field and item.
 *
 * Anything the compiler declines, and requests whose variables fail coercion (graphql-js words
 * those errors the way Apollo recognises as BAD_USER_INPUT), run through graphql-js `execute`.
 */
export function compiledExecution(schema: GraphQLSchema, served: GraphQLSchema, maxCachedDocuments = 1000): Gateway {
  const plain = planner(schema, maxCachedDocuments);
  const instrumented = planner(served, maxCachedDocuments);

  const executor: Executor = async ({ document, operation, operationName, context, request, overallCachePolicy }) => {
    const plans = (overallCachePolicy as { maxAge?: number }).maxAge === 0 ? plain : instrumented;
    const kind = operation?.operation;
    const compiled = kind === 'query' || kind === 'mutation' ? plans.plan(document, operationName) : null;
    if (!compiled) return plans.interpret(document, operationName, context, request.variables);
    const result = await compiled.query(undefined, context, request.variables);
    // No data at all means nothing ran: the variables were refused before execution.
    if (result.errors?.length && result.data === undefined) return plans.interpret(document, operationName, context, request.variables);
    return result.errors?.length ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };

  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: served, coreSupergraphSdl: printSchema(served) });
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

function planner(schema: GraphQLSchema, maxCachedDocuments: number) {
  // Apollo's document store hands back the same DocumentNode for the same query text; the oldest
  // plan goes first when there are more documents than that.
  const plans = new Map<DocumentNode, Map<string, CompiledQuery | null>>();
  return {
    plan(document: DocumentNode, operationName: string | null): CompiledQuery | null {
      let byName = plans.get(document);
      if (!byName) {
        if (plans.size >= maxCachedDocuments) plans.delete(plans.keys().next().value!);
        plans.set(document, (byName = new Map()));
      }
      const key = operationName ?? '';
      if (!byName.has(key)) {
        const compiled = compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
        byName.set(key, isCompiledQuery(compiled) ? compiled : null);
      }
      return byName.get(key)!;
    },
    interpret(document: DocumentNode, operationName: string | null, context: unknown, variables: Record<string, unknown> | undefined) {
      return execute({ schema, document, operationName, contextValue: context, variableValues: variables }) as Promise<ExecutionResult>;
    },
  };
}

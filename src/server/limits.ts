import { type DocumentNode, GraphQLError, type GraphQLSchema, getNamedType, getNullableType, GraphQLList } from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { DEFAULT_PAGE_SIZE } from '../shared/pagination';

/**
 * GitHub's method: a connection costs its page size times what each item asks for, so the cost
 * is known before execution and grows with how many rows the query can touch.
 */
const connectionEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const named = getNamedType(field.type);
  if (named.name.endsWith('Connection')) {
    const size = Number(args.first ?? args.last ?? DEFAULT_PAGE_SIZE);
    return 1 + Math.max(1, size) * Math.max(1, childComplexity);
  }
  if (getNullableType(field.type) instanceof GraphQLList && Array.isArray(args.ids)) {
    return 1 + args.ids.length * Math.max(1, childComplexity);
  }
  return undefined;
};

/** Inside a connection, `edges`/`nodes` pass their items' cost through without multiplying. */
const passThroughEstimator: ComplexityEstimator = ({ field, type, childComplexity }) => {
  if (type.name.endsWith('Connection') && (field.name === 'edges' || field.name === 'nodes')) return childComplexity;
  if (type.name.endsWith('Edge') && field.name === 'node') return childComplexity;
  return undefined;
};

export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
): number {
  return getComplexity({
    schema,
    query: document,
    variables,
    operationName: operationName ?? undefined,
    estimators: [passThroughEstimator, connectionEstimator, simpleEstimator({ defaultComplexity: 1 })],
  });
}

export function costError(cost: number, limit: number): GraphQLError {
  return new GraphQLError(
    `Query cost ${cost} exceeds the limit of ${limit}; ask for smaller pages or fewer nested connections`,
    { extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_COSTLY', cost, limit } },
  );
}

export function depthRule(maxDepth: number) {
  return maxDepthRule({
    n: maxDepth,
    ignoreIntrospection: true,
    flattenFragments: true,
    exposeLimits: true,
    // Report through validation (not a throw) so the client gets a normal BAD_USER_INPUT error.
    propagateOnRejection: false,
    onReject: [
      (ctx, err) =>
        ctx?.reportError(
          new GraphQLError(err.message.replace(/^Syntax Error: /, ''), {
            extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_DEEP', limit: maxDepth },
          }),
        ),
    ],
  });
}

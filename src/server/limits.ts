import {
  type ASTNode, type DocumentNode, type FieldNode, type FragmentDefinitionNode, GraphQLBoolean, GraphQLError, GraphQLList, type GraphQLSchema,
  Kind, type OperationDefinitionNode, type SelectionNode, type ValueNode, getNamedType, getNullableType, getOperationAST, valueFromAST, visit,
} from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { DEFAULT_PAGE_SIZE } from '../shared/pagination';
import { type Scope, scopeForRootField } from '../modules/access/scopes';

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

const COST_ARGUMENTS = new Set(['first', 'last', 'ids']);
const COSTS_PER_DOCUMENT = 64;

/** What admission needs to know about an operation, computed once per document (and cost-relevant variables). */
export interface OperationAnalysis {
  cost: number;
  /** Token scopes its root fields need. */
  scopes: Scope[];
  /** `rateLimit(dryRun: true)`: report the cost, charge nothing, run nothing else. */
  dryRun: boolean;
}

interface OperationShape {
  operation: OperationDefinitionNode;
  /** The variables the cost can depend on: page sizes, id lists, @skip/@include conditions. */
  costVariables: string[];
  scopes: Scope[];
  dryRunArgument: ValueNode | null;
  costs: Map<string, number>;
}

/** Variables under `first`/`last`/`ids` arguments and in directives, anywhere in the document. */
function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const collect = (node: ASTNode) => visit(node, { Variable: (v) => void names.add(v.name.value) });
  visit(document, {
    Field: (field) => field.arguments?.forEach((a) => COST_ARGUMENTS.has(a.name.value) && collect(a.value)),
    Directive: (directive) => void collect(directive),
  });
  return [...names].sort();
}

/** Root fields of the operation, through fragments spread at the root. */
function rootFields(document: DocumentNode, selections: readonly SelectionNode[], out: FieldNode[] = []): FieldNode[] {
  for (const s of selections) {
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) rootFields(document, s.selectionSet.selections, out);
    else {
      const fragment = document.definitions.find((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === s.name.value);
      if (fragment) rootFields(document, fragment.selectionSet.selections, out);
    }
  }
  return out;
}

function shapeOf(document: DocumentNode, operation: OperationDefinitionNode): OperationShape {
  const fields = rootFields(document, operation.selectionSet.selections);
  const rootType = operation.operation === 'query' ? 'Query' : operation.operation === 'mutation' ? 'Mutation' : 'Subscription';
  const scopes = new Set<Scope>();
  for (const f of fields) {
    const scope = scopeForRootField(rootType, f.name.value);
    if (scope) scopes.add(scope);
  }
  const rateLimit = rootType === 'Query' ? fields.find((f) => f.name.value === 'rateLimit') : undefined;
  return {
    operation,
    costVariables: costVariables(document),
    scopes: [...scopes],
    dryRunArgument: rateLimit?.arguments?.find((a) => a.name.value === 'dryRun')?.value ?? null,
    costs: new Map(),
  };
}

/**
 * Cost, scopes and dry-run flag for an operation, on the hot path of every request. Keyed by the
 * parsed document, which Apollo's document store and the WebSocket document cache already share
 * between requests (and which a WeakMap lets go with them); per document, costs are kept per value
 * of the few variables that can change them, at most COSTS_PER_DOCUMENT of them, oldest dropped
 * first. A feed paged with `after` therefore costs one lookup per page, not a walk of the query.
 */
export function createOperationAnalyzer(schema: GraphQLSchema) {
  const shapes = new WeakMap<DocumentNode, Map<string, OperationShape | null>>();
  return (document: DocumentNode, variables: Record<string, unknown> | undefined | null, operationName: string | undefined | null): OperationAnalysis | null => {
    let perOperation = shapes.get(document);
    if (!perOperation) shapes.set(document, (perOperation = new Map()));
    const opKey = operationName ?? '';
    let shape = perOperation.get(opKey);
    if (shape === undefined) {
      const operation = getOperationAST(document, operationName);
      shape = operation ? shapeOf(document, operation) : null;
      perOperation.set(opKey, shape);
    }
    if (!shape) return null;
    const costKey = shape.costVariables.length ? JSON.stringify(shape.costVariables.map((n) => variables?.[n] ?? null)) : '';
    let cost = shape.costs.get(costKey);
    if (cost === undefined) {
      cost = operationCost(schema, document, variables ?? undefined, operationName);
      if (shape.costs.size >= COSTS_PER_DOCUMENT) shape.costs.delete(shape.costs.keys().next().value!);
      shape.costs.set(costKey, cost);
    }
    const dryRun = shape.dryRunArgument ? valueFromAST(shape.dryRunArgument, GraphQLBoolean, variables ?? undefined) === true : false;
    return { cost, scopes: shape.scopes, dryRun };
  };
}

export type OperationAnalyzer = ReturnType<typeof createOperationAnalyzer>;

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

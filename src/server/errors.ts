import { type GraphQLFormattedError, GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ArgumentValidationError, AuthenticationError, AuthorizationError } from 'type-graphql';
import { DomainError, type ErrorCode } from '../shared/errors';
import type { Logger } from '../shared/logger';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401, RATE_LIMITED: 429, OVERLOADED: 503 };

/** Apollo's request-level codes, folded into our closed set; the original stays in `reason`. */
const APOLLO_INPUT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);

export function toGraphQLError(err: DomainError): GraphQLError {
  return new GraphQLError(err.message, {
    extensions: { code: err.code, ...err.details, ...(HTTP_STATUS[err.code] ? { http: { status: HTTP_STATUS[err.code] } } : {}) },
  });
}

/**
 * Errors thrown while a subscription's source stream is iterated bypass the resolver error path
 * (graphql-ws reports them as bare messages), so streams convert domain errors on the way out.
 */
export function withGraphQLErrors<T>(source: AsyncIterable<T>): AsyncIterableIterator<T> {
  return new GraphQLErrorStream(source[Symbol.asyncIterator]());
}

const asGraphQLError = (err: unknown): never => {
  throw err instanceof DomainError ? toGraphQLError(err) : err;
};

/**
 * A class rather than an async generator or an object of closures: a subscription holds this for
 * as long as it is open, and at thousands of subscribers a parked frame or four closures each add
 * up; this is one small object with its methods on the prototype.
 */
class GraphQLErrorStream<T> implements AsyncIterableIterator<T> {
  constructor(private readonly it: AsyncIterator<T>) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    return this.it.next().catch(asGraphQLError);
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    return this.it.return ? this.it.return(value).catch(asGraphQLError) : Promise.resolve({ done: true, value: value as T });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    return this.it.throw ? this.it.throw(err).catch(asGraphQLError) : Promise.reject(err);
  }
}

/**
 * The one place that maps errors to `extensions.code`. Anything unexpected becomes
 * INTERNAL_SERVER_ERROR with a generic message; the detail goes to the log, never to the client.
 */
export function createFormatError(log: Logger, exposeDetails: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
    if (original instanceof DomainError) {
      return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
    }
    if (original instanceof ArgumentValidationError) {
      const fields = original.extensions.validationErrors as Array<{ property: string; constraints?: Record<string, string> }>;
      return {
        ...base,
        message: 'Invalid input: ' + fields.map((f) => Object.values(f.constraints ?? {}).join(', ')).join('; '),
        extensions: { code: 'BAD_USER_INPUT', fields: fields.map((f) => ({ field: f.property, problems: Object.values(f.constraints ?? {}) })) },
      };
    }
    if (original instanceof AuthenticationError) return { ...base, extensions: { code: 'UNAUTHENTICATED' } };
    if (original instanceof AuthorizationError) return { ...base, extensions: { code: 'FORBIDDEN' } };
    const code = formatted.extensions?.code as string | undefined;
    if (code && APOLLO_INPUT_CODES.has(code)) {
      const { stacktrace: _s, ...rest } = formatted.extensions ?? {};
      return { ...base, extensions: { ...rest, code: 'BAD_USER_INPUT', ...(code !== 'BAD_USER_INPUT' ? { reason: code } : {}) } };
    }
    // The two persisted-query codes are protocol signals: APQ clients key on them to send the full query.
    if (code && ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'RATE_LIMITED', 'OVERLOADED', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED'].includes(code)) {
      const { stacktrace: _s, ...rest } = formatted.extensions ?? {};
      return { ...base, extensions: rest };
    }
    log.error({ err: original }, 'unexpected error');
    return {
      ...base,
      message: exposeDetails ? formatted.message : 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR', ...(exposeDetails ? { stacktrace: formatted.extensions?.stacktrace } : {}) },
    };
  };
}

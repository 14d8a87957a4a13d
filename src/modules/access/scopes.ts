import { DomainError } from '../../shared/errors';

export const SCOPES = ['read', 'write', 'moderate'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * How the caller proved who they are. A session (from `logIn`/`signUp`) has every power of the
 * account's role; an API token only those its scopes name, whatever the account's role.
 */
export type Credential =
  | { kind: 'anonymous' }
  | { kind: 'session' }
  | { kind: 'apiToken'; tokenId: number; scopes: readonly Scope[] };

export const ANONYMOUS: Credential = { kind: 'anonymous' };
export const SESSION: Credential = { kind: 'session' };

/** The first scope in `required` that the credential lacks; sessions and anonymous callers lack none (roles decide). */
export function missingScope(credential: Credential, required: Iterable<Scope>): Scope | null {
  if (credential.kind !== 'apiToken') return null;
  for (const scope of required) if (!credential.scopes.includes(scope)) return scope;
  return null;
}

export function missingScopeError(scope: Scope): DomainError {
  // Named as the schema's ApiTokenScope enum names it, which is what the integrator asked for.
  const name = scope.toUpperCase();
  return new DomainError('FORBIDDEN', `This API token lacks the ${name} scope this operation needs`, { reason: 'MISSING_SCOPE', scope: name });
}

export const sessionRequired = () =>
  new DomainError('FORBIDDEN', 'API tokens are managed with a session (logIn), not with another API token', {
    reason: 'SESSION_REQUIRED',
  });

/**
 * Root fields that act as (or show what only) a moderator or admin may. A token needs `moderate`
 * for them on top of the account's role; a unit test keeps this list in step with the schema.
 */
export const STAFF_ROOT_FIELDS: ReadonlySet<string> = new Set([
  'Query.moderationQueue',
  'Query.moderationPolicy',
  'Mutation.moderate',
  'Mutation.resolveAppeal',
  'Mutation.setModerationPolicy',
  'Mutation.setUserRole',
  'Subscription.moderationVerdicts',
]);

/** Fields any caller may use whatever its scopes: introspection, and asking about one's own budget. */
const FREE_ROOT_FIELDS: ReadonlySet<string> = new Set(['Query.rateLimit']);

/** The scope a token needs for one root field of an operation, or null when none is needed. */
export function scopeForRootField(rootType: 'Query' | 'Mutation' | 'Subscription', field: string): Scope | null {
  const coordinate = `${rootType}.${field}`;
  if (field.startsWith('__') || FREE_ROOT_FIELDS.has(coordinate)) return null;
  if (STAFF_ROOT_FIELDS.has(coordinate)) return 'moderate';
  return rootType === 'Mutation' ? 'write' : 'read';
}

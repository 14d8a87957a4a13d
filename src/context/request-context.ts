import type { AppContext } from './app-context';
import { createLoaders, type Loaders } from './loaders';
import { services, type Services } from './services';
import { autoCommit, inTransaction } from '../shared/db/unit-of-work';
import { unauthenticated } from '../shared/errors';
import { bearerToken } from '../modules/users/auth';
import type { Viewer } from '../modules/users/user.service';
import { ANONYMOUS, type Credential, SESSION } from '../modules/access/scopes';
import { TOKEN_PREFIX } from '../modules/access/api-token.service';
import type { BudgetStatus } from '../shared/rate-limiter';

/** Per GraphQL operation: who is asking, services for reads, fresh DataLoaders, and `mutate`. */
export interface RequestContext {
  app: AppContext;
  viewer: Viewer | null;
  /** When the viewer's token expires; long-lived subscriptions check it per event. */
  tokenExpiresAt: Date | null;
  /** A session, an API token (with its scopes) or nobody. */
  credential: Credential;
  /** The caller's address, which budgets anonymous calls. */
  clientIp: string | null;
  /** The budget after this operation was charged; set before execution. */
  rateLimit: { cost: number; status: BudgetStatus } | null;
  services: Services;
  loaders: Loaders;
  /** Runs a mutation's work in one transaction; events it queued are published after commit. */
  mutate<T>(fn: (s: Services) => Promise<T>): Promise<T>;
  /**
   * graphql-ws builds the context once per subscription, so each event would otherwise read
   * through the first event's loader cache and see stale rows.
   */
  refreshLoaders(): void;
  /**
   * Set by the WebSocket layer on subscriptions it renders once per shape
   * (src/server/subscription-fanout.ts): a caught-up stream may hand live events here
   * synchronously instead of yielding them. False: the subscriber is gone; yield as usual.
   */
  push?: (event: unknown) => boolean;
}

/**
 * A class rather than an object literal with getters and closures: a subscription keeps its
 * context for as long as it is open, and an object literal that gains properties later falls into
 * dictionary mode (most of a kilobyte each). With fixed fields and methods on the prototype, ten
 * thousand open dashboards keep ten thousand small objects.
 */
class OperationContext implements RequestContext {
  readonly app: AppContext;
  viewer: Viewer | null;
  tokenExpiresAt: Date | null;
  credential: Credential;
  clientIp: string | null;
  rateLimit: RequestContext['rateLimit'];
  push: RequestContext['push'];
  // Created on first use: most subscriptions never touch services or loaders (shared renders use
  // contexts of their own), so at thousands of dashboards eager DataLoaders would be most of the
  // memory per connection.
  private read: Services | undefined;
  private cachedLoaders: Loaders | undefined;

  constructor(app: AppContext, viewer: Viewer | null, tokenExpiresAt: Date | null, caller: { credential?: Credential; clientIp?: string | null }) {
    this.app = app;
    this.viewer = viewer;
    this.tokenExpiresAt = tokenExpiresAt;
    this.credential = caller.credential ?? (viewer ? SESSION : ANONYMOUS);
    this.clientIp = caller.clientIp ?? null;
    this.rateLimit = null;
    this.push = undefined;
    this.read = undefined;
    this.cachedLoaders = undefined;
  }

  private get options() {
    return { automaticModeration: this.app.inference !== null, recommender: this.app.recommender, feedCatchUpMs: this.app.config.feed.catchUpMs };
  }

  get services(): Services {
    return (this.read ??= services(autoCommit(this.app.db.manager), this.app.pubSub.pubSub, this.options));
  }

  get loaders(): Loaders {
    return (this.cachedLoaders ??= createLoaders(this.services, this.viewer));
  }

  set loaders(value: Loaders) {
    this.cachedLoaders = value;
  }

  async mutate<T>(fn: (s: Services) => Promise<T>): Promise<T> {
    const { app } = this;
    const result = await inTransaction(app.db, (uow) => fn(services(uow, app.pubSub.pubSub, this.options)), (err) => app.log.error({ err }, 'after-commit hook failed'));
    // Rows changed: anything cached before the write is stale for the rest of this operation.
    this.refreshLoaders();
    return result;
  }

  refreshLoaders(): void {
    this.cachedLoaders = undefined;
  }
}

export function createRequestContext(
  app: AppContext,
  viewer: Viewer | null,
  tokenExpiresAt: Date | null = null,
  caller: { credential?: Credential; clientIp?: string | null } = {},
): RequestContext {
  return new OperationContext(app, viewer, tokenExpiresAt, caller);
}

/**
 * Resolves the viewer from a token. The user row is re-read so a changed role or a deleted
 * account takes effect at once rather than when the token expires.
 */
export async function resolveViewer(
  app: AppContext,
  authorization: string | undefined | null,
): Promise<{ viewer: Viewer | null; expiresAt?: Date; credential: Credential }> {
  const token = bearerToken(authorization);
  if (!token) return { viewer: null, credential: ANONYMOUS };
  if (token.startsWith(TOKEN_PREFIX)) {
    const { viewer, credential, expiresAt } = await services(autoCommit(app.db.manager), app.pubSub.pubSub).apiTokens.authenticate(token);
    return { viewer, credential, expiresAt: expiresAt ?? undefined };
  }
  const claims = await app.tokens.verify(token);
  const [user] = await services(autoCommit(app.db.manager), app.pubSub.pubSub).users.byIds([claims.userId]);
  if (!user) throw unauthenticated('This account no longer exists');
  return { viewer: { id: user.id, role: user.role, handle: user.handle }, expiresAt: claims.expiresAt, credential: SESSION };
}

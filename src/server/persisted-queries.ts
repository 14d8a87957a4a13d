import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PersistedQueryOptions } from '@apollo/server';
import { GraphQLError } from 'graphql';
import Redis from 'ioredis';
import { closeRedis } from '../shared/redis';
import type { Config } from '../config';

/**
 * Persisted queries, shared by HTTP (Apollo's `persistedQueries`) and WebSocket (graphql-ws):
 * - `apq`: Apollo's automatic persisted queries. A client sends the SHA-256 of its query; on a
 *   miss (PERSISTED_QUERY_NOT_FOUND) it sends query and hash once, and the server remembers it.
 * - `allowlist`: only the operations of a manifest run (first-party apps); anything else is refused
 *   before it is parsed, whether sent by hash or in full.
 * - `off`: persisted-query requests are refused with PERSISTED_QUERY_NOT_SUPPORTED.
 */
export type PersistedQueryMode = 'off' | 'apq' | 'allowlist';

type Store = NonNullable<PersistedQueryOptions['cache']>;

/** Apollo's persisted-query manifest (what @apollo/generate-persisted-query-manifest writes). */
export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: Array<{ id: string; name: string; type: 'query' | 'mutation' | 'subscription'; body: string }>;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Apollo prefixes its keys in the store (PrefixingKeyValueCache); WebSocket uses the same keys, so both share entries. */
const key = (hash: string) => `apq:${hash}`;

/**
 * The APQ store: least recently used entries go first once the total size of the stored queries
 * passes the bound, so a client registering endless distinct queries cannot exhaust memory.
 * Per process: a client that registered on one process registers again on a miss on another.
 */
export class BoundedQueryStore implements Store {
  private readonly entries = new Map<string, string>();
  private bytes = 0;
  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  async get(hash: string): Promise<string | undefined> {
    const query = this.entries.get(hash);
    if (query !== undefined) {
      this.entries.delete(hash);
      this.entries.set(hash, query);
    }
    return query;
  }

  async set(hash: string, query: string): Promise<void> {
    await this.delete(hash);
    if (query.length > this.maxBytes) return;
    this.entries.set(hash, query);
    this.bytes += query.length;
    for (const [oldest, q] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= q.length;
    }
  }

  async delete(hash: string): Promise<boolean> {
    const query = this.entries.get(hash);
    if (query === undefined) return false;
    this.entries.delete(hash);
    this.bytes -= query.length;
    return true;
  }
}

/**
 * With REDIS_URL, registrations are shared by every server process, so a client registers a query
 * once, not once per process behind the load balancer. Entries expire a day after their last
 * registration (give that Redis a maxmemory policy: registering needs no account). Redis trouble
 * reads as a miss, which costs a client one more round trip instead of failing its request.
 */
export class RedisQueryStore implements Store {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = 24 * 3600,
  ) {}

  async get(hash: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + hash).catch(() => null)) ?? undefined;
  }

  async set(hash: string, query: string): Promise<void> {
    await this.redis.set(this.prefix + hash, query, 'EX', this.ttlSeconds).catch(() => undefined);
  }

  async delete(hash: string): Promise<boolean> {
    return (await this.redis.del(this.prefix + hash).catch(() => 0)) > 0;
  }
}

/** The allow-list as a read-only store: a hash resolves to a registered body; nothing is added. */
class ManifestStore implements Store {
  constructor(private readonly byId: Map<string, string>) {}
  async get(id: string) {
    return this.byId.get(id);
  }
  async set() {}
  async delete() {
    return false;
  }
}

export function parseManifest(json: string, source = 'manifest'): PersistedQueryManifest {
  let manifest: PersistedQueryManifest;
  try {
    manifest = JSON.parse(json);
  } catch {
    throw new Error(`${source} is not valid JSON`);
  }
  if (manifest?.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1 || !Array.isArray(manifest.operations)) {
    throw new Error(`${source} is not an apollo-persisted-query-manifest, version 1`);
  }
  for (const op of manifest.operations) {
    if (typeof op?.id !== 'string' || typeof op.body !== 'string') throw new Error(`${source}: every operation needs a string id and body`);
  }
  return manifest;
}

const persistedQueryNotFound = () =>
  new GraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });

const notSupported = () => new GraphQLError('PersistedQueryNotSupported', { extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' } });

const notAllowed = () =>
  new GraphQLError('This server only runs registered operations; this one is not in its persisted-query manifest', {
    extensions: { code: 'FORBIDDEN', reason: 'PERSISTED_QUERY_NOT_ALLOWED' },
  });

const badInput = (message: string, reason: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', reason } });

interface Payload {
  query?: string | null;
  extensions?: Record<string, unknown> | null;
}

export interface PersistedQueries {
  mode: PersistedQueryMode;
  /** For ApolloServer's `persistedQueries` option. */
  apollo: PersistedQueryOptions | false;
  /**
   * Checked over HTTP before Apollo sees the request: an operation the allow-list does not hold
   * (403), and the persisted-query mistakes Apollo reports without an error code (400).
   */
  refusal(params: unknown): { status: number; error: GraphQLError } | null;
  /**
   * The query text a graphql-ws subscribe payload stands for, by Apollo's rules. graphql-ws
   * requires `query` to be a string, so a hash-only payload sends `query: ""`.
   */
  resolve(payload: Payload): Promise<{ query: string; errors?: undefined } | { errors: GraphQLError[] }>;
  close(): Promise<void>;
}

type Extension = { version?: unknown; sha256Hash?: unknown } | undefined;

export function createPersistedQueries(
  config: Config['persistedQueries'],
  shared: { redisUrl?: string; redisPrefix?: string } = {},
): PersistedQueries {
  const { mode } = config;
  let registered: Set<string> | null = null;
  let redis: Redis | null = null;
  let store: Store = new BoundedQueryStore();
  if (mode === 'apq' && shared.redisUrl) {
    redis = new Redis(shared.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 500 });
    redis.on('error', () => undefined); // reported by the pub/sub connections; here a failure is a miss
    store = new RedisQueryStore(redis, `${shared.redisPrefix ?? ''}persisted:`);
  }
  if (mode === 'allowlist') {
    const manifest = parseManifest(readFileSync(config.manifestPath!, 'utf8'), config.manifestPath);
    store = new ManifestStore(new Map(manifest.operations.map((op) => [key(op.id), op.body])));
    registered = new Set(manifest.operations.map((op) => op.body));
  }

  /** What is wrong with a request before any lookup: the same rules over both transports. */
  function problem(query: string | undefined, pq: Extension): GraphQLError | null {
    if (pq && mode !== 'off') {
      if (pq.version !== 1) return badInput('Unsupported persisted query version', 'PERSISTED_QUERY_VERSION');
      if (typeof pq.sha256Hash !== 'string') return badInput('persistedQuery.sha256Hash must be a string', 'PERSISTED_QUERY_HASH');
      if (query && sha256(query) !== pq.sha256Hash) return badInput('provided sha does not match query', 'PERSISTED_QUERY_HASH_MISMATCH');
    }
    if (query && registered && !registered.has(query)) return notAllowed();
    return null;
  }

  return {
    mode,
    apollo: mode === 'off' ? false : { cache: store },
    refusal(params): { status: number; error: GraphQLError } | null {
      // A batch is refused as a whole if any of its operations is (should batching ever be enabled).
      if (Array.isArray(params)) return params.map((p) => this.refusal(p)).find((r) => r !== null) ?? null;
      if (!params || typeof params !== 'object') return null;
      const { query, extensions } = params as { query?: unknown; extensions?: unknown };
      let ext = extensions;
      if (typeof ext === 'string') {
        try {
          ext = JSON.parse(ext); // GET carries extensions as a JSON string
        } catch {
          return null; // Apollo answers malformed parameters itself
        }
      }
      const pq = ext && typeof ext === 'object' ? ((ext as Record<string, unknown>).persistedQuery as Extension) : undefined;
      const error = problem(typeof query === 'string' ? query : undefined, pq && typeof pq === 'object' ? pq : undefined);
      return error && { status: error.extensions.code === 'FORBIDDEN' ? 403 : 400, error };
    },
    async resolve({ query, extensions }) {
      const pq = extensions?.persistedQuery as Extension;
      if (pq && mode === 'off') return { errors: [notSupported()] };
      const error = problem(query || undefined, pq);
      if (error) return { errors: [error] };
      if (query) {
        if (pq) await store.set(key(pq.sha256Hash as string), query);
        return { query };
      }
      if (!pq) return { errors: [badInput('A subscribe payload needs a query or a persistedQuery extension', 'MISSING_QUERY')] };
      const stored = await store.get(key(pq.sha256Hash as string));
      return stored === undefined ? { errors: [persistedQueryNotFound()] } : { query: stored };
    },
    close: () => closeRedis(redis),
  };
}

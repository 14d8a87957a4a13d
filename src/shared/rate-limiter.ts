import Redis from 'ioredis';
import { closeRedis } from './redis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** A caller's budget now, GitHub's `rateLimit` shape. */
export interface BudgetStatus {
  limit: number;
  /** Points spent and not yet refilled. */
  used: number;
  remaining: number;
  /** When the budget is whole again if nothing more is spent. */
  resetAt: Date;
}

export type Charge = { ok: true; status: BudgetStatus } | { ok: false; status: BudgetStatus; retryAfterSeconds: number };

/** Members are budgeted per account (all their sessions and tokens together), anonymous callers per IP. */
export type BudgetKey = { kind: 'user'; userId: number } | { kind: 'ip'; ip: string };

export interface RateLimitSettings {
  enabled: boolean;
  memberPoints: number;
  anonymousPoints: number;
  windowSeconds: number;
}

export interface RateLimiter {
  readonly transport: 'redis' | 'in-process' | 'disabled';
  limitFor(key: BudgetKey): number;
  /** Takes `cost` points, or none when they are not all there. */
  charge(key: BudgetKey, cost: number): Promise<Charge>;
  /** The budget without taking anything. */
  peek(key: BudgetKey): Promise<BudgetStatus>;
  close(): Promise<void>;
}

const keyOf = (key: BudgetKey) => (key.kind === 'user' ? `user:${key.userId}` : `ip:${key.ip}`);

/**
 * A leaky bucket whose whole state is one time: when the bucket will be empty. Spent points drain
 * at capacity/window per millisecond, so the points in use now are (ms until empty) × that rate. In
 * Redis that time is the key's TTL, so a check-and-spend is one atomic script and an idle budget
 * costs no memory. Arguments as rate-limiter-flexible passes them: cost, -, capacity, window (s).
 * A spend that does not fit stores nothing and reports the current TTL.
 */
const LEAKY_BUCKET_LUA = `
local cost = tonumber(ARGV[1])
local capacity = tonumber(ARGV[3])
local perMs = capacity / (tonumber(ARGV[4]) * 1000)
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then ttl = 0 end
local after = ttl * perMs + cost
if after > capacity then return {math.ceil(after), ttl} end
local ms = math.ceil(after / perMs)
if ms > 0 then redis.call('set', KEYS[1], math.ceil(after), 'PX', ms) end
return {math.ceil(after), ms}
`;

/** The same bucket in process memory: per key, when it will be empty. */
class InProcessBuckets {
  private readonly emptyAt = new Map<string, number>();
  private takes = 0;

  msUntilEmpty(key: string, now: number): number {
    return Math.max(0, (this.emptyAt.get(key) ?? 0) - now);
  }

  take(key: string, cost: number, capacity: number, perMs: number, now: number): { ok: boolean; msUntilEmpty: number } {
    // Drained buckets are forgotten now and then, so memory follows active callers only.
    if (++this.takes % 10_000 === 0) for (const [k, t] of this.emptyAt) if (t <= now) this.emptyAt.delete(k);
    const ms = this.msUntilEmpty(key, now);
    const after = ms * perMs + cost;
    if (after > capacity) return { ok: false, msUntilEmpty: ms };
    const until = Math.ceil(after / perMs);
    this.emptyAt.set(key, now + until);
    return { ok: true, msUntilEmpty: until };
  }
}

/**
 * Budgets are leaky buckets (GitHub's figures, Shopify's refill): each caller can spend up to its
 * limit at once, and spent points come back steadily, the whole budget over one window. With Redis
 * every server process draws on the same buckets (rate-limiter-flexible runs the script); while
 * Redis is unreachable each process falls back to its own, so requests keep flowing.
 */
export function createRateLimiter(settings: RateLimitSettings, redisUrl: string | undefined, prefix = ''): RateLimiter {
  const { memberPoints, anonymousPoints, windowSeconds } = settings;
  const limitFor = (key: BudgetKey) => (key.kind === 'user' ? memberPoints : anonymousPoints);
  const perMs = (key: BudgetKey) => limitFor(key) / (windowSeconds * 1000);
  const status = (key: BudgetKey, msUntilEmpty: number, now: number): BudgetStatus => {
    const used = Math.min(limitFor(key), Math.ceil(msUntilEmpty * perMs(key) - 1e-9));
    return { limit: limitFor(key), used, remaining: limitFor(key) - used, resetAt: new Date(now + msUntilEmpty) };
  };
  if (!settings.enabled) {
    return { transport: 'disabled', limitFor, charge: async (k) => ({ ok: true, status: status(k, 0, Date.now()) }), peek: async (k) => status(k, 0, Date.now()), close: async () => undefined };
  }

  const local = new InProcessBuckets();
  // No offline queue: while Redis is away a check fails at once and uses the local bucket, rather
  // than holding every request until a reconnect.
  const client = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false }) : null;
  const make = (points: number, name: string) =>
    client && new RateLimiterRedis({ storeClient: client, points, duration: windowSeconds, keyPrefix: `${prefix}colloquy:rate:${name}`, customIncrTtlLuaScript: LEAKY_BUCKET_LUA });
  const members = make(memberPoints, 'member');
  const anonymous = make(anonymousPoints, 'anonymous');

  async function take(key: BudgetKey, cost: number, now: number): Promise<{ ok: boolean; msUntilEmpty: number }> {
    const shared = key.kind === 'user' ? members : anonymous;
    if (shared) {
      try {
        const res = await shared.consume(keyOf(key), cost);
        return { ok: true, msUntilEmpty: res.msBeforeNext };
      } catch (err) {
        if (err instanceof RateLimiterRes) return { ok: false, msUntilEmpty: err.msBeforeNext };
        // Redis is unreachable: fall through to this process's own bucket.
      }
    }
    return local.take(keyOf(key), cost, limitFor(key), perMs(key), now);
  }

  return {
    transport: client ? 'redis' : 'in-process',
    limitFor,
    async charge(key, cost) {
      const now = Date.now();
      const { ok, msUntilEmpty } = await take(key, cost, now);
      if (ok) return { ok: true, status: status(key, msUntilEmpty, now) };
      // Until enough has drained for this cost to fit.
      const waitMs = msUntilEmpty + (cost - limitFor(key)) / perMs(key);
      return { ok: false, status: status(key, msUntilEmpty, now), retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
    async peek(key) {
      const now = Date.now();
      const shared = key.kind === 'user' ? members : anonymous;
      if (shared) {
        const res = await shared.get(keyOf(key)).catch(() => undefined);
        if (res !== undefined) return status(key, res ? Math.max(0, res.msBeforeNext) : 0, now);
      }
      return status(key, local.msUntilEmpty(keyOf(key), now), now);
    },
    close: () => closeRedis(client),
  };
}

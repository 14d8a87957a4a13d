import Redis from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** A caller's budget in the current window, GitHub's `rateLimit` shape. */
export interface BudgetStatus {
  limit: number;
  used: number;
  remaining: number;
  /** When the window ends and the budget is whole again. */
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
 * Budgets live in Redis when it is configured, so every server process draws on the same one; the
 * in-memory limiter stands in while Redis is unreachable (rate-limiter-flexible's insurance), which
 * keeps requests flowing at the cost of per-process budgets until it is back.
 */
export function createRateLimiter(settings: RateLimitSettings, redisUrl: string | undefined, prefix = ''): RateLimiter {
  const { memberPoints, anonymousPoints, windowSeconds: duration } = settings;
  if (!settings.enabled) {
    const unlimited = (key: BudgetKey): BudgetStatus => ({ limit: key.kind === 'user' ? memberPoints : anonymousPoints, used: 0, remaining: key.kind === 'user' ? memberPoints : anonymousPoints, resetAt: new Date(Date.now() + duration * 1000) });
    return { transport: 'disabled', limitFor: (k) => unlimited(k).limit, charge: async (k) => ({ ok: true, status: unlimited(k) }), peek: async (k) => unlimited(k), close: async () => undefined };
  }
  const client = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 1 }) : null;
  const make = (points: number, name: string): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ points, duration, keyPrefix: name });
    return client ? new RateLimiterRedis({ storeClient: client, points, duration, keyPrefix: `${prefix}colloquy:rate:${name}`, insuranceLimiter: memory }) : memory;
  };
  const members = make(memberPoints, 'member');
  const anonymous = make(anonymousPoints, 'anonymous');
  const limiterFor = (key: BudgetKey) => (key.kind === 'user' ? members : anonymous);
  const limitFor = (key: BudgetKey) => (key.kind === 'user' ? memberPoints : anonymousPoints);
  const status = (key: BudgetKey, res: RateLimiterRes | null, consumed = res?.consumedPoints ?? 0): BudgetStatus => ({
    limit: limitFor(key),
    used: Math.min(consumed, limitFor(key)),
    remaining: Math.max(0, limitFor(key) - consumed),
    resetAt: new Date(Date.now() + (res ? Math.max(0, res.msBeforeNext) : duration * 1000)),
  });

  return {
    transport: client ? 'redis' : 'in-process',
    limitFor,
    async charge(key, cost) {
      const limiter = limiterFor(key);
      try {
        return { ok: true, status: status(key, await limiter.consume(keyOf(key), cost)) };
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        // The refused points were added by the atomic increment; give them back, so a refused
        // request costs nothing and a cheaper one that still fits can run.
        await limiter.reward(keyOf(key), cost).catch(() => undefined);
        return { ok: false, status: status(key, err, err.consumedPoints - cost), retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
      }
    },
    async peek(key) {
      return status(key, await limiterFor(key).get(keyOf(key)));
    },
    async close() {
      await client?.quit().catch(() => undefined);
    },
  };
}

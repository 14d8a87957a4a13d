import { Arg, Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context/request-context';
import { budgetKey } from '../../server/rate-limit';

@ObjectType('RateLimit', { description: "The caller's cost budget: each operation spends its computed cost, and spent points come back steadily, the whole budget over one window (a leaky bucket)." })
export class RateLimitType {
  @Field(() => Int, { description: 'What this operation costs (charged before it ran, or that it would cost on a dry run).' })
  cost: number;

  @Field(() => Int, { description: 'The whole budget, which refills over one window: per account for members (all their sessions and tokens together), per IP address for anonymous callers.' })
  limit: number;

  @Field(() => Int, { description: 'Points spent and not yet refilled, this operation included.' })
  used: number;

  @Field(() => Int, { description: 'Points that can be spent now.' })
  remaining: number;

  @Field({ description: 'When the budget will be whole again if nothing more is spent.' })
  resetAt: Date;
}

@Resolver()
export class RateLimitResolver {
  @Query(() => RateLimitType, { description: "The caller's rate limit status. Needs no token scope." })
  async rateLimit(
    @Arg('dryRun', { defaultValue: false, description: 'Over HTTP: report what the operation would cost without charging it and without running its other fields.' }) _dryRun: boolean,
    @Ctx() ctx: RequestContext,
  ): Promise<RateLimitType> {
    // Admission sets it before execution, for every HTTP and WebSocket operation.
    const { cost, status } = ctx.rateLimit ?? { cost: 0, status: await ctx.app.rateLimiter.peek(budgetKey(ctx)) };
    return { cost, limit: status.limit, used: status.used, remaining: status.remaining, resetAt: status.resetAt };
  }
}

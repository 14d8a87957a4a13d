import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { RequestContext } from '../../context/request-context';
import { forbidden, unauthenticated } from '../../shared/errors';
import { expectGlobalId } from '../../shared/global-id';
import { ConnectionArgs, toConnection } from '../../server/graphql/connection';
import { withGraphQLErrors } from '../../server/errors';
import { PostType, presentPost } from '../posts/post.types';
import { isStaff } from '../users/user.service';
import { UserType, presentUser } from '../users/user.types';
import type { ModerationEventRecord } from './event-store';
import { type HumanAction, type ReportReason } from './moderation.service';
import { LABELS, type Policy } from './policy';
import {
  HumanActionEnum, LabelPolicyInput, LabelPolicyType, ModerationEventType, ModerationQueueFilter, ModerationSubjectConnection,
  ModerationSubjectType, ReportContentInput, VerdictFilter, presentEvent, presentSubject,
} from './moderation.types';
import { verdictStream } from './verdict-stream';

const STAFF_ROLES = ['MODERATOR', 'ADMIN'];

const policyList = (p: Policy): LabelPolicyType[] => LABELS.map((label) => ({ label, ...p[label] }));

/** Authorization for a live stream: checked at subscribe time, on account changes, and per event (token expiry). */
function streamGuards(ctx: RequestContext, allowed: (role: string) => boolean | Promise<boolean>) {
  const viewer = ctx.viewer;
  if (!viewer) throw unauthenticated();
  return {
    viewerId: viewer.id,
    authorize: async () => {
      // Not ctx.services: that would build and keep a full set of services per open subscription,
      // a few hundred bytes each across thousands of dashboards, for a check that runs rarely.
      const [user]: Array<{ role: string }> = await ctx.app.db.query('SELECT role FROM users WHERE id = $1', [viewer.id]);
      if (!user || !(await allowed(user.role))) throw forbidden('You may no longer watch this stream (your role or access changed)');
    },
    checkToken: () => {
      if (ctx.tokenExpiresAt && ctx.tokenExpiresAt.getTime() <= Date.now()) throw unauthenticated('Token has expired; log in again');
    },
  };
}

@Resolver(() => ModerationEventType)
export class ModerationResolver {
  @Query(() => ModerationSubjectConnection, { description: 'The review queue, highest priority first. Moderators and admins only.' })
  async moderationQueue(
    @Arg('filter', () => ModerationQueueFilter, { nullable: true, description: 'Filters; by default, what needs a person.' }) filter: ModerationQueueFilter | null,
    @Args() page: ConnectionArgs,
    @Ctx() ctx: RequestContext,
  ) {
    return toConnection(await ctx.services.moderation.queue(filter ?? {}, page, ctx.viewer), presentSubject);
  }

  @Query(() => [ModerationEventType], { description: 'Every moderation event of a post, oldest first. Its author and moderators only.' })
  async moderationHistory(@Arg('subjectId', () => ID, { description: 'The post.' }) subjectId: string, @Ctx() ctx: RequestContext): Promise<ModerationEventType[]> {
    return (await ctx.services.moderation.history(expectGlobalId(subjectId, 'Post'), ctx.viewer)).map(presentEvent);
  }

  @Query(() => [LabelPolicyType], { description: 'Score bands that map model scores to actions. Moderators and admins only.' })
  async moderationPolicy(@Ctx() ctx: RequestContext): Promise<LabelPolicyType[]> {
    return policyList(await ctx.services.moderation.policy(ctx.viewer));
  }

  @Mutation(() => [LabelPolicyType], { description: 'Replaces the score bands. Admins only.' })
  async setModerationPolicy(@Arg('bands', () => [LabelPolicyInput], { description: 'New bands; labels not listed keep theirs.' }) bands: LabelPolicyInput[], @Ctx() ctx: RequestContext): Promise<LabelPolicyType[]> {
    const current = await ctx.services.moderation.policy(ctx.viewer);
    const next: Policy = { ...current };
    for (const b of bands) next[b.label] = { review: b.review, hide: b.hide };
    return policyList(await ctx.mutate((s) => s.moderation.setPolicy(next, ctx.viewer)));
  }

  @Mutation(() => ModerationEventType, { description: 'Reports a post to the moderators; once per member and post.' })
  async reportContent(@Arg('input', { description: 'What to report and why.' }) input: ReportContentInput, @Ctx() ctx: RequestContext): Promise<ModerationEventType> {
    const id = expectGlobalId(input.subjectId, 'Post');
    return presentEvent(await ctx.mutate((s) => s.moderation.report(id, input.reason as ReportReason, input.note, ctx.viewer)));
  }

  @Mutation(() => ModerationEventType, { description: 'A moderator acts on a post; recorded as an append-only event. Moderators and admins only.' })
  async moderate(
    @Arg('subjectId', () => ID, { description: 'The post.' }) subjectId: string,
    @Arg('action', () => HumanActionEnum, { description: 'What to do.' }) action: HumanActionEnum,
    @Arg('reason', { description: 'Why; shown to the author in the history.' }) reason: string,
    @Ctx() ctx: RequestContext,
  ): Promise<ModerationEventType> {
    const id = expectGlobalId(subjectId, 'Post');
    return presentEvent(await ctx.mutate((s) => s.moderation.moderate(id, action as HumanAction, reason, ctx.viewer)));
  }

  @Mutation(() => ModerationEventType, { description: 'The author appeals the decision on their post; once per post.' })
  async appeal(
    @Arg('subjectId', () => ID, { description: 'Your post.' }) subjectId: string,
    @Arg('note', { defaultValue: '', description: 'Why the decision is wrong.' }) note: string,
    @Ctx() ctx: RequestContext,
  ): Promise<ModerationEventType> {
    const id = expectGlobalId(subjectId, 'Post');
    return presentEvent(await ctx.mutate((s) => s.moderation.appeal(id, note, ctx.viewer)));
  }

  @Mutation(() => ModerationEventType, { description: 'A moderator grants (publishes the post) or denies an open appeal.' })
  async resolveAppeal(
    @Arg('subjectId', () => ID, { description: 'The appealed post.' }) subjectId: string,
    @Arg('grant', { description: 'true publishes the post again.' }) grant: boolean,
    @Arg('reason', { description: 'Why; shown to the author.' }) reason: string,
    @Ctx() ctx: RequestContext,
  ): Promise<ModerationEventType> {
    const id = expectGlobalId(subjectId, 'Post');
    return presentEvent(await ctx.mutate((s) => s.moderation.resolveAppeal(id, grant, reason, ctx.viewer)));
  }

  @Subscription(() => ModerationEventType, {
    description: 'Every moderation event as it happens, for moderators and admins. Pass the last `sequence` you saw as `after` to get what you missed first, with no gap and no duplicate.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { filter?: VerdictFilter | null; after?: string | null }, RequestContext>) => {
      const types = args.filter?.types;
      const statuses = args.filter?.newStatuses;
      return withGraphQLErrors(verdictStream({
        m: context.app.db.manager,
        pubSub: context.app.pubSub.pubSub,
        after: args.after ?? null,
        retentionDays: context.app.config.moderation.retentionDays,
        accept: (r) => (!types?.length || types.includes(r.type)) && (!statuses?.length || statuses.includes(r.newStatus)),
        push: context.push,
        ...streamGuards(context, (role) => STAFF_ROLES.includes(role)),
      }));
    },
  })
  moderationVerdicts(
    @Root() record: ModerationEventRecord,
    @Arg('filter', () => VerdictFilter, { nullable: true, description: 'Which events to deliver.' }) _filter: VerdictFilter | null,
    @Arg('after', () => String, { nullable: true, description: 'Resume after this `sequence`.' }) _after: string | null,
  ): ModerationEventType {
    return presentEvent(record);
  }

  @Subscription(() => ModerationEventType, {
    description: 'Decisions on one post (model verdicts, moderator actions, appeal outcomes) for its author and moderators.',
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, { postId: string }, RequestContext>) => {
      const postId = expectGlobalId(args.postId, 'Post');
      const [post] = await context.app.db.query(`SELECT author_id FROM posts WHERE id = $1`, [postId]);
      const guards = streamGuards(context, (role) => STAFF_ROLES.includes(role) || post?.author_id === context.viewer?.id);
      const staff = isStaff(context.viewer);
      return withGraphQLErrors(verdictStream({
        m: context.app.db.manager,
        pubSub: context.app.pubSub.pubSub,
        after: null,
        retentionDays: context.app.config.moderation.retentionDays,
        accept: (r) => r.subjectId === postId && (staff || ['AUTOMATED', 'HUMAN', 'APPEAL_RESOLVED'].includes(r.type)),
        push: context.push,
        ...guards,
      }));
    },
  })
  postModeration(
    @Root() record: ModerationEventRecord,
    @Arg('postId', () => ID, { description: 'The post.' }) _postId: string,
  ): ModerationEventType {
    return presentEvent(record);
  }

  @FieldResolver(() => PostType, { nullable: true, description: 'The post, when the viewer can see it.' })
  async post(@Root() e: ModerationEventType, @Ctx() ctx: RequestContext): Promise<PostType | null> {
    const p = await ctx.loaders.post.load(e.subjectRowId);
    return p && presentPost(p);
  }

  @FieldResolver(() => UserType, { nullable: true, description: 'Who acted: null for the model, and for reporters unless the viewer is a moderator.' })
  async actor(@Root() e: ModerationEventType, @Ctx() ctx: RequestContext): Promise<UserType | null> {
    if (!e.actorId || (e.eventType === 'REPORT' && !isStaff(ctx.viewer))) return null;
    const u = await ctx.loaders.user.load(e.actorId);
    return u && presentUser(u);
  }
}

@Resolver(() => ModerationSubjectType)
export class ModerationSubjectResolver {
  @FieldResolver(() => PostType, { nullable: true, description: 'The post (null once deleted).' })
  async post(@Root() s: ModerationSubjectType, @Ctx() ctx: RequestContext): Promise<PostType | null> {
    const p = await ctx.loaders.post.load(s.subjectRowId);
    return p && presentPost(p);
  }
}

@Resolver(() => PostType)
export class PostModerationResolver {
  @FieldResolver(() => ModerationSubjectType, { nullable: true, description: 'Moderation state with scores. Only the author and moderators; FORBIDDEN for others. Null before any moderation event.' })
  async moderation(@Root() post: PostType, @Ctx() ctx: RequestContext): Promise<ModerationSubjectType | null> {
    if (!isStaff(ctx.viewer) && ctx.viewer?.id !== post.authorId) throw forbidden('Only the author and moderators see moderation details');
    const s = await ctx.loaders.moderationStatus.load(post.rowId);
    return s && presentSubject(s);
  }
}

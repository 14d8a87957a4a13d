import { Arg, Args, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { badInput, unauthenticated } from '../../shared/errors';
import { toGlobalId } from '../../shared/global-id';
import { withGraphQLErrors } from '../../server/errors';
import { type FeedUpdate, feedUpdates } from './feed-updates';
import type { RequestContext } from '../../context/request-context';
import { expectGlobalId } from '../../shared/global-id';
import type { Page } from '../../shared/pagination';
import { ConnectionArgs, toConnection } from '../../server/graphql/connection';
import { presentPost } from '../posts/post.types';
import type { DismissReason, FeedEntry } from './feed.service';
import { DismissReasonEnum, FeedItemConnection, FeedItemType, FeedModeEnum, FeedUpdateType } from './feed.types';

/**
 * Hydrate: the page's posts with their authors and tags in one statement, primed into the
 * request's loaders for the fields that read them; anything no longer published drops out.
 */
async function hydrate(entries: FeedEntry[], ctx: RequestContext): Promise<Map<number, FeedItemType>> {
  const { posts, authors, tags } = await ctx.services.posts.byIdsWithAuthorsAndTags(entries.map((e) => e.postId), ctx.viewer);
  for (const user of authors) ctx.loaders.user.prime(user.id, user);
  for (const [postId, postTags] of tags) ctx.loaders.tagsOfPost.prime(postId, postTags);
  const byId = new Map<number, (typeof posts)[number]>();
  for (const p of posts) {
    ctx.loaders.post.prime(p.id, p);
    byId.set(p.id, p);
  }
  const items = new Map<number, FeedItemType>();
  for (const e of entries) {
    const p = byId.get(e.postId);
    if (p && p.status === 'PUBLISHED') {
      items.set(e.postId, Object.assign(new FeedItemType(), { postRowId: p.id, post: presentPost(p), reason: e.reason, rank: e.rank }));
    }
  }
  return items;
}

@Resolver(() => FeedItemType)
export class FeedResolver {
  @Query(() => FeedItemConnection, { description: 'A feed, page by page. Paging through one load never repeats or skips an item, even as new posts arrive.' })
  async feed(
    @Arg('mode', () => FeedModeEnum, { defaultValue: 'FOR_YOU', description: 'Which feed; FOR_YOU by default.' }) mode: FeedModeEnum,
    @Args() page: ConnectionArgs,
    @Ctx() ctx: RequestContext,
  ) {
    const result = await ctx.services.feed.feed(mode, page, ctx.viewer);
    const items = await hydrate(result.nodes, ctx);
    const kept: Page<FeedItemType> = { ...result, nodes: [], cursors: [] };
    result.nodes.forEach((e, i) => {
      const item = items.get(e.postId);
      if (item) {
        kept.nodes.push(item);
        kept.cursors.push(result.cursors[i]);
      }
    });
    // Keep the cursor of the last entry read, even if it dropped out, so the next page starts after it.
    const conn = toConnection(kept, (x) => x);
    if (result.cursors.length) conn.pageInfo.endCursor = result.cursors[result.cursors.length - 1];
    return conn;
  }

  @Query(() => [FeedItemType], { description: 'Posts related to a post (similar text, shared tags weighted by rarity, and what the same members liked), for post pages.' })
  async relatedPosts(
    @Arg('postId', () => ID, { description: 'The post.' }) postId: string,
    @Arg('first', () => Int, { defaultValue: 10, description: 'How many, 1–50.' }) first: number,
    @Ctx() ctx: RequestContext,
  ): Promise<FeedItemType[]> {
    const entries = await ctx.services.feed.related(expectGlobalId(postId, 'Post'), first);
    const items = await hydrate(entries, ctx);
    return entries.flatMap((e) => items.get(e.postId) ?? []);
  }

  @Subscription(() => FeedUpdateType, {
    description: 'Tells the member when their FOR_YOU top of feed changes: new posts ranking in, their own activity, moderation. At most one event per interval.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { mode: FeedModeEnum }, RequestContext>) => {
      const viewer = context.viewer;
      if (!viewer) throw unauthenticated('Log in to follow your feed');
      if (args.mode !== FeedModeEnum.FOR_YOU) throw badInput('Live updates are offered for FOR_YOU', 'mode');
      return withGraphQLErrors(feedUpdates({
        pubSub: context.app.pubSub.pubSub,
        viewerId: viewer.id,
        intervalMs: context.app.config.feed.updateIntervalMs,
        computeTop: () => context.services.feed.top(viewer, context.app.config.feed.updateTopN),
        checkToken: () => {
          if (context.tokenExpiresAt && context.tokenExpiresAt.getTime() <= Date.now()) throw unauthenticated('Token has expired; log in again');
        },
      }));
    },
  })
  async feedUpdates(
    @Root() update: FeedUpdate,
    @Arg('mode', () => FeedModeEnum, { defaultValue: 'FOR_YOU', description: 'Only FOR_YOU.' }) _mode: FeedModeEnum,
    @Ctx() ctx: RequestContext,
  ): Promise<FeedUpdateType> {
    ctx.refreshLoaders();
    const items = await hydrate(update.changed, ctx);
    return {
      reasons: update.reasons,
      changed: update.changed.flatMap((e) => items.get(e.postId) ?? []),
      removedPostIds: update.removed.map((id) => toGlobalId('Post', id)),
      topPostIds: update.top.map((e) => toGlobalId('Post', e.postId)),
    };
  }

  @Mutation(() => Int, { description: 'Marks posts as seen so FOR_YOU stops showing them; returns how many were new.' })
  async markSeen(@Arg('postIds', () => [ID], { description: 'Up to 100 Post ids.' }) postIds: string[], @Ctx() ctx: RequestContext): Promise<number> {
    const ids = postIds.map((id) => expectGlobalId(id, 'Post'));
    return ctx.mutate((s) => s.feed.markSeen(ids, ctx.viewer));
  }

  @Mutation(() => Boolean, { description: '"Show less like this": removes the post from the viewer\'s feeds and lowers posts sharing its tags or author.' })
  async dismissFromFeed(
    @Arg('postId', () => ID, { description: 'The post.' }) postId: string,
    @Arg('reason', () => DismissReasonEnum, { defaultValue: 'NOT_INTERESTED', description: 'Why.' }) reason: DismissReasonEnum,
    @Ctx() ctx: RequestContext,
  ): Promise<boolean> {
    const id = expectGlobalId(postId, 'Post');
    await ctx.mutate((s) => s.feed.dismiss(id, reason as DismissReason, ctx.viewer));
    return true;
  }
}

import { Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context/request-context';
import { ConnectionArgs, toConnection } from '../../server/graphql/connection';
import { PostConnection, PostOrderEnum, presentPost } from '../posts/post.types';
import { TagConnection, TagType, presentTag } from './tag.types';

@Resolver(() => TagType)
export class TagResolver {
  @Query(() => TagType, { description: 'A tag by name.' })
  async tag(@Arg('name', { description: 'Tag name, case-insensitive.' }) name: string, @Ctx() ctx: RequestContext): Promise<TagType> {
    return presentTag(await ctx.services.tags.byName(name));
  }

  @Query(() => TagConnection, { description: 'All tags, most used first.' })
  async tags(@Args() page: ConnectionArgs, @Ctx() ctx: RequestContext) {
    return toConnection(await ctx.services.tags.list(page), presentTag);
  }

  @FieldResolver(() => Boolean, { description: 'Whether the viewer follows this tag (false when anonymous).' })
  viewerIsFollowing(@Root() tag: TagType, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.loaders.viewerFollowsTag.load(tag.rowId);
  }

  @FieldResolver(() => PostConnection, { description: 'Posts with this tag.' })
  async posts(
    @Root() tag: TagType,
    @Args() page: ConnectionArgs,
    @Arg('orderBy', () => PostOrderEnum, { defaultValue: 'NEW', description: 'Ordering; NEW by default.' }) orderBy: PostOrderEnum,
    @Ctx() ctx: RequestContext,
  ) {
    return toConnection(await ctx.services.posts.list({ tag: tag.name }, orderBy, page, ctx.viewer), presentPost);
  }
}

import { Arg, Ctx, Field, ID, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context/request-context';
import { notFound } from '../../shared/errors';
import { expectGlobalId, fromGlobalId } from '../../shared/global-id';
import { badInput } from '../../shared/errors';
import { PostType, VoteValueEnum, presentPost } from '../posts/post.types';
import { TagType, presentTag } from '../tags/tag.types';
import { UserType, presentUser } from '../users/user.types';

@ObjectType({ description: 'Result of `follow`: the followed user or tag, with its new counts.' })
export class FollowPayload {
  @Field({ description: 'Whether the viewer now follows the target.' })
  following: boolean;

  @Field(() => UserType, { nullable: true, description: 'The user, when the target was a user.' })
  user: UserType | null;

  @Field(() => TagType, { nullable: true, description: 'The tag, when the target was a tag.' })
  tag: TagType | null;
}

@Resolver()
export class SocialResolver {
  @Mutation(() => PostType, { description: 'Votes on a post (one vote per member and post; CLEAR withdraws it). You cannot vote on your own posts.' })
  async vote(
    @Arg('postId', () => ID, { description: 'The post.' }) postId: string,
    @Arg('value', () => VoteValueEnum, { description: 'UP, DOWN, or CLEAR to withdraw.' }) value: VoteValueEnum,
    @Ctx() ctx: RequestContext,
  ): Promise<PostType> {
    const id = expectGlobalId(postId, 'Post');
    await ctx.mutate((s) => s.social.vote(id, value, ctx.viewer));
    return this.post(id, ctx);
  }

  @Mutation(() => PostType, { description: 'Adds (or with `bookmarked: false` removes) a bookmark; idempotent.' })
  async bookmark(
    @Arg('postId', () => ID, { description: 'The post.' }) postId: string,
    @Arg('bookmarked', { defaultValue: true, description: 'false removes the bookmark.' }) bookmarked: boolean,
    @Ctx() ctx: RequestContext,
  ): Promise<PostType> {
    const id = expectGlobalId(postId, 'Post');
    await ctx.mutate((s) => s.social.bookmark(id, bookmarked, ctx.viewer));
    return this.post(id, ctx);
  }

  @Mutation(() => FollowPayload, { description: 'Follows (or with `following: false` unfollows) a user or a tag, given its id; idempotent.' })
  async follow(
    @Arg('id', () => ID, { description: 'A User or Tag id.' }) id: string,
    @Arg('following', { defaultValue: true, description: 'false unfollows.' }) following: boolean,
    @Ctx() ctx: RequestContext,
  ): Promise<FollowPayload> {
    const target = fromGlobalId(id);
    if (target.type === 'User') {
      await ctx.mutate((s) => s.social.followUser(target.id, following, ctx.viewer));
      const user = await ctx.loaders.user.load(target.id);
      return { following, user: user && presentUser(user), tag: null };
    }
    if (target.type === 'Tag') {
      await ctx.mutate((s) => s.social.followTag(target.id, following, ctx.viewer));
      const tag = await ctx.loaders.tag.load(target.id);
      return { following, user: null, tag: tag && presentTag(tag) };
    }
    throw badInput('Only users and tags can be followed', 'id');
  }

  private async post(id: number, ctx: RequestContext): Promise<PostType> {
    const post = await ctx.loaders.post.load(id);
    if (!post) throw notFound('Post');
    return presentPost(post);
  }
}

import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { RequestContext } from '../../context/request-context';
import { notFound } from '../../shared/errors';
import { expectGlobalId } from '../../shared/global-id';
import { TOPIC, type Topics } from '../../shared/pubsub';
import { ConnectionArgs, toConnection } from '../../server/graphql/connection';
import { connectionItemFields } from '../../server/graphql/lookahead';
import { TagType, presentTag } from '../tags/tag.types';
import { UserType, presentUser } from '../users/user.types';
import {
  CreatePostInput, DeletePostPayload, EditPostInput, PostConnection, PostFilterInput, PostOrderEnum,
  PostType, VoteValueEnum, presentPost,
} from './post.types';

type PostAddedPayload = Topics['POST_ADDED'][0];

@Resolver(() => PostType)
export class PostResolver {
  @Query(() => PostType, { description: 'A post by id; NOT_FOUND when it does not exist or is not visible to the viewer.' })
  async post(@Arg('id', () => ID, { description: 'A Post id.' }) id: string, @Ctx() ctx: RequestContext): Promise<PostType> {
    const post = await ctx.loaders.post.load(expectGlobalId(id, 'Post'));
    if (!post) throw notFound('Post');
    return presentPost(post);
  }

  @Query(() => PostConnection, { description: 'Posts visible to the viewer, filtered and ordered. Without a `kind` or `parentId` filter, only questions, articles and discussions.' })
  async posts(
    @Arg('filter', () => PostFilterInput, { nullable: true, description: 'Filters; all must match.' }) filter: PostFilterInput | null,
    @Arg('orderBy', () => PostOrderEnum, { defaultValue: 'NEW', description: 'Ordering; NEW by default. BEST needs `filter.kind: ANSWER`.' }) orderBy: PostOrderEnum,
    @Args() page: ConnectionArgs,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ) {
    const postFilter = {
      tag: filter?.tag,
      kind: filter?.kind,
      authorId: filter?.authorId ? expectGlobalId(filter.authorId, 'User') : null,
      parentId: filter?.parentId ? expectGlobalId(filter.parentId, 'Post') : null,
      topLevelOnly: !filter?.kind && !filter?.parentId,
    };
    const itemFields = connectionItemFields(info);
    if (!itemFields.has('author') && !itemFields.has('tags')) {
      return toConnection(await ctx.services.posts.list(postFilter, orderBy, page, ctx.viewer), presentPost);
    }
    // The page's authors and tags come with it; priming the loaders saves their round trips.
    const { page: result, authors, tags } = await ctx.services.posts.listWithAuthorsAndTags(postFilter, orderBy, page, ctx.viewer, { body: itemFields.has('body') });
    for (const user of authors) ctx.loaders.user.prime(user.id, user);
    for (const [postId, postTags] of tags) ctx.loaders.tagsOfPost.prime(postId, postTags);
    return toConnection(result, presentPost);
  }

  @Mutation(() => PostType, { description: 'Creates a post. Requires a logged-in member.' })
  async createPost(@Arg('input', { description: 'The post to create.' }) input: CreatePostInput, @Ctx() ctx: RequestContext): Promise<PostType> {
    const parentId = input.parentId ? expectGlobalId(input.parentId, 'Post') : null;
    const post = await ctx.mutate((s) => s.posts.create({ ...input, parentId }, ctx.viewer));
    return presentPost(post);
  }

  @Mutation(() => PostType, { description: 'Edits a post. Allowed for its author, moderators and admins.' })
  async editPost(@Arg('input', { description: 'The post and its changes.' }) input: EditPostInput, @Ctx() ctx: RequestContext): Promise<PostType> {
    const id = expectGlobalId(input.id, 'Post');
    return presentPost(await ctx.mutate((s) => s.posts.edit(id, input, ctx.viewer)));
  }

  @Mutation(() => DeletePostPayload, { description: 'Deletes a post. Allowed for its author, moderators and admins.' })
  async deletePost(@Arg('id', () => ID, { description: 'The post to delete.' }) id: string, @Ctx() ctx: RequestContext): Promise<DeletePostPayload> {
    const rowId = expectGlobalId(id, 'Post');
    await ctx.mutate((s) => s.posts.remove(rowId, ctx.viewer));
    return { deletedPostId: id };
  }

  @Mutation(() => PostType, { description: "Marks an answer as accepted; only the question's author may. Returns the question." })
  async acceptAnswer(@Arg('answerId', () => ID, { description: 'The answer to accept.' }) answerId: string, @Ctx() ctx: RequestContext): Promise<PostType> {
    const id = expectGlobalId(answerId, 'Post');
    return presentPost(await ctx.mutate((s) => s.posts.acceptAnswer(id, ctx.viewer)));
  }

  @Authorized()
  @Subscription(() => PostType, {
    topics: TOPIC.POST_ADDED,
    filter: ({ payload, args }: { payload: PostAddedPayload; args: { tags?: string[] | null } }) =>
      !args.tags?.length || payload.tags.some((t) => args.tags!.map((a) => a.toLowerCase()).includes(t)),
    description: 'New published posts as they are created, optionally only those with one of `tags` (answers and comments match by their thread\'s tags). Requires a token in `connectionParams`.',
  })
  async postAdded(
    @Root() payload: PostAddedPayload,
    @Arg('tags', () => [String], { nullable: true, description: 'Only posts with at least one of these tags.' }) _tags: string[] | null,
    @Ctx() ctx: RequestContext,
  ): Promise<PostType> {
    ctx.refreshLoaders();
    const post = await ctx.loaders.post.load(payload.postId);
    if (!post) throw notFound('Post');
    return presentPost(post);
  }

  @FieldResolver(() => UserType, { description: 'Who wrote the post.' })
  async author(@Root() post: PostType, @Ctx() ctx: RequestContext): Promise<UserType> {
    const user = await ctx.loaders.user.load(post.authorId);
    if (!user) throw notFound('Author');
    return presentUser(user);
  }

  @FieldResolver(() => [TagType], { description: 'Tags, alphabetically; empty for answers and comments.' })
  async tags(@Root() post: PostType, @Ctx() ctx: RequestContext): Promise<TagType[]> {
    return (await ctx.loaders.tagsOfPost.load(post.rowId)).map(presentTag);
  }

  @FieldResolver(() => PostType, { nullable: true, description: 'The post this one replies to (answers and comments).' })
  async parent(@Root() post: PostType, @Ctx() ctx: RequestContext): Promise<PostType | null> {
    return this.load(post.parentId, ctx);
  }

  @FieldResolver(() => PostType, { nullable: true, description: 'The accepted answer (questions only).' })
  async acceptedAnswer(@Root() post: PostType, @Ctx() ctx: RequestContext): Promise<PostType | null> {
    return this.load(post.acceptedAnswerId, ctx);
  }

  @FieldResolver(() => PostType, { nullable: true, description: 'The question this one was closed as a duplicate of.' })
  async duplicateOf(@Root() post: PostType, @Ctx() ctx: RequestContext): Promise<PostType | null> {
    return this.load(post.duplicateOfId, ctx);
  }

  @FieldResolver(() => PostConnection, { description: 'Answers to this question; BEST (accepted first, then Wilson score) by default.' })
  async answers(
    @Root() post: PostType,
    @Args() page: ConnectionArgs,
    @Arg('orderBy', () => PostOrderEnum, { defaultValue: 'BEST', description: 'Ordering; BEST by default.' }) orderBy: PostOrderEnum,
    @Ctx() ctx: RequestContext,
  ) {
    const result = await ctx.services.posts.list({ parentId: post.rowId, kind: 'ANSWER' }, orderBy, page, ctx.viewer);
    return toConnection(result, presentPost);
  }

  @FieldResolver(() => PostConnection, { description: 'Direct comments on this post, newest first.' })
  async comments(@Root() post: PostType, @Args() page: ConnectionArgs, @Ctx() ctx: RequestContext) {
    const result = await ctx.services.posts.list({ parentId: post.rowId, kind: 'COMMENT' }, 'NEW', page, ctx.viewer);
    return toConnection(result, presentPost);
  }

  @FieldResolver(() => VoteValueEnum, { nullable: true, description: "The viewer's vote (UP or DOWN), or null when none or anonymous." })
  async viewerVote(@Root() post: PostType, @Ctx() ctx: RequestContext): Promise<VoteValueEnum | null> {
    const v = await ctx.loaders.viewerVote.load(post.rowId);
    return v === 1 ? VoteValueEnum.UP : v === -1 ? VoteValueEnum.DOWN : null;
  }

  @FieldResolver(() => Boolean, { description: 'Whether the viewer bookmarked this post (false when anonymous).' })
  viewerHasBookmarked(@Root() post: PostType, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.loaders.viewerBookmarked.load(post.rowId);
  }

  private async load(id: number | null, ctx: RequestContext): Promise<PostType | null> {
    if (!id) return null;
    const post = await ctx.loaders.post.load(id);
    return post && presentPost(post);
  }
}

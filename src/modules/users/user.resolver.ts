import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { expectGlobalId } from '../../shared/global-id';
import type { RequestContext } from '../../context/request-context';
import { forbidden } from '../../shared/errors';
import { ConnectionArgs, toConnection } from '../../server/graphql/connection';
import { PostConnection, PostOrderEnum, presentPost } from '../posts/post.types';
import type { UserEntity } from './user.entity';
import { AuthPayload, LogInInput, RoleEnum, SignUpInput, UserType, presentUser } from './user.types';

@Resolver(() => UserType)
export class UserResolver {
  @Query(() => UserType, { nullable: true, description: 'The account making the request, or null when anonymous.' })
  async viewer(@Ctx() ctx: RequestContext): Promise<UserType | null> {
    if (!ctx.viewer) return null;
    const user = await ctx.loaders.user.load(ctx.viewer.id);
    return user && presentUser(user);
  }

  @Query(() => UserType, { description: 'A user by handle.' })
  async user(@Arg('handle', { description: 'The handle, case-insensitive.' }) handle: string, @Ctx() ctx: RequestContext): Promise<UserType> {
    return presentUser(await ctx.services.users.byHandle(handle));
  }

  @Mutation(() => AuthPayload, { description: 'Creates a member account and returns a session token.' })
  async signUp(@Arg('input', { description: 'The new account.' }) input: SignUpInput, @Ctx() ctx: RequestContext): Promise<AuthPayload> {
    const user = await ctx.mutate((s) => s.users.create(input));
    return this.session(user, ctx);
  }

  @Mutation(() => AuthPayload, { description: 'Exchanges a handle (or e-mail) and password for a session token.' })
  async logIn(@Arg('input', { description: 'Credentials.' }) input: LogInInput, @Ctx() ctx: RequestContext): Promise<AuthPayload> {
    const user = await ctx.services.users.authenticate(input.handle, input.password);
    return this.session(user, ctx);
  }

  /** The rest of the operation is answered for the account that just logged in (e.g. its own e-mail). */
  private async session(user: UserEntity, ctx: RequestContext): Promise<AuthPayload> {
    ctx.viewer = { id: user.id, role: user.role, handle: user.handle };
    ctx.refreshLoaders();
    return { token: await ctx.app.tokens.issue(user.id, user.role), user: presentUser(user) };
  }

  @Mutation(() => UserType, { description: "Changes a user's role; their open subscriptions re-check access at once. Admins only." })
  async setUserRole(
    @Arg('userId', () => ID, { description: 'The user.' }) userId: string,
    @Arg('role', () => RoleEnum, { description: 'The new role.' }) role: RoleEnum,
    @Ctx() ctx: RequestContext,
  ): Promise<UserType> {
    const id = expectGlobalId(userId, 'User');
    return presentUser(await ctx.mutate((s) => s.users.setRoleById(id, role, ctx.viewer)));
  }

  @FieldResolver(() => String, { nullable: true, description: 'E-mail address. Visible only to the account itself and to admins; others get FORBIDDEN.' })
  email(@Root() user: UserType, @Ctx() ctx: RequestContext): string | null {
    if (ctx.viewer?.id !== user.rowId && ctx.viewer?.role !== 'ADMIN') throw forbidden('Only the account and admins see its e-mail');
    return user.privateEmail;
  }

  @FieldResolver(() => Boolean, { description: 'Whether the viewer follows this user (false when anonymous).' })
  viewerIsFollowing(@Root() user: UserType, @Ctx() ctx: RequestContext): Promise<boolean> {
    return ctx.loaders.viewerFollowsUser.load(user.rowId);
  }

  @FieldResolver(() => PostConnection, { description: "This user's posts." })
  async posts(
    @Root() user: UserType,
    @Args() page: ConnectionArgs,
    @Arg('orderBy', () => PostOrderEnum, { defaultValue: 'NEW', description: 'Ordering; NEW by default.' }) orderBy: PostOrderEnum,
    @Ctx() ctx: RequestContext,
  ) {
    const result = await ctx.services.posts.list({ authorId: user.rowId }, orderBy, page, ctx.viewer);
    return toConnection(result, presentPost);
  }
}

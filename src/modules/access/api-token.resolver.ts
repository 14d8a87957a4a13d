import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../context/request-context';
import { forbidden } from '../../shared/errors';
import { expectGlobalId } from '../../shared/global-id';
import { ConnectionArgs, toConnection } from '../../server/graphql/connection';
import { UserType } from '../users/user.types';
import { ApiTokenConnection, ApiTokenType, CreateApiTokenInput, CreateApiTokenPayload, presentApiToken } from './api-token.types';

@Resolver(() => UserType)
export class ApiTokenResolver {
  @Mutation(() => CreateApiTokenPayload, {
    description: 'Creates a personal API token for scripts and integrations. The secret is in this response only. Needs a session (logIn), not another API token.',
  })
  async createApiToken(@Arg('input', { description: 'Name, scopes and lifetime.' }) input: CreateApiTokenInput, @Ctx() ctx: RequestContext): Promise<CreateApiTokenPayload> {
    const { token, secret } = await ctx.mutate((s) => s.apiTokens.create(ctx.viewer, ctx.credential, input));
    return { apiToken: presentApiToken(token), secret };
  }

  @Mutation(() => ApiTokenType, { description: 'Revokes one of your API tokens; requests with it are refused from now on. Idempotent. Needs a session (logIn).' })
  async revokeApiToken(@Arg('id', () => ID, { description: 'The token.' }) id: string, @Ctx() ctx: RequestContext): Promise<ApiTokenType> {
    const rowId = expectGlobalId(id, 'ApiToken');
    return presentApiToken(await ctx.mutate((s) => s.apiTokens.revoke(rowId, ctx.viewer, ctx.credential)));
  }

  @FieldResolver(() => ApiTokenConnection, { description: "This account's active API tokens, newest first (expired ones included). Visible only to the account itself; others get FORBIDDEN." })
  async apiTokens(@Root() user: UserType, @Args() page: ConnectionArgs, @Ctx() ctx: RequestContext) {
    if (ctx.viewer?.id !== user.rowId) throw forbidden('Only the account itself sees its API tokens');
    return toConnection(await ctx.services.apiTokens.list(user.rowId, page), presentApiToken);
  }
}

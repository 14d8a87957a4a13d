import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../context/request-context';
import { badInput } from '../../shared/errors';
import { fromGlobalId } from '../../shared/global-id';
import { presentPost } from '../../modules/posts/post.types';
import { presentTag } from '../../modules/tags/tag.types';
import { presentUser } from '../../modules/users/user.types';
import { presentApiToken } from '../../modules/access/api-token.types';
import { MAX_PAGE_SIZE } from '../../shared/pagination';
import { Node } from './node';

/** Resolves any global id through the per-request loaders, so `nodes(ids:)` batches by type. */
async function loadNode(globalId: string, ctx: RequestContext): Promise<Node | null> {
  const { type, id } = fromGlobalId(globalId);
  switch (type) {
    case 'Post': {
      const p = await ctx.loaders.post.load(id);
      return p && presentPost(p);
    }
    case 'User': {
      const u = await ctx.loaders.user.load(id);
      return u && presentUser(u);
    }
    case 'Tag': {
      const t = await ctx.loaders.tag.load(id);
      return t && presentTag(t);
    }
    case 'ApiToken': {
      // Only its owner can see a token exists.
      const t = await ctx.services.apiTokens.ownedBy(id, ctx.viewer);
      return t && presentApiToken(t);
    }
  }
}

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'Any object by its global id; null when it does not exist or is not visible.' })
  node(@Arg('id', () => ID, { description: 'A global id.' }) id: string, @Ctx() ctx: RequestContext): Promise<Node | null> {
    return loadNode(id, ctx);
  }

  @Query(() => [Node], { nullable: 'items', description: `Several objects by global id (at most ${MAX_PAGE_SIZE}), in the order asked; null for each missing one.` })
  nodes(@Arg('ids', () => [ID], { description: 'Global ids, at most 100.' }) ids: string[], @Ctx() ctx: RequestContext): Promise<Array<Node | null>> {
    if (ids.length > MAX_PAGE_SIZE) throw badInput(`At most ${MAX_PAGE_SIZE} ids`, 'ids');
    return Promise.all(ids.map((id) => loadNode(id, ctx)));
  }
}

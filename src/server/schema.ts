import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { type AuthChecker, buildSchema } from 'type-graphql';
import type { RequestContext } from '../context/request-context';
import type { AppPubSub } from '../shared/pubsub';
import { PostResolver } from '../modules/posts/post.resolver';
import { SocialResolver } from '../modules/social/social.resolver';
import { TagResolver } from '../modules/tags/tag.resolver';
import { UserResolver } from '../modules/users/user.resolver';
import { NodeResolver } from './graphql/node.resolver';
import { FeedResolver } from '../modules/feed/feed.resolver';
import { ModerationResolver, ModerationSubjectResolver, PostModerationResolver } from '../modules/moderation/moderation.resolver';
import { ApiTokenResolver } from '../modules/access/api-token.resolver';
import { RateLimitResolver } from '../modules/access/rate-limit.resolver';

/** `@Authorized()` needs a viewer; `@Authorized('MODERATOR', …)` needs one of the roles. */
const authChecker: AuthChecker<RequestContext> = ({ context }, roles) =>
  Boolean(context.viewer) && (roles.length === 0 || roles.includes(context.viewer!.role));

export const resolvers = [
  NodeResolver, UserResolver, PostResolver, TagResolver, SocialResolver,
  ModerationResolver, ModerationSubjectResolver, PostModerationResolver, FeedResolver,
  ApiTokenResolver, RateLimitResolver,
] as const;

export async function buildAppSchema(pubSub: AppPubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers,
    pubSub,
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false },
  });
  // type-graphql has no option for the root types' descriptions; they are part of the reference docs.
  schema.getQueryType()!.description = 'Entry points for reading: the viewer, posts, users, tags and any node by id.';
  schema.getMutationType()!.description = 'Entry points for writing; each mutation runs in one transaction.';
  schema.getSubscriptionType()!.description = 'Live events over graphql-ws at the same `/graphql` path.';
  return schema;
}

/** The checked-in contract, schema/schema.graphql: sorted so that moving code does not change it. */
export function printPublicSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}

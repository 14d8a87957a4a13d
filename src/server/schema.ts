import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { type AuthChecker, buildSchema } from 'type-graphql';
import type { RequestContext } from '../context/request-context';
import type { AppPubSub } from '../shared/pubsub';
import { PostResolver } from '../modules/posts/post.resolver';
import { SocialResolver } from '../modules/social/social.resolver';
import { TagResolver } from '../modules/tags/tag.resolver';
import { UserResolver } from '../modules/users/user.resolver';
import { NodeResolver } from './graphql/node.resolver';

/** `@Authorized()` needs a viewer; `@Authorized('MODERATOR', …)` needs one of the roles. */
const authChecker: AuthChecker<RequestContext> = ({ context }, roles) =>
  Boolean(context.viewer) && (roles.length === 0 || roles.includes(context.viewer!.role));

export const resolvers = [NodeResolver, UserResolver, PostResolver, TagResolver, SocialResolver] as const;

export function buildAppSchema(pubSub: AppPubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    pubSub,
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false },
  });
}

/** The checked-in contract, schema/schema.graphql: sorted so that moving code does not change it. */
export function printPublicSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}

import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ArrayMinSize, IsOptional, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Node } from '../../server/graphql/node';
import { Connection } from '../../server/graphql/connection';
import { toGlobalId } from '../../shared/global-id';
import type { ApiTokenEntity } from './api-token.entity';
import type { Scope } from './scopes';

export enum ApiTokenScopeEnum {
  READ = 'read',
  WRITE = 'write',
  MODERATE = 'moderate',
}
registerEnumType(ApiTokenScopeEnum, {
  name: 'ApiTokenScope',
  description: 'What an API token may do. A token never has more power than its account: `MODERATE` works only for moderators and admins.',
  valuesConfig: {
    READ: { description: 'Queries and subscriptions (feeds, posts, users, tags).' },
    WRITE: { description: 'Mutations other than moderator actions: posting, editing, voting, bookmarks, follows, reports, appeals.' },
    MODERATE: { description: 'Moderator and admin actions and views: the review queue, `moderate`, appeals, policy, roles and the `moderationVerdicts` stream.' },
  },
});

@ObjectType('ApiToken', { implements: Node, description: 'A personal API token for scripts and integrations. The secret is shown once, when the token is created.' })
export class ApiTokenType extends Node {
  @Field({ description: 'What the owner called it.' })
  name: string;

  @Field({ description: 'The beginning of the secret, e.g. `colloquy_pat_Ab3x…`, to tell tokens apart.' })
  hint: string;

  @Field(() => [ApiTokenScopeEnum], { description: 'What the token may do.' })
  scopes: Scope[];

  @Field({ description: 'When the token was created.' })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When the token stops working; null when it does not expire.' })
  expiresAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the token last authenticated a request (to the minute); null when never.' })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the token was revoked; null while it is active.' })
  revokedAt: Date | null;
}

export const ApiTokenConnection = Connection(ApiTokenType, 'ApiToken');

@InputType({ description: 'A new personal API token.' })
export class CreateApiTokenInput {
  @Field({ description: 'A name to recognise it by, e.g. "CI bot" (1–100 characters).' })
  @MinLength(1)
  @MaxLength(100)
  name: string;

  @Field(() => [ApiTokenScopeEnum], { description: 'What the token may do; at least one scope.' })
  @ArrayMinSize(1)
  scopes: Scope[];

  @Field(() => Int, { nullable: true, description: 'Days until the token expires (1–366); omit for a token that does not expire.' })
  @IsOptional()
  @Min(1)
  @Max(366)
  expiresInDays?: number | null;
}

@ObjectType({ description: 'A newly created API token and its secret.' })
export class CreateApiTokenPayload {
  @Field(() => ApiTokenType, { description: 'The stored token.' })
  apiToken: ApiTokenType;

  @Field({ description: 'The secret to send as `Authorization: Bearer <secret>`. Shown only this once: only a hash of it is stored.' })
  secret: string;
}

export function presentApiToken(t: ApiTokenEntity): ApiTokenType {
  return Object.assign(new ApiTokenType(), {
    id: toGlobalId('ApiToken', t.id),
    name: t.name,
    hint: t.hint,
    scopes: t.scopes,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
  });
}

import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { IsEmail, IsOptional, MaxLength } from 'class-validator';
import { Node } from '../../server/graphql/node';
import { Connection } from '../../server/graphql/connection';
import { toGlobalId } from '../../shared/global-id';
import type { Role, UserEntity } from './user.entity';

export enum RoleEnum {
  MEMBER = 'MEMBER',
  MODERATOR = 'MODERATOR',
  ADMIN = 'ADMIN',
}
registerEnumType(RoleEnum, {
  name: 'Role',
  description: 'What an account may do.',
  valuesConfig: {
    MEMBER: { description: 'Posts, votes, bookmarks and follows.' },
    MODERATOR: { description: 'A member who also acts on content posted by others.' },
    ADMIN: { description: 'A moderator who also manages accounts and policy.' },
  },
});

@ObjectType('User', { implements: Node, description: 'A member of the community.' })
export class UserType extends Node {
  /** Row id for field resolvers; not part of the schema. */
  rowId: number;
  privateEmail: string | null;

  @Field({ description: 'Unique handle, e.g. `ada`; case-insensitive.' })
  handle: string;

  @Field({ description: 'Name shown beside the handle.' })
  displayName: string;

  @Field({ description: 'Markdown profile text.' })
  bio: string;

  @Field(() => RoleEnum, { description: 'The account role.' })
  role: Role;

  @Field(() => Int, { description: 'Reputation earned from votes on this user\'s posts.' })
  reputation: number;

  @Field(() => Int, { description: 'Number of users following this user.' })
  followerCount: number;

  @Field(() => Int, { description: 'Number of users this user follows.' })
  followingCount: number;

  @Field(() => Int, { description: 'Number of posts (of every kind) this user has written.' })
  postCount: number;

  @Field({ description: 'When the account was created.' })
  createdAt: Date;
}

export const UserConnection = Connection(UserType, 'User');

export function presentUser(u: UserEntity): UserType {
  return Object.assign(new UserType(), {
    id: toGlobalId('User', u.id),
    rowId: u.id,
    privateEmail: u.email,
    handle: u.handle,
    displayName: u.displayName,
    bio: u.bio,
    role: u.role,
    reputation: u.reputation,
    followerCount: u.followerCount,
    followingCount: u.followingCount,
    postCount: u.postCount,
    createdAt: u.createdAt,
  });
}

@ObjectType({ description: 'A session token and the account it belongs to.' })
export class AuthPayload {
  @Field({ description: 'Bearer token for the `Authorization` header or the WebSocket `connectionParams`.' })
  token: string;

  @Field(() => UserType, { description: 'The account.' })
  user: UserType;
}

@InputType({ description: 'A new account.' })
export class SignUpInput {
  @Field({ description: 'Unique handle: 2–39 letters, digits, `_`, `-` or `.`.' })
  @MaxLength(39)
  handle: string;

  @Field({ description: 'At least 8 characters.' })
  @MaxLength(200)
  password: string;

  @Field(() => String, { nullable: true, description: 'E-mail address; visible only to the account and admins.' })
  @IsOptional()
  @IsEmail()
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'Name shown beside the handle; defaults to the handle.' })
  @IsOptional()
  @MaxLength(80)
  displayName?: string | null;
}

@InputType({ description: 'Credentials for `logIn`.' })
export class LogInInput {
  @Field({ description: 'Handle or e-mail address.' })
  @MaxLength(200)
  handle: string;

  @Field({ description: 'The account password.' })
  @MaxLength(200)
  password: string;
}

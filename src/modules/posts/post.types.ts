import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { IsOptional, MaxLength } from 'class-validator';
import { Node } from '../../server/graphql/node';
import { Connection } from '../../server/graphql/connection';
import { toGlobalId } from '../../shared/global-id';
import type { PostEntity, PostKind, PostStatus } from './post.entity';
import { BODY_MAX, TITLE_MAX } from './post.rules';

export enum PostKindEnum {
  QUESTION = 'QUESTION',
  ANSWER = 'ANSWER',
  ARTICLE = 'ARTICLE',
  DISCUSSION = 'DISCUSSION',
  COMMENT = 'COMMENT',
}
registerEnumType(PostKindEnum, {
  name: 'PostKind',
  description: 'What a post is.',
  valuesConfig: {
    QUESTION: { description: 'A question; has a title and at least one tag, and may have one accepted answer.' },
    ANSWER: { description: 'An answer to a question (its parent).' },
    ARTICLE: { description: 'A long-form article with a title and tags.' },
    DISCUSSION: { description: 'An open-ended discussion thread with a title and tags.' },
    COMMENT: { description: 'A short comment on any post (its parent), including another comment.' },
  },
});

export enum PostStatusEnum {
  PENDING = 'PENDING',
  PUBLISHED = 'PUBLISHED',
  PENDING_REVIEW = 'PENDING_REVIEW',
  HIDDEN = 'HIDDEN',
  REMOVED = 'REMOVED',
}
registerEnumType(PostStatusEnum, {
  name: 'PostStatus',
  description: 'Moderation status of a post.',
  valuesConfig: {
    PENDING: { description: 'Awaiting the moderation model; visible only to its author and moderators.' },
    PUBLISHED: { description: 'Visible to everyone.' },
    PENDING_REVIEW: { description: 'Held for review; visible only to its author and moderators.' },
    HIDDEN: { description: 'Hidden by moderation; visible only to its author and moderators.' },
    REMOVED: { description: 'Removed by a moderator; visible only to its author and moderators.' },
  },
});

export enum PostOrderEnum {
  NEW = 'NEW',
  TOP = 'TOP',
  HOT = 'HOT',
  BEST = 'BEST',
}
registerEnumType(PostOrderEnum, {
  name: 'PostOrder',
  description: 'How a list of posts is ordered.',
  valuesConfig: {
    NEW: { description: 'Newest first.' },
    TOP: { description: 'Highest score (up minus down votes) first.' },
    HOT: { description: "Reddit's hot ranking: log10 of the score plus a bonus for recency." },
    BEST: { description: 'Answers only: the accepted answer first, then by the lower bound of the Wilson score interval.' },
  },
});

export enum VoteValueEnum {
  UP = 'UP',
  DOWN = 'DOWN',
  CLEAR = 'CLEAR',
}
registerEnumType(VoteValueEnum, {
  name: 'VoteValue',
  description: 'A vote on a post.',
  valuesConfig: {
    UP: { description: 'An up vote.' },
    DOWN: { description: 'A down vote.' },
    CLEAR: { description: 'Withdraws the vote (only valid as input).' },
  },
});

@ObjectType('Post', { implements: Node, description: 'A question, answer, article, discussion or comment.' })
export class PostType extends Node {
  rowId: number;
  authorId: number;
  parentId: number | null;
  acceptedAnswerId: number | null;
  duplicateOfId: number | null;

  @Field(() => PostKindEnum, { description: 'What this post is.' })
  kind: PostKind;

  @Field(() => String, { nullable: true, description: 'Title; set on questions, articles and discussions, null otherwise.' })
  title: string | null;

  @Field({ description: 'Markdown body.' })
  body: string;

  @Field(() => PostStatusEnum, { description: 'Moderation status.' })
  status: PostStatus;

  @Field({ description: 'Whether this answer is the accepted answer to its question.' })
  isAccepted: boolean;

  @Field(() => Int, { description: 'Up votes minus down votes.' })
  score: number;

  @Field(() => Int, { description: 'Number of up votes.' })
  upVoteCount: number;

  @Field(() => Int, { description: 'Number of down votes.' })
  downVoteCount: number;

  @Field(() => Int, { description: 'Number of answers (questions only).' })
  answerCount: number;

  @Field(() => Int, { description: 'Number of direct comments.' })
  commentCount: number;

  @Field(() => Int, { description: 'Number of members who bookmarked this post.' })
  bookmarkCount: number;

  @Field({ description: 'When the post was created.' })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When the post was last edited, if ever.' })
  editedAt: Date | null;
}

export const PostConnection = Connection(PostType, 'Post');

export function presentPost(p: PostEntity): PostType {
  return Object.assign(new PostType(), {
    id: toGlobalId('Post', p.id),
    rowId: p.id,
    authorId: p.authorId,
    parentId: p.parentId,
    acceptedAnswerId: p.acceptedAnswerId,
    duplicateOfId: p.duplicateOfId,
    kind: p.kind,
    title: p.title,
    body: p.body,
    status: p.status,
    isAccepted: p.isAccepted,
    score: p.score,
    upVoteCount: p.upVotes,
    downVoteCount: p.downVotes,
    answerCount: p.answerCount,
    commentCount: p.commentCount,
    bookmarkCount: p.bookmarkCount,
    createdAt: p.createdAt,
    editedAt: p.editedAt,
  });
}

@InputType({ description: 'Filters for `posts`; all given filters must match.' })
export class PostFilterInput {
  @Field(() => String, { nullable: true, description: 'Only posts with this tag.' })
  tag?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only posts by this user (a User id).' })
  authorId?: string | null;

  @Field(() => PostKindEnum, { nullable: true, description: 'Only posts of this kind.' })
  kind?: PostKind | null;

  @Field(() => ID, { nullable: true, description: 'Only direct children of this post (a Post id).' })
  parentId?: string | null;
}

@InputType({ description: 'A new post.' })
export class CreatePostInput {
  @Field(() => PostKindEnum, { description: 'What to create.' })
  kind: PostKind;

  @Field(() => String, { nullable: true, description: `Title (5–${TITLE_MAX} characters); required for questions, articles and discussions, absent otherwise.` })
  @IsOptional()
  @MaxLength(TITLE_MAX)
  title?: string | null;

  @Field({ description: `Markdown body, at most ${BODY_MAX} characters.` })
  @MaxLength(BODY_MAX)
  body: string;

  @Field(() => [String], { nullable: true, description: 'Up to 5 tags (created if new); a question needs at least one. Answers and comments take their parent\'s.' })
  tags?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'The post this one replies to: a question for an answer, any post for a comment.' })
  parentId?: string | null;
}

@InputType({ description: 'Changes to a post; omitted fields stay as they are.' })
export class EditPostInput {
  @Field(() => ID, { description: 'The post to edit.' })
  id: string;

  @Field(() => String, { nullable: true, description: 'New title.' })
  @IsOptional()
  @MaxLength(TITLE_MAX)
  title?: string | null;

  @Field(() => String, { nullable: true, description: 'New markdown body.' })
  @IsOptional()
  @MaxLength(BODY_MAX)
  body?: string | null;

  @Field(() => [String], { nullable: true, description: 'New tag list (replaces the old one).' })
  tags?: string[] | null;
}

@ObjectType({ description: 'Result of `deletePost`.' })
export class DeletePostPayload {
  @Field(() => ID, { description: 'Id of the deleted post.' })
  deletedPostId: string;
}

import { Field, Int, ObjectType } from 'type-graphql';
import { Node } from '../../server/graphql/node';
import { Connection } from '../../server/graphql/connection';
import { toGlobalId } from '../../shared/global-id';
import type { TagEntity } from './tag.entity';

@ObjectType('Tag', { implements: Node, description: 'A topic label on questions, articles and discussions.' })
export class TagType extends Node {
  rowId: number;

  @Field({ description: 'Lower-case name, e.g. `typescript`.' })
  name: string;

  @Field({ description: 'What the tag is for.' })
  description: string;

  @Field(() => Int, { description: 'Number of posts with this tag.' })
  postCount: number;

  @Field(() => Int, { description: 'Number of members following this tag.' })
  followerCount: number;
}

export const TagConnection = Connection(TagType, 'Tag');

export function presentTag(t: TagEntity): TagType {
  return Object.assign(new TagType(), {
    id: toGlobalId('Tag', t.id),
    rowId: t.id,
    name: t.name,
    description: t.description,
    postCount: t.postCount,
    followerCount: t.followerCount,
  });
}

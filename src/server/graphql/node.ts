import { Field, ID, InterfaceType, ObjectType } from 'type-graphql';

@InterfaceType({ description: 'An object with a globally unique, opaque id. Fetch any node with `node(id:)`.' })
export abstract class Node {
  @Field(() => ID, { description: 'Globally unique, opaque id; stable across releases.' })
  id: string;
}

@ObjectType({ description: 'Relay pagination state of a connection.' })
export class PageInfo {
  @Field({ description: 'Whether more items follow `endCursor` (paging forward with `first`/`after`).' })
  hasNextPage: boolean;

  @Field({ description: 'Whether more items precede `startCursor` (paging backward with `last`/`before`).' })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item of this page.' })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item of this page.' })
  endCursor: string | null;
}

import { ArgsType, type ClassType, Field, Int, ObjectType } from 'type-graphql';
import type { Page } from '../../shared/pagination';
import { PageInfo } from './node';

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true, description: 'Page size when paging forward (1–100; 20 when neither `first` nor `last` is given).' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Return items after this cursor.' })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: 'Page size when paging backward (1–100).' })
  last?: number | null;

  @Field(() => String, { nullable: true, description: 'Return items before this cursor.' })
  before?: string | null;
}

export interface ConnectionShape<T> {
  edges: Array<{ node: T; cursor: string }>;
  nodes: T[];
  pageInfo: PageInfo;
}

/** Builds `<Name>Connection` and `<Name>Edge` for a node type (Relay cursor connections spec). */
export function Connection<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`, { description: `An edge to a ${name} in a connection.` })
  class Edge {
    @Field(() => node, { description: 'The item at the end of the edge.' })
    node: T;

    @Field({ description: 'Opaque cursor for use with `after`/`before`.' })
    cursor: string;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} items.` })
  class Conn implements ConnectionShape<T> {
    @Field(() => [Edge], { description: 'The items with their cursors.' })
    edges: Edge[];

    @Field(() => [node], { description: 'The items, without cursors.' })
    nodes: T[];

    @Field(() => PageInfo, { description: 'Pagination state.' })
    pageInfo: PageInfo;
  }
  return Conn;
}

export function toConnection<E, T>(page: Page<E>, present: (e: E) => T): ConnectionShape<T> {
  const nodes = page.nodes.map(present);
  return {
    nodes,
    edges: nodes.map((node, i) => ({ node, cursor: page.cursors[i] })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.cursors[0] ?? null,
      endCursor: page.cursors[page.cursors.length - 1] ?? null,
    },
  };
}

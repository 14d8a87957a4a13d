import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../../server/graphql/connection';
import { PostType } from '../posts/post.types';

export enum FeedModeEnum { FOR_YOU = 'FOR_YOU', FOLLOWING = 'FOLLOWING', LATEST = 'LATEST', HOT = 'HOT' }
registerEnumType(FeedModeEnum, {
  name: 'FeedMode',
  description: 'Which feed.',
  valuesConfig: {
    FOR_YOU: { description: 'Ranked for the viewer from what they follow and do; hot and fresh posts for anonymous or new members.' },
    FOLLOWING: { description: 'Posts by people and with tags the viewer follows, newest first. Requires login.' },
    LATEST: { description: 'All published questions, articles and discussions, newest first.' },
    HOT: { description: "Reddit's hot ranking over recent posts." },
  },
});

export enum DismissReasonEnum { NOT_INTERESTED = 'NOT_INTERESTED', SEEN_TOO_OFTEN = 'SEEN_TOO_OFTEN', OFF_TOPIC = 'OFF_TOPIC', LOW_QUALITY = 'LOW_QUALITY' }
registerEnumType(DismissReasonEnum, {
  name: 'DismissReason',
  description: 'Why a member asks to see less like a post.',
  valuesConfig: {
    NOT_INTERESTED: { description: 'Not interested in this topic or author.' },
    SEEN_TOO_OFTEN: { description: 'Too much of this lately.' },
    OFF_TOPIC: { description: 'Does not belong here.' },
    LOW_QUALITY: { description: 'Poor quality.' },
  },
});

@ObjectType('FeedItem', { description: 'A post in a feed, with why it is there.' })
export class FeedItemType {
  postRowId: number;

  @Field(() => PostType, { description: 'The post.' })
  post: PostType;

  @Field({ description: 'Why it is in this feed, e.g. "because you follow #rust".' })
  reason: string;

  @Field(() => Int, { description: 'Position in the feed, from 1; stable across pages of one feed load.' })
  rank: number;
}

export const FeedItemConnection = Connection(FeedItemType, 'FeedItem');

export enum FeedUpdateReasonEnum { NEW_CONTENT = 'NEW_CONTENT', YOUR_ACTIVITY = 'YOUR_ACTIVITY', MODERATION = 'MODERATION' }
registerEnumType(FeedUpdateReasonEnum, {
  name: 'FeedUpdateReason',
  description: 'What moved the top of the feed.',
  valuesConfig: {
    NEW_CONTENT: { description: 'New posts were published.' },
    YOUR_ACTIVITY: { description: 'Your votes, bookmarks, follows or dismissals changed the ranking.' },
    MODERATION: { description: 'Moderation took posts down.' },
  },
});

@ObjectType('FeedUpdate', { description: 'A change to the top of the viewer\'s FOR_YOU feed.' })
export class FeedUpdateType {
  @Field(() => [FeedUpdateReasonEnum], { description: 'What caused it (several when coalesced).' })
  reasons: string[];

  @Field(() => [FeedItemType], { description: 'Items that entered the top or whose rank or reason changed, as they stand now.' })
  changed: FeedItemType[];

  @Field(() => [ID], { description: 'Posts that left the top.' })
  removedPostIds: string[];

  @Field(() => [ID], { description: 'The new top, in order.' })
  topPostIds: string[];
}

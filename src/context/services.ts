import type { AppPubSub } from '../shared/pubsub';
import type { UnitOfWork } from '../shared/db/unit-of-work';
import { PostService } from '../modules/posts/post.service';
import { SocialService } from '../modules/social/social.service';
import { TagService } from '../modules/tags/tag.service';
import { UserService } from '../modules/users/user.service';
import { ModerationService } from '../modules/moderation/moderation.service';
import { FeedService } from '../modules/feed/feed.service';
import type { RecommenderStore } from '../modules/feed/recommender-store';
import { ApiTokenService } from '../modules/access/api-token.service';

/** Every domain service bound to one DB handle, so the same code runs in or out of a transaction. */
export interface ServiceOptions {
  /** Content waits for the moderation model (true whenever the inference pool runs). */
  automaticModeration: boolean;
  /** Collaborative scores served by the pool; absent, feeds rank from the other sources. */
  recommender?: RecommenderStore | null;
  /** See `Config.feed.catchUpMs`; 0 takes in every new post on the next request. */
  feedCatchUpMs?: number;
}

export function services(uow: UnitOfWork, pubSub: AppPubSub, opts: ServiceOptions = { automaticModeration: false }) {
  return {
    users: new UserService(uow, pubSub),
    posts: new PostService(uow, pubSub, opts.automaticModeration),
    tags: new TagService(uow.manager),
    social: new SocialService(uow, pubSub),
    moderation: new ModerationService(uow, pubSub),
    feed: new FeedService(uow, pubSub, opts.recommender ?? null, opts.feedCatchUpMs ?? 0),
    apiTokens: new ApiTokenService(uow),
  };
}

export type Services = ReturnType<typeof services>;

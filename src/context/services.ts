import type { AppPubSub } from '../shared/pubsub';
import type { UnitOfWork } from '../shared/db/unit-of-work';
import { PostService } from '../modules/posts/post.service';
import { SocialService } from '../modules/social/social.service';
import { TagService } from '../modules/tags/tag.service';
import { UserService } from '../modules/users/user.service';

/** Every domain service bound to one DB handle, so the same code runs in or out of a transaction. */
export function services(uow: UnitOfWork, pubSub: AppPubSub) {
  return {
    users: new UserService(uow.manager),
    posts: new PostService(uow, pubSub),
    tags: new TagService(uow.manager),
    social: new SocialService(uow.manager),
  };
}

export type Services = ReturnType<typeof services>;

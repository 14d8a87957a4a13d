import DataLoader from 'dataloader';
import type { ModerationStatusEntity } from '../modules/moderation/moderation-status.entity';
import type { PostEntity } from '../modules/posts/post.entity';
import type { TagEntity } from '../modules/tags/tag.entity';
import type { UserEntity } from '../modules/users/user.entity';
import type { Viewer } from '../modules/users/user.service';
import type { Services } from './services';

function byId<T extends { id: number }>(rows: T[], ids: readonly number[]): Array<T | null> {
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id) ?? null);
}

/**
 * One set per operation (and per subscription event), so a cache never outlives the request that
 * filled it. Viewer-specific loaders answer "nothing" for anonymous viewers without a query.
 */
export function createLoaders(s: Services, viewer: Viewer | null) {
  const viewerId = viewer?.id;
  return {
    user: new DataLoader<number, UserEntity | null>(async (ids) => byId(await s.users.byIds(ids), ids)),
    post: new DataLoader<number, PostEntity | null>(async (ids) => byId(await s.posts.byIds(ids, viewer), ids)),
    tag: new DataLoader<number, TagEntity | null>(async (ids) => byId(await s.tags.byIds(ids), ids)),
    tagsOfPost: new DataLoader<number, TagEntity[]>(async (ids) => {
      const map = await s.tags.byPostIds(ids);
      return ids.map((id) => map.get(id) ?? []);
    }),
    moderationStatus: new DataLoader<number, ModerationStatusEntity | null>(async (ids) => {
      const rows = await s.moderation.statusOf(ids);
      const map = new Map(rows.map((r) => [r.subjectId, r]));
      return ids.map((id) => map.get(id) ?? null);
    }),
    viewerVote: new DataLoader<number, number>(async (ids) => {
      if (!viewerId) return ids.map(() => 0);
      const map = await s.social.votesOf(viewerId, ids);
      return ids.map((id) => map.get(id) ?? 0);
    }),
    viewerBookmarked: new DataLoader<number, boolean>(async (ids) => {
      if (!viewerId) return ids.map(() => false);
      const set = await s.social.bookmarkedBy(viewerId, ids);
      return ids.map((id) => set.has(id));
    }),
    viewerFollowsUser: new DataLoader<number, boolean>(async (ids) => {
      if (!viewerId) return ids.map(() => false);
      const set = await s.social.followedUsers(viewerId, ids);
      return ids.map((id) => set.has(id));
    }),
    viewerFollowsTag: new DataLoader<number, boolean>(async (ids) => {
      if (!viewerId) return ids.map(() => false);
      const set = await s.social.followedTags(viewerId, ids);
      return ids.map((id) => set.has(id));
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

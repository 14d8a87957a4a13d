import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Join rows are keyed by their pair, which is what enforces "one per user and post". */

@Entity('post_tags')
export class PostTagEntity {
  @PrimaryColumn({ type: 'integer', name: 'post_id' })
  postId: number;

  @PrimaryColumn({ type: 'integer', name: 'tag_id' })
  tagId: number;
}

@Entity('votes')
export class VoteEntity {
  @PrimaryColumn({ type: 'integer', name: 'user_id' })
  userId: number;

  @PrimaryColumn({ type: 'integer', name: 'post_id' })
  postId: number;

  /** +1 or -1; clearing a vote deletes the row. */
  @Column({ type: 'smallint' })
  value: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}

@Entity('bookmarks')
export class BookmarkEntity {
  @PrimaryColumn({ type: 'integer', name: 'user_id' })
  userId: number;

  @PrimaryColumn({ type: 'integer', name: 'post_id' })
  postId: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}

@Entity('user_follows')
export class UserFollowEntity {
  @PrimaryColumn({ type: 'integer', name: 'follower_id' })
  followerId: number;

  @PrimaryColumn({ type: 'integer', name: 'followee_id' })
  followeeId: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}

@Entity('tag_follows')
export class TagFollowEntity {
  @PrimaryColumn({ type: 'integer', name: 'user_id' })
  userId: number;

  @PrimaryColumn({ type: 'integer', name: 'tag_id' })
  tagId: number;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}

import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const POST_KINDS = ['QUESTION', 'ANSWER', 'ARTICLE', 'DISCUSSION', 'COMMENT'] as const;
export type PostKind = (typeof POST_KINDS)[number];

export const POST_STATUSES = ['PENDING', 'PUBLISHED', 'PENDING_REVIEW', 'HIDDEN', 'REMOVED'] as const;
export type PostStatus = (typeof POST_STATUSES)[number];

/**
 * Vote tallies, answer/comment counts and the ranking keys (hot, wilson) are denormalised here and
 * updated in the same transaction as the change that moves them, so lists sort on indexed columns.
 */
@Entity('posts')
export class PostEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'text' })
  kind: PostKind;

  @Column({ type: 'integer', name: 'parent_id', nullable: true })
  parentId: number | null;

  @Column({ type: 'integer', name: 'author_id' })
  authorId: number;

  @Column({ type: 'text', nullable: true })
  title: string | null;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'text', default: 'PUBLISHED' })
  status: PostStatus;

  @Column({ type: 'integer', name: 'accepted_answer_id', nullable: true })
  acceptedAnswerId: number | null;

  @Column({ type: 'boolean', name: 'is_accepted', default: false })
  isAccepted: boolean;

  @Column({ type: 'integer', name: 'duplicate_of_id', nullable: true })
  duplicateOfId: number | null;

  @Column({ type: 'integer', name: 'up_votes', default: 0 })
  upVotes: number;

  @Column({ type: 'integer', name: 'down_votes', default: 0 })
  downVotes: number;

  @Column({ type: 'integer', default: 0 })
  score: number;

  @Column({ type: 'double precision', default: 0 })
  hot: number;

  @Column({ type: 'double precision', default: 0 })
  wilson: number;

  @Column({ type: 'integer', name: 'answer_count', default: 0 })
  answerCount: number;

  @Column({ type: 'integer', name: 'comment_count', default: 0 })
  commentCount: number;

  @Column({ type: 'integer', name: 'bookmark_count', default: 0 })
  bookmarkCount: number;

  @Column({ type: 'text', nullable: true })
  source: string | null;

  @Column({ type: 'text', name: 'source_id', nullable: true })
  sourceId: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;

  @Column({ type: 'timestamptz', name: 'edited_at', nullable: true })
  editedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'first_published_at', nullable: true })
  firstPublishedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'deleted_at', nullable: true })
  deletedAt: Date | null;
}

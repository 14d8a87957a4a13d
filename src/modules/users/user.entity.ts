import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const ROLES = ['MEMBER', 'MODERATOR', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'text' })
  handle: string;

  @Column({ type: 'text', name: 'display_name' })
  displayName: string;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  /** Null for accounts that cannot log in with a password (e.g. imported ones). */
  @Column({ type: 'text', name: 'password_hash', nullable: true, select: false })
  passwordHash: string | null;

  @Column({ type: 'text' })
  role: Role;

  @Column({ type: 'text', default: '' })
  bio: string;

  @Column({ type: 'integer', default: 0 })
  reputation: number;

  @Column({ type: 'integer', name: 'follower_count', default: 0 })
  followerCount: number;

  @Column({ type: 'integer', name: 'following_count', default: 0 })
  followingCount: number;

  @Column({ type: 'integer', name: 'post_count', default: 0 })
  postCount: number;

  /** Where an imported account came from (e.g. `stackexchange:quantumcomputing`) and its id there. */
  @Column({ type: 'text', nullable: true })
  source: string | null;

  @Column({ type: 'text', name: 'source_id', nullable: true })
  sourceId: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}

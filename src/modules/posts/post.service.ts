import type { SelectQueryBuilder } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { badInput, forbidden, notFound, unauthenticated } from '../../shared/errors';
import { type Page, type PageArgs, type SortKey, checkPageArgs, paginate } from '../../shared/pagination';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
import type { UnitOfWork } from '../../shared/db/unit-of-work';
import type { TagEntity } from '../tags/tag.entity';
import { TagService } from '../tags/tag.service';
import { UserEntity } from '../users/user.entity';
import { rawHydrator } from '../../shared/db/hydrate';
import { type Wrap, rawManyPrepared } from '../../shared/db/prepared';
import { isStaff, type Viewer } from '../users/user.service';
import { PostEntity, type PostKind } from './post.entity';
import { allowedParents, checkBody, checkTags, checkTitle } from './post.rules';
import { hotRank } from './ranking';
import { announcePublished } from './thread-tags';
import { JOBS_CHANNEL } from '../moderation/dispatcher';

export type PostOrder = 'NEW' | 'TOP' | 'HOT' | 'BEST';

export interface PostFilter {
  tag?: string | null;
  authorId?: number | null;
  kind?: PostKind | null;
  parentId?: number | null;
  /** Questions, articles and discussions only: what a list of posts shows unless asked otherwise. */
  topLevelOnly?: boolean;
}

export interface PageWithRelated {
  page: Page<PostEntity>;
  authors: UserEntity[];
  /** Every post of the page, in tag-name order; empty when it has none. */
  tags: Map<number, TagEntity[]>;
}

export interface CreatePostInput {
  kind: PostKind;
  title?: string | null;
  body: string;
  tags?: string[] | null;
  parentId?: number | null;
}

export interface EditPostInput {
  title?: string | null;
  body?: string | null;
  tags?: string[] | null;
}

const SORT_KEYS: Record<PostOrder, SortKey<PostEntity>> = {
  NEW: { expressions: ['p.created_at', 'p.id'], values: (p) => [p.createdAt.toISOString(), p.id] },
  TOP: { expressions: ['p.score', 'p.id'], values: (p) => [p.score, p.id] },
  HOT: { expressions: ['p.hot', 'p.id'], values: (p) => [p.hot, p.id] },
  BEST: { expressions: ['p.is_accepted', 'p.wilson', 'p.id'], values: (p) => [p.isAccepted, p.wilson, p.id] },
};

/** Columns no presenter reads, left out of list pages (TypeORM property names). */
const PAGE_OMITS = ['source', 'sourceId', 'updatedAt', 'firstPublishedAt', 'deletedAt'];

const selectable = (columns: ColumnMetadata[], omit: string[]) =>
  columns.filter((c) => c.isSelect && !omit.includes(c.propertyName)).map((c) => c.propertyName);

export class PostService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly pubSub: AppPubSub,
    /** When on, new and edited content waits (PENDING) for the model's verdict before anyone else sees it. */
    private readonly automaticModeration: boolean,
  ) {}

  private get repo() {
    return this.uow.manager.getRepository(PostEntity);
  }

  private get tags() {
    return new TagService(this.uow.manager);
  }

  /** Deleted posts are gone for everyone; unpublished ones are seen only by their author and staff. */
  private visible(viewer: Viewer | null): SelectQueryBuilder<PostEntity> {
    const qb = this.repo.createQueryBuilder('p').where('p.deleted_at IS NULL');
    if (isStaff(viewer)) return qb;
    if (viewer) return qb.andWhere(`(p.status = 'PUBLISHED' OR p.author_id = :viewerId)`, { viewerId: viewer.id });
    return qb.andWhere(`p.status = 'PUBLISHED'`);
  }

  byIds(ids: readonly number[], viewer: Viewer | null): Promise<PostEntity[]> {
    return this.visible(viewer).andWhere('p.id = ANY(:ids)', { ids }).getMany();
  }

  async get(id: number, viewer: Viewer | null): Promise<PostEntity> {
    const [post] = await this.byIds([id], viewer);
    if (!post) throw notFound('Post');
    return post;
  }

  async list(filter: PostFilter, order: PostOrder, page: PageArgs, viewer: Viewer | null): Promise<Page<PostEntity>> {
    const post = rawHydrator<PostEntity>(this.repo.metadata, 'p');
    return paginate(this.filtered(filter, order, viewer), SORT_KEYS[order], page, async (qb) => (await rawManyPrepared(this.uow.manager, qb)).map(post));
  }

  /**
   * `list` with each post's author and tags read by the same statement: a page that shows them
   * costs one round trip instead of three (posts, then the user and tag loaders' batches). The
   * entities carry what presenters and the ordering's cursor read: bookkeeping columns (import
   * source, update and publication times) and the other orderings' ranking keys stay in the
   * table, and so does the body unless `body` is set.
   */
  async listWithAuthorsAndTags(filter: PostFilter, order: PostOrder, page: PageArgs, viewer: Viewer | null, { body }: { body: boolean }): Promise<PageWithRelated> {
    // Floats are the dearest columns to print and parse; only the ordering's own cursor reads its key.
    const omit = [...PAGE_OMITS, ...(body ? [] : ['body']), ...(order === 'HOT' ? [] : ['hot']), ...(order === 'BEST' ? [] : ['wilson'])];
    const dir = checkPageArgs(page).backward ? 'ASC' : 'DESC';
    const outerOrder = SORT_KEYS[order].expressions.map((e) => `page.${e.replace(/^p\.(\w+)$/, 'p_$1')} ${dir}`).join(', ');
    let related: Omit<PageWithRelated, 'page'> = { authors: [], tags: new Map() };
    const result = await paginate(this.filtered(filter, order, viewer), SORT_KEYS[order], page, async (qb) => {
      const { posts, ...rest } = await this.withAuthorsAndTags(qb, omit, `posts-page-tags ${outerOrder}`, outerOrder);
      related = rest;
      return posts;
    });
    return { page: result, ...related };
  }

  /**
   * Posts by id that the viewer may see, with their authors and tags, in one prepared statement:
   * what a feed page hydrates, priming the loaders instead of sending one query each for posts,
   * authors and tags.
   */
  async byIdsWithAuthorsAndTags(ids: readonly number[], viewer: Viewer | null): Promise<{ posts: PostEntity[] } & Omit<PageWithRelated, 'page'>> {
    if (!ids.length) return { posts: [], authors: [], tags: new Map() };
    return this.withAuthorsAndTags(this.visible(viewer).andWhere('p.id = ANY(:ids)', { ids }), PAGE_OMITS, 'posts-by-ids-tags');
  }

  /**
   * Runs `qb` (posts as `p`) with each post's author joined and the selected rows' tags joined
   * once, in the same prepared statement; `orderBy` orders the outer select by the page's order.
   */
  private async withAuthorsAndTags(qb: SelectQueryBuilder<PostEntity>, omit: string[], key: string, orderBy?: string): Promise<{ posts: PostEntity[] } & Omit<PageWithRelated, 'page'>> {
    const userMetadata = this.uow.manager.connection.getMetadata(UserEntity);
    const post = rawHydrator<PostEntity>(this.repo.metadata, 'p');
    const user = rawHydrator<UserEntity>(userMetadata, 'u');
    const withTags: Wrap = {
      key,
      sql: (inner) => `WITH page AS (${inner})
        SELECT page.*, coalesce(tags.list, '[]') AS p_tags FROM page
          LEFT JOIN (${TagService.jsonByPost('SELECT p_id FROM page')}) tags ON tags.post_id = page.p_id${orderBy ? `
         ORDER BY ${orderBy}` : ''}`,
    };
    const rows = await rawManyPrepared<{ p_id: number; u_id: number; p_tags: Parameters<TagService['fromJson']>[0] }>(this.uow.manager, qb
      .select(selectable(this.repo.metadata.columns, omit).map((c) => `p.${c}`))
      .leftJoin(UserEntity, 'u', 'u.id = p.author_id')
      .addSelect(selectable(userMetadata.columns, PAGE_OMITS).map((c) => `u.${c}`)), withTags);
    const authors = new Map<number, UserEntity>();
    const tags = new Map<number, TagEntity[]>();
    for (const r of rows) {
      tags.set(r.p_id, this.tags.fromJson(r.p_tags));
      if (!authors.has(r.u_id)) authors.set(r.u_id, user(r));
    }
    return { posts: rows.map(post), authors: [...authors.values()], tags };
  }

  private filtered(filter: PostFilter, order: PostOrder, viewer: Viewer | null): SelectQueryBuilder<PostEntity> {
    const qb = this.visible(viewer);
    if (filter.kind) qb.andWhere('p.kind = :kind', { kind: filter.kind });
    else if (filter.topLevelOnly) qb.andWhere('p.parent_id IS NULL');
    if (filter.authorId) qb.andWhere('p.author_id = :authorId', { authorId: filter.authorId });
    if (filter.parentId) qb.andWhere('p.parent_id = :parentId', { parentId: filter.parentId });
    if (filter.tag) {
      qb.andWhere(
        `EXISTS (SELECT 1 FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id AND t.name = :tag)`,
        { tag: filter.tag.trim().toLowerCase() },
      );
    }
    if (order === 'BEST' && filter.kind !== 'ANSWER') throw badInput('BEST ordering applies to answers only', 'orderBy');
    return qb;
  }

  async create(input: CreatePostInput, viewer: Viewer | null): Promise<PostEntity> {
    if (!viewer) throw unauthenticated();
    const title = checkTitle(input.kind, input.title);
    const body = checkBody(input.body);
    const tagNames = checkTags(input.kind, input.tags);
    const parentKinds = allowedParents(input.kind);
    let parent: PostEntity | null = null;
    if (parentKinds) {
      if (!input.parentId) throw badInput(`A ${input.kind.toLowerCase()} needs a parent post`, 'parentId');
      parent = await this.visible(viewer).andWhere('p.id = :id', { id: input.parentId }).setLock('pessimistic_write').getOne();
      if (!parent) throw notFound('Parent post');
      if (!parentKinds.includes(parent.kind)) {
        throw badInput(`A ${input.kind.toLowerCase()} cannot reply to a ${parent.kind.toLowerCase()}`, 'parentId');
      }
    } else if (input.parentId) {
      throw badInput(`A ${input.kind.toLowerCase()} has no parent post`, 'parentId');
    }

    await this.tags.lock(tagNames);
    const tags = await this.tags.ensure(tagNames);
    const createdAt = new Date();
    const post = await this.repo.save(
      this.repo.create({
        kind: input.kind, title, body, parentId: parent?.id ?? null, authorId: viewer.id,
        createdAt, hot: hotRank(0, createdAt),
        status: this.automaticModeration ? 'PENDING' : 'PUBLISHED',
        firstPublishedAt: this.automaticModeration ? null : createdAt,
      }),
    );
    await this.setTags(post.id, [], tags.map((t) => t.id));
    if (parent) {
      const counter = input.kind === 'ANSWER' ? 'answer_count' : 'comment_count';
      await this.uow.manager.query(`UPDATE posts SET ${counter} = ${counter} + 1 WHERE id = $1`, [parent.id]);
    }
    await this.uow.manager.query(`UPDATE users SET post_count = post_count + 1 WHERE id = $1`, [viewer.id]);
    if (this.automaticModeration) await this.enqueueModeration(post.id);
    else {
      // After commit the transaction's connection is gone: read through the data source.
      const m = this.uow.manager.connection.manager;
      this.uow.afterCommit(() => announcePublished(m, (p) => this.pubSub.publish(TOPIC.POST_ADDED, p), [post.id]));
    }
    return post;
  }

  /** The outbox row; NOTIFY wakes every dispatcher when the transaction commits, not before. */
  private async enqueueModeration(postId: number): Promise<void> {
    await this.uow.manager.query(`INSERT INTO moderation_jobs (subject_id) VALUES ($1)`, [postId]);
    await this.uow.manager.query(`SELECT pg_notify($1, '')`, [JOBS_CHANNEL]);
  }

  async edit(id: number, input: EditPostInput, viewer: Viewer | null): Promise<PostEntity> {
    const post = await this.lockForChange(id, viewer);
    const wasVisible = post.status === 'PUBLISHED';
    let retagged: string[] | null = null;
    if (input.title !== undefined && input.title !== null) post.title = checkTitle(post.kind, input.title);
    if (input.body !== undefined && input.body !== null) post.body = checkBody(input.body);
    if (input.tags) {
      const names = checkTags(post.kind, input.tags);
      const before = await this.tags.namesOfPost(post.id);
      retagged = [...new Set([...before, ...names])];
      await this.tags.lock(retagged);
      const current: Array<{ tag_id: number }> = await this.uow.manager.query(
        `SELECT tag_id FROM post_tags WHERE post_id = $1`, [post.id]);
      const next = await this.tags.ensure(names);
      await this.setTags(post.id, current.map((r) => r.tag_id), next.map((t) => t.id));
    }
    post.editedAt = new Date();
    // Changed text is judged again; content a moderator hid or removed stays as they left it.
    const rescore = this.automaticModeration && ['PUBLISHED', 'PENDING', 'PENDING_REVIEW'].includes(post.status);
    if (rescore) post.status = 'PENDING';
    const saved = await this.repo.save(post);
    if (rescore) await this.enqueueModeration(post.id);
    if (wasVisible && (rescore || retagged)) this.announceChanged(post, !rescore, retagged ?? (await this.tags.namesOfPost(post.id)));
    return saved;
  }

  /** Feeds keep lists and rankings of visible posts: tell them after commit (see Topics.POST_CHANGED). */
  private announceChanged(post: PostEntity, visible: boolean, tags: string[]): void {
    const payload = { postId: post.id, authorId: post.authorId, visible, tags };
    this.uow.afterCommit(() => this.pubSub.publish(TOPIC.POST_CHANGED, payload));
  }

  /** Soft delete: the row stays for history and moderation, but counts and lists forget it. */
  async remove(id: number, viewer: Viewer | null): Promise<PostEntity> {
    const post = await this.lockForChange(id, viewer);
    const names = await this.tags.namesOfPost(post.id);
    await this.tags.lock(names);
    const wasVisible = post.status === 'PUBLISHED';
    post.deletedAt = new Date();
    await this.repo.save(post);
    if (wasVisible) this.announceChanged(post, false, names);
    const tagRows: Array<{ tag_id: number }> = await this.uow.manager.query(
      `SELECT tag_id FROM post_tags WHERE post_id = $1`, [post.id]);
    await this.tags.adjustPostCounts(tagRows.map((r) => r.tag_id), -1);
    if (post.parentId) {
      const counter = post.kind === 'ANSWER' ? 'answer_count' : 'comment_count';
      await this.uow.manager.query(
        `UPDATE posts SET ${counter} = ${counter} - 1,
           accepted_answer_id = CASE WHEN accepted_answer_id = $2 THEN NULL ELSE accepted_answer_id END
         WHERE id = $1`,
        [post.parentId, post.id],
      );
    }
    await this.uow.manager.query(`UPDATE users SET post_count = post_count - 1 WHERE id = $1`, [post.authorId]);
    return post;
  }

  /** The question's author marks one answer as accepted; accepting another moves the mark. */
  async acceptAnswer(answerId: number, viewer: Viewer | null): Promise<PostEntity> {
    if (!viewer) throw unauthenticated();
    const answer = await this.get(answerId, viewer);
    if (answer.kind !== 'ANSWER' || !answer.parentId) throw badInput('Only answers can be accepted', 'answerId');
    const question = await this.repo.createQueryBuilder('p').where('p.id = :id', { id: answer.parentId })
      .setLock('pessimistic_write').getOneOrFail();
    if (question.authorId !== viewer.id) throw forbidden('Only the author of the question can accept an answer');
    if (question.acceptedAnswerId) {
      await this.repo.update({ id: question.acceptedAnswerId }, { isAccepted: false });
    }
    await this.repo.update({ id: answer.id }, { isAccepted: true });
    question.acceptedAnswerId = answer.id;
    return this.repo.save(question);
  }

  private async lockForChange(id: number, viewer: Viewer | null): Promise<PostEntity> {
    if (!viewer) throw unauthenticated();
    const post = await this.visible(viewer).andWhere('p.id = :id', { id }).setLock('pessimistic_write').getOne();
    if (!post) throw notFound('Post');
    if (post.authorId !== viewer.id && !isStaff(viewer)) throw forbidden('Only the author or a moderator can change this post');
    return post;
  }

  private async setTags(postId: number, current: number[], next: number[]): Promise<void> {
    const added = next.filter((t) => !current.includes(t));
    const removed = current.filter((t) => !next.includes(t));
    if (removed.length) {
      await this.uow.manager.query(`DELETE FROM post_tags WHERE post_id = $1 AND tag_id = ANY($2)`, [postId, removed]);
      await this.tags.adjustPostCounts(removed, -1);
    }
    if (added.length) {
      await this.uow.manager.query(
        `INSERT INTO post_tags (post_id, tag_id) SELECT $1, unnest($2::int[])`, [postId, added]);
      await this.tags.adjustPostCounts(added, 1);
    }
  }
}

import type { EntityManager } from 'typeorm';
import { notFound } from '../../shared/errors';
import { type Page, type PageArgs, paginate } from '../../shared/pagination';
import { TagEntity } from './tag.entity';

export class TagService {
  constructor(private readonly db: EntityManager) {}

  private get repo() {
    return this.db.getRepository(TagEntity);
  }

  /**
   * Serialises changes to these tags, taking one transaction-scoped advisory lock per name in name
   * order. Without it, two posts sharing tags deadlock: one waits on the other's uncommitted new tag
   * while holding a counter row the other needs. Callers pass every tag the change touches, once,
   * before touching any of them.
   */
  async lock(names: readonly string[]): Promise<void> {
    if (!names.length) return;
    await this.db.query(
      `SELECT pg_advisory_xact_lock(hashtext('tag:' || n)) FROM (SELECT DISTINCT unnest($1::text[]) AS n ORDER BY 1) s`,
      [names],
    );
  }

  async namesOfPost(postId: number): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.db.query(
      `SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = $1`, [postId]);
    return rows.map((r) => r.name);
  }

  /** Creates missing tags and returns all of them; callers run it inside their transaction, after `lock`. */
  async ensure(names: readonly string[]): Promise<TagEntity[]> {
    if (!names.length) return [];
    await this.db.query(
      `INSERT INTO tags (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING`,
      [names],
    );
    return this.repo.createQueryBuilder('t').where('t.name = ANY(:names)', { names }).getMany();
  }

  async adjustPostCounts(tagIds: readonly number[], delta: number): Promise<void> {
    if (!tagIds.length) return;
    await this.db.query(`UPDATE tags SET post_count = post_count + $2 WHERE id = ANY($1)`, [tagIds, delta]);
  }

  byIds(ids: readonly number[]): Promise<TagEntity[]> {
    return this.repo.createQueryBuilder('t').where('t.id = ANY(:ids)', { ids }).getMany();
  }

  async byName(name: string): Promise<TagEntity> {
    const tag = await this.repo.findOneBy({ name: name.trim().toLowerCase() });
    if (!tag) throw notFound(`Tag "${name}"`);
    return tag;
  }

  list(page: PageArgs): Promise<Page<TagEntity>> {
    const qb = this.repo.createQueryBuilder('t');
    return paginate(qb, { expressions: ['t.post_count', 't.id'], values: (t) => [t.postCount, t.id] }, page);
  }

  /**
   * SQL for the tags of the posts whose ids `postIds` (a subquery) selects: one row per post that
   * has tags, `post_id` and `list`, a JSON array in name order, read with `fromJson`. Lists join it
   * to their page, saving the loader's round trip; one join for the page costs PostgreSQL less
   * than a subquery per post.
   */
  static jsonByPost(postIds: string): string {
    return `SELECT pt.post_id, json_agg(json_build_object('id', t.id, 'name', t.name, 'description', t.description,
              'postCount', t.post_count, 'followerCount', t.follower_count, 'createdAt', t.created_at) ORDER BY t.name) AS list
              FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id IN (${postIds}) GROUP BY pt.post_id`;
  }

  fromJson(rows: Array<Omit<TagEntity, 'createdAt'> & { createdAt: string }>): TagEntity[] {
    return rows.map((r) => Object.assign(new TagEntity(), r, { createdAt: new Date(r.createdAt) }));
  }

  /** Tags of many posts in one query, keyed by post id (the DataLoader batch function). */
  async byPostIds(postIds: readonly number[]): Promise<Map<number, TagEntity[]>> {
    const rows: Array<{ post_id: number; id: number; name: string; description: string; post_count: number; follower_count: number; created_at: Date }> =
      await this.db.query(
        `SELECT pt.post_id, t.* FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
          WHERE pt.post_id = ANY($1) ORDER BY t.name`,
        [postIds],
      );
    const byPost = new Map<number, TagEntity[]>();
    for (const r of rows) {
      const tag = this.repo.create({
        id: r.id, name: r.name, description: r.description, postCount: r.post_count,
        followerCount: r.follower_count, createdAt: r.created_at,
      });
      byPost.set(r.post_id, [...(byPost.get(r.post_id) ?? []), tag]);
    }
    return byPost;
  }
}

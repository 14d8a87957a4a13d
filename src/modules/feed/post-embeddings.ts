import type { EntityManager } from 'typeorm';
import type { InferenceClient } from '../../../ml-runtime';
import type { Logger } from '../../shared/logger';
import { encoderInput } from '../../../ml-runtime/encoder/text';

/**
 * What the feed needs of a text encoder: unit vectors for texts, and the version that made them.
 * The inference pool is one implementation (`embedderFromPool`); the feed never sees the pool.
 */
export interface TextEmbedder {
  embed(texts: string[]): Promise<Float32Array[]>;
  /** Null while no encoder is served (then content sources fall back to tags). */
  version(): string | null;
  /** Resolves once the encoder can be asked (rejects if it never will). */
  ready(): Promise<void>;
}

/** Most vectors kept in memory per process: 20,000 × 192 floats is about 15 MB. */
const CACHE_SIZE = 20_000;
/** A vector as stored: its float32 bytes, little-endian (the byte order of every platform Node runs on here). */
function toBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Copied into a fresh buffer: node-postgres may hand back a slice at an offset a Float32Array cannot start at. */
function fromBytes(b: Buffer): Float32Array {
  return new Float32Array(new Uint8Array(b).buffer);
}

/** Posts embedded at once when a request finds vectors missing, so one request stays cheap. */
const EMBED_AT_ONCE = 256;

/**
 * Post vectors: computed once through the encoder when a post is published (or first needed),
 * stored in `post_embeddings` and cached per process, so ranking a feed reads no vector twice.
 */
export class PostEmbeddings {
  private readonly cache = new Map<number, Float32Array>();
  private readonly tagCache = new Map<string, Float32Array>();
  /**
   * Embeddings under way, by post id: feeds caught up right after a post is published all find
   * its vector missing at once, and each used to embed and store it again.
   */
  private readonly embedding = new Map<number, Promise<Map<number, Float32Array>>>();
  private cachedVersion: string | null = null;
  /** Moves each time a vector is forgotten, so what was read or scored before can tell (`forget`). */
  private forgotten = 0;

  constructor(
    private readonly embedder: TextEmbedder,
    private readonly log: Logger,
  ) {}

  get version(): string | null {
    return this.embedder.version();
  }

  get generation(): number {
    return this.forgotten;
  }

  /**
   * Vectors of the given top-level posts (published or not), from the cache, then the table, then
   * the encoder; posts that cannot be embedded now (the encoder is busy or absent) are left out.
   */
  async vectors(m: EntityManager, postIds: number[]): Promise<Map<number, Float32Array>> {
    const version = this.current();
    const out = new Map<number, Float32Array>();
    if (!version) return out;
    const generation = this.forgotten;
    let missing: number[] = [];
    for (const id of postIds) {
      const v = this.cache.get(id);
      if (v) out.set(id, v);
      else missing.push(id);
    }
    if (!missing.length) return out;
    const stored: Array<{ post_id: number; vector: Buffer }> = await m.query(
      `SELECT post_id, vector FROM post_embeddings WHERE post_id = ANY($1) AND model = $2`,
      [missing, version],
    );
    // Rows read while a vector was being forgotten may be the old one: used, but not kept.
    for (const r of stored) {
      if (this.forgotten === generation) this.remember(out, r.post_id, fromBytes(r.vector));
      else out.set(r.post_id, fromBytes(r.vector));
    }
    missing = missing.filter((id) => !out.has(id)).slice(0, EMBED_AT_ONCE);
    if (!missing.length) return out;
    const start = missing.filter((id) => !this.embedding.has(id));
    if (start.length) {
      const job = this.embedPosts(m, start, version);
      for (const id of start) this.embedding.set(id, job);
      const done = () => start.forEach((id) => this.embedding.get(id) === job && this.embedding.delete(id));
      job.then(done, done);
    }
    for (const job of new Set(missing.map((id) => this.embedding.get(id)!))) {
      for (const [id, v] of await job) out.set(id, v);
    }
    return out;
  }

  /**
   * Embeds top-level posts ahead of the requests that need them: each post as it is published,
   * and the recent window once the encoder is up (so the first feeds after a deploy do not pay for
   * it). Failures only cost freshness: requests embed what is still missing.
   */
  async warm(m: EntityManager, postIds: number[]): Promise<void> {
    try {
      await this.embedder.ready();
      for (let i = 0; i < postIds.length; i += EMBED_AT_ONCE) await this.vectors(m, postIds.slice(i, i + EMBED_AT_ONCE));
    } catch (err) {
      this.log.warn({ err, posts: postIds.length }, 'posts could not be embedded yet; they will be on first use');
    }
  }

  /**
   * Drops a post's vector, stored and cached, so its next use embeds the text as it is then: every
   * edit sends a post back to moderation, and it must come back ranked by what it now says.
   * Idempotent, so every process that hears of the edit may call it. (An embedding already under
   * way for the post when it was edited may still store the old text's vector.)
   */
  async forget(m: EntityManager, postId: number): Promise<void> {
    await m.query(`DELETE FROM post_embeddings WHERE post_id = $1`, [postId]);
    this.cache.delete(postId);
    this.forgotten++;
  }

  /** A followed tag as text ("node.js" → "node js"), so it can join a member's content profile. */
  async tagVectors(names: string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (!this.current()) return out;
    const missing = names.filter((n) => !this.tagCache.has(n));
    if (missing.length) {
      const vs = await this.embedder.embed(missing.map((n) => n.replace(/[-_.]+/g, ' ')));
      missing.forEach((n, i) => this.tagCache.set(n, vs[i]));
    }
    for (const n of names) out.set(n, this.tagCache.get(n)!);
    return out;
  }

  private current(): string | null {
    const version = this.embedder.version();
    if (version !== this.cachedVersion) {
      this.cache.clear();
      this.tagCache.clear();
      this.cachedVersion = version;
    }
    return version;
  }

  private async embedPosts(m: EntityManager, ids: number[], version: string): Promise<Map<number, Float32Array>> {
    const out = new Map<number, Float32Array>();
    const posts: Array<{ id: number; title: string | null; body: string | null }> = await m.query(
      `SELECT id, title, body FROM posts WHERE id = ANY($1) AND parent_id IS NULL AND deleted_at IS NULL`,
      [ids],
    );
    if (!posts.length) return out;
    const vectors = await this.embedder.embed(posts.map((p) => encoderInput(p.title, p.body)));
    const params: unknown[] = [version];
    const rows = posts.map((p, i) => {
      params.push(p.id, toBytes(vectors[i]));
      return `($${params.length - 1}, $1, $${params.length})`;
    });
    await m.query(
      `INSERT INTO post_embeddings (post_id, model, vector) VALUES ${rows.join(', ')}
       ON CONFLICT (post_id) DO UPDATE SET model = EXCLUDED.model, vector = EXCLUDED.vector, created_at = now()`,
      params,
    );
    posts.forEach((p, i) => this.remember(out, p.id, vectors[i]));
    return out;
  }

  private remember(out: Map<number, Float32Array>, id: number, v: Float32Array): void {
    out.set(id, v);
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, v);
  }
}

/** The inference pool as a TextEmbedder; its encoder's version is what the workers report. */
export function embedderFromPool(inference: InferenceClient): TextEmbedder {
  return {
    embed: (texts) => inference.embed(texts, { deadlineMs: 1_000 }),
    version: () => inference.health().models.encoder ?? null,
    ready: () => inference.ready(),
  };
}

/**
 * The recommender the feed calls: GF-CF over the user–item graph (see gfcf.ts), with fold-in,
 * top-k and a plain file format. Trained in seconds, so nothing trained on real data is committed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fromLists, type Interactions } from './interactions';
import { GfcfScorer, trainGfcf, type GfcfOptions, type GfcfState } from './gfcf';
import { topK, type Ranked, type TopKOptions } from './topk';

export type RecommenderOptions = GfcfOptions;

const FORMAT = 'colloquy-recommender/gf-cf@1';

interface Meta {
  format: string;
  numUsers: number;
  numItems: number;
  nnz: number;
  rank: number;
  lowPassWeight: number;
  linearWeight: number;
  trainSeconds: number;
  /** Content hash, so that every worker serving this model (and its rankings) can name it. */
  version?: string;
}

export class Recommender {
  readonly method = 'gf-cf';
  private readonly scorer: GfcfScorer;

  private constructor(
    readonly state: GfcfState,
    /** Seconds the last training took (from the saved model when loaded). */
    readonly trainSeconds: number,
  ) {
    this.scorer = new GfcfScorer(state);
  }

  /**
   * Trains on the interaction graph: a matrix, or per-user item lists (index = user id). Uses the
   * tfjs backend already selected (ml-runtime/backends.ts), or tfjs's default.
   */
  static async train(interactions: Interactions | ArrayLike<ArrayLike<number>>, opts: RecommenderOptions = {}): Promise<Recommender> {
    await tf.ready();
    const x = 'indptr' in interactions ? interactions : fromLists(interactions);
    const started = performance.now();
    const state = trainGfcf(x, opts);
    return new Recommender(state, (performance.now() - started) / 1000);
  }

  get numUsers(): number {
    return this.state.interactions.numUsers;
  }
  get numItems(): number {
    return this.state.interactions.numItems;
  }
  /** Dimension of userEmbedding / itemMatrix. */
  get rank(): number {
    return this.state.rank;
  }

  /**
   * Fold-in: the score of every item (length numItems) for a user whose interactions are `items`,
   * at once and without retraining; works for users unknown at training time. Unknown item ids
   * (≥ numItems, e.g. posts newer than the model) are ignored.
   */
  userVector(items: ArrayLike<number>): Float32Array {
    return this.scorer.scores(items);
  }

  /**
   * The low-pass part of userVector in factored form: userEmbedding(items) · itemMatrix()[i] is
   * item i's low-pass score. For ranking a large candidate set as one matrix product on the pool's
   * backend; userVector adds the sparse item–item term on top.
   */
  userEmbedding(items: ArrayLike<number>): Float32Array {
    return this.scorer.embedding(items);
  }

  /** numItems × rank, row-major (item i's row starts at i · rank). */
  itemMatrix(): Float32Array {
    return this.scorer.itemFactors;
  }

  /** The k best items of a score vector, best first; `exclude` and `candidates` filter by item id. */
  topK(scores: ArrayLike<number>, k: number, opts?: TopKOptions): Ranked {
    return topK(scores, k, opts);
  }

  /** userVector + topK, leaving out the items the user already has. */
  recommend(items: ArrayLike<number>, k: number, opts: Omit<TopKOptions, 'exclude'> = {}): Ranked {
    return topK(this.userVector(items), k, { ...opts, exclude: new Set(Array.from(items)) });
  }

  /** Scores for many item sets at once (rows × numItems), the low-pass term as one tfjs matMul. */
  scoreBatch(sets: ArrayLike<number>[]): Float32Array {
    return this.scorer.scoreBatch(sets);
  }

  /** Writes meta.json and little-endian binary arrays into dir. */
  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    const s = this.state;
    const meta: Meta = {
      format: FORMAT,
      numUsers: s.interactions.numUsers,
      numItems: s.interactions.numItems,
      nnz: s.interactions.indices.length,
      rank: s.rank,
      lowPassWeight: s.lowPassWeight,
      linearWeight: s.linearWeight,
      trainSeconds: this.trainSeconds,
    };
    // The hash covers what determines scores, in the order ml-runtime/serve-recommender.ts re-hashes
    // the files of a model saved without a version.
    const hash = createHash('sha256').update(JSON.stringify([s.rank, s.lowPassWeight, s.linearWeight]));
    const bin = (name: string, a: Int32Array | Float32Array) => {
      const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      hash.update(bytes);
      writeFileSync(join(dir, name), bytes);
    };
    bin('indptr.i32', s.interactions.indptr);
    bin('indices.i32', s.interactions.indices);
    bin('v.f32', s.v);
    bin('sigma.f32', s.sigma);
    meta.version = `gf-cf@${hash.digest('hex').slice(0, 12)}`;
    // meta.json last: in a fresh directory, its presence means the arrays are complete.
    writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  }

  static load(dir: string): Recommender {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;
    if (meta.format !== FORMAT) throw new Error(`${dir}: unsupported model format ${meta.format}`);
    const read = (name: string, n: number) => {
      const b = readFileSync(join(dir, name));
      if (b.byteLength !== n * 4) throw new Error(`${dir}/${name}: expected ${n * 4} bytes, found ${b.byteLength}`);
      return new Uint8Array(b).buffer;
    };
    const interactions: Interactions = {
      numUsers: meta.numUsers,
      numItems: meta.numItems,
      indptr: new Int32Array(read('indptr.i32', meta.numUsers + 1)),
      indices: new Int32Array(read('indices.i32', meta.nnz)),
    };
    const state: GfcfState = {
      interactions,
      rank: meta.rank,
      lowPassWeight: meta.lowPassWeight,
      linearWeight: meta.linearWeight,
      v: new Float32Array(read('v.f32', meta.numItems * meta.rank)),
      sigma: new Float32Array(read('sigma.f32', meta.rank)),
    };
    return new Recommender(state, meta.trainSeconds);
  }

  /** Releases the tfjs tensors held for batch scoring. */
  dispose(): void {
    this.scorer.dispose();
  }
}

/**
 * The text encoder's weights on disk: `model.json` (feature settings, tag vocabulary, the tag
 * output layer, training record) and `embedding.bin` (the hashed feature table, int8 with a scale
 * per row, the moderation model's format).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureConfig } from '../moderation/features';
import { fromInt8Rows, int8Rows, round } from '../moderation/weights';
import type { LexicalWeights } from './lexical';

export interface EncoderWeights {
  name: string;
  version: string;
  features: FeatureConfig;
  dim: number;
  /** The tags the output layer predicts (training target only; serving returns the embedding). */
  tags: string[];
  /** buckets × dim, row-major. */
  embedding: Float32Array;
  /** dim × tags, row-major. */
  outW: Float32Array;
  outB: Float32Array;
  /** The lexical sketch appended to the topic vector, and its share (β²) of the cosine. */
  lexical?: LexicalWeights & { share: number };
}

interface Meta {
  name: string;
  version: string;
  features: FeatureConfig;
  dim: number;
  tags: string[];
  output: { w: number[]; b: number[] };
  embeddingFile: string;
  /** IDF quantised to one byte per bucket in `idfFile`: idf = byte × idfScale. */
  lexical?: { dim: number; share: number; features: FeatureConfig; idfFile: string; idfScale: number };
  training?: unknown;
}

const EMBEDDING_FILE = 'embedding.bin';
const IDF_FILE = 'idf.bin';

export function saveEncoder(dir: string, w: EncoderWeights, training?: unknown): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, EMBEDDING_FILE), int8Rows(w.embedding, w.features.buckets, w.dim));
  let lexical: Meta['lexical'];
  if (w.lexical) {
    const { dim, share, features, idf } = w.lexical;
    const idfScale = idf.reduce((a, b) => Math.max(a, b), 0) / 255;
    writeFileSync(join(dir, IDF_FILE), Uint8Array.from(idf, (x) => Math.round(x / idfScale)));
    lexical = { dim, share, features, idfFile: IDF_FILE, idfScale };
  }
  const meta: Meta = {
    name: w.name,
    version: w.version,
    features: w.features,
    dim: w.dim,
    tags: w.tags,
    output: { w: round(w.outW), b: round(w.outB) },
    embeddingFile: EMBEDDING_FILE,
    lexical,
    training,
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(meta, null, 1) + '\n');
}

export function loadEncoder(dir: string): EncoderWeights {
  const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Meta;
  return {
    name: meta.name,
    version: meta.version,
    features: meta.features,
    dim: meta.dim,
    tags: meta.tags,
    embedding: fromInt8Rows(readFileSync(join(dir, meta.embeddingFile)), meta.features.buckets, meta.dim, meta.embeddingFile),
    outW: Float32Array.from(meta.output.w),
    outB: Float32Array.from(meta.output.b),
    lexical: meta.lexical && {
      dim: meta.lexical.dim,
      share: meta.lexical.share,
      features: meta.lexical.features,
      idf: Float32Array.from(readFileSync(join(dir, meta.lexical.idfFile)), (q) => q * meta.lexical!.idfScale),
    },
  };
}

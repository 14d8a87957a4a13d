/**
 * Text → hashed sparse features, with each feature tied back to the token (and so the character
 * span) it came from. Features are word unigrams, word bigrams and character 3–5-grams of each
 * word; all are hashed into `buckets` rows with FNV-1a so no vocabulary has to ship with the model.
 *
 * Hashing runs over char codes without building n-gram strings: this function is on the hot path
 * of every inference and dominates its cost, so it avoids allocation beyond one string per token.
 */

export interface FeatureConfig {
  /** Number of hash buckets (rows of the embedding table); a power of two. */
  buckets: number;
  minCharGram: number;
  maxCharGram: number;
  /** Text beyond this many characters is ignored (bounds the cost of a single long post). */
  maxChars: number;
  /** Bag divisor: the feature count n (`mean`) or √n (`sqrt`, so one strong word in a long text still counts). */
  pooling?: 'mean' | 'sqrt';
}

export function poolingScale(config: FeatureConfig, n: number): number {
  if (n === 0) return 0;
  return config.pooling === 'sqrt' ? 1 / Math.sqrt(n) : 1 / n;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  buckets: 1 << 18,
  minCharGram: 3,
  maxCharGram: 5,
  maxChars: 4000,
  pooling: 'mean',
};

export interface Token {
  start: number;
  end: number;
}

export interface Features {
  /** Bucket ids, one per feature occurrence. */
  ids: Int32Array;
  /**
   * Which token each feature belongs to: `t >= 0` for a feature of token t alone; `-(t + 1)` for
   * a bigram shared by tokens t − 1 and t (explanations split it between them).
   */
  owners: Int32Array;
  tokens: Token[];
}

// URLs, @mentions, words (letters/digits with inner apostrophes), then any other visible symbol
// (punctuation and emoji carry signal in tweets: "!!!", "😂").
const TOKEN_RE =
  /(https?:\/\/\S+|www\.\S+)|(@\w+)|([\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*)|([^\s\p{L}\p{N}])/gu;

const KIND_WORD = 0x9e3779b1;
const KIND_BIGRAM = 0x85ebca77;
const KIND_CHAR = 0xc2b2ae3d;

function fnv(seed: number, codes: Int32Array, from: number, to: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = from; i < to; i++) {
    h ^= codes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Lower-cases, maps digits to 0 and squeezes runs of 3+ identical letters to 2 ("sooo" → "soo"). */
export function normaliseWord(word: string): string {
  return word
    .toLowerCase()
    .replace(/\p{N}/gu, '0')
    .replace(/(\p{L})\1{2,}/gu, '$1$1');
}

/** Shared growable buffers: one featuriser per thread, reused across texts. */
export class Featuriser {
  private ids = new Int32Array(1024);
  private owners = new Int32Array(1024);
  private n = 0;
  private codes = new Int32Array(256);
  private readonly mask: number;

  constructor(readonly config: FeatureConfig = DEFAULT_FEATURE_CONFIG) {
    if ((config.buckets & (config.buckets - 1)) !== 0) throw new Error('buckets must be a power of two');
    this.mask = config.buckets - 1;
  }

  featurise(text: string): Features {
    this.n = 0;
    const tokens: Token[] = [];
    const source = text.length > this.config.maxChars ? text.slice(0, this.config.maxChars) : text;
    let prevHash = -1;
    TOKEN_RE.lastIndex = 0;
    for (let m = TOKEN_RE.exec(source); m !== null; m = TOKEN_RE.exec(source)) {
      const t = tokens.length;
      tokens.push({ start: m.index, end: m.index + m[0].length });
      let norm: string;
      let charGrams = false;
      if (m[1] !== undefined) norm = '<url>';
      else if (m[2] !== undefined) norm = '@user';
      else if (m[3] !== undefined) {
        norm = normaliseWord(m[3]);
        charGrams = true;
      } else norm = m[4];
      const len = this.loadCodes(norm, charGrams);
      const from = charGrams ? 1 : 0;
      const wordHash = fnv(KIND_WORD, this.codes, from, from + norm.length);
      this.push(wordHash, t);
      if (prevHash >= 0) this.push((Math.imul(prevHash, 0x27d4eb2d) ^ wordHash ^ KIND_BIGRAM) >>> 0, -(t + 1));
      prevHash = wordHash;
      if (charGrams && len > 3) this.pushCharGrams(len, t);
    }
    return { ids: this.ids.slice(0, this.n), owners: this.owners.slice(0, this.n), tokens };
  }

  /** Copies the token's char codes into the scratch buffer, with `<` `>` boundaries for words. */
  private loadCodes(norm: string, bounded: boolean): number {
    const len = norm.length + (bounded ? 2 : 0);
    if (this.codes.length < len) this.codes = new Int32Array(len * 2);
    let k = 0;
    if (bounded) this.codes[k++] = 60;
    for (let i = 0; i < norm.length; i++) this.codes[k++] = norm.charCodeAt(i);
    if (bounded) this.codes[k++] = 62;
    return len;
  }

  private pushCharGrams(len: number, owner: number): void {
    const { minCharGram, maxCharGram } = this.config;
    for (let n = minCharGram; n <= maxCharGram; n++) {
      // The whole bounded word is already a unigram feature.
      for (let s = 0; s + n <= len && !(s === 0 && n === len); s++) {
        this.push(fnv(KIND_CHAR + n, this.codes, s, s + n), owner);
      }
    }
  }

  private push(hash: number, owner: number): void {
    if (this.n === this.ids.length) {
      const ids = new Int32Array(this.n * 2);
      ids.set(this.ids);
      this.ids = ids;
      const owners = new Int32Array(this.n * 2);
      owners.set(this.owners);
      this.owners = owners;
    }
    this.ids[this.n] = hash & this.mask;
    this.owners[this.n] = owner;
    this.n++;
  }
}

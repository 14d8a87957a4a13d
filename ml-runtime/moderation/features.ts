/**
 * Text → hashed sparse features, with each feature tied back to the token (and so the character
 * span) it came from. Features are word unigrams, word bigrams and character n-grams of each
 * word; all are hashed into `buckets` rows with FNV-1a so no vocabulary has to ship with the model.
 *
 * This is the hot path of every inference, so normalisation and hashing run over char codes in a
 * reused buffer: no n-gram strings, no per-token regex replaces, and the scoring path
 * (`hashText`) builds no token objects at all; only explanations ask for them (`featurise`).
 */

export interface FeatureConfig {
  /** Number of hash buckets (rows of the embedding table); a power of two. */
  buckets: number;
  minCharGram: number;
  maxCharGram: number;
  /** Text beyond this many characters is ignored (bounds the cost of a single long post). */
  maxChars: number;
  /** Bag divisor: the feature count n (`mean`) or √n (`sqrt`: the L2 norm of a binary bag, so one strong word in a long text still counts). */
  pooling?: 'mean' | 'sqrt';
}

export function poolingScale(config: FeatureConfig, n: number): number {
  if (n === 0) return 0;
  return config.pooling === 'sqrt' ? 1 / Math.sqrt(n) : 1 / n;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  buckets: 1 << 19,
  minCharGram: 3,
  maxCharGram: 5,
  maxChars: 4000,
  pooling: 'sqrt',
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
/** The same alternatives, matched only at `lastIndex`: for tokens that involve non-ASCII characters. */
const TOKEN_STICKY = new RegExp(TOKEN_RE.source, 'yu');
const URL = 1;
const MENTION = 2;
const WORD = 3;
const SYMBOL = 4;
const NON_ASCII_DIGIT = /^\p{N}$/u;
const NON_ASCII_LETTER = /^\p{L}$/u;

const KIND_WORD = 0x9e3779b1;
const KIND_BIGRAM = 0x85ebca77;
const KIND_CHAR = 0xc2b2ae3d;
/** One shared feature for words in capitals: shouting is a sign of abuse that lower-casing hides. */
const SHOUT = 0x165667b1;
const URL_CODES = Array.from('<url>', (c) => c.charCodeAt(0));
const USER_CODES = Array.from('@user', (c) => c.charCodeAt(0));

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
  /** Character offsets of the last text's tokens (`tokenCount` of them), for explanations. */
  private starts = new Int32Array(128);
  private ends = new Int32Array(128);
  private t = 0;
  private shout = false;
  private readonly mask: number;

  constructor(readonly config: FeatureConfig = DEFAULT_FEATURE_CONFIG) {
    if ((config.buckets & (config.buckets - 1)) !== 0) throw new Error('buckets must be a power of two');
    this.mask = config.buckets - 1;
  }

  /** Features with their owning tokens (copies: they outlive the next call). */
  featurise(text: string): Features {
    const tokens: Token[] = [];
    this.scan(text, tokens);
    return { ids: this.ids.slice(0, this.n), owners: this.owners.slice(0, this.n), tokens };
  }

  /**
   * The scoring path: hashes `text` and returns the feature count; the ids are `view()[0 .. n)`,
   * valid until the next call.
   */
  hashText(text: string): number {
    this.scan(text, undefined);
    return this.n;
  }

  view(): Int32Array {
    return this.ids;
  }

  /** Owners of the last text's features (see `Features.owners`), valid until the next call. */
  ownerView(): Int32Array {
    return this.owners;
  }

  /** Start and end offsets of the last text's `tokenCount()` tokens, valid until the next call. */
  tokenStarts(): Int32Array {
    return this.starts;
  }

  tokenEnds(): Int32Array {
    return this.ends;
  }

  tokenCount(): number {
    return this.t;
  }

  /**
   * Tokenises as TOKEN_RE would, then hashes each token. ASCII tokens are recognised over char
   * codes (no match objects or substrings); a token that starts at or runs into a non-ASCII
   * character is matched by the sticky form of TOKEN_RE at its start, so both give the same
   * tokens (a unit test compares them).
   */
  private scan(text: string, tokens: Token[] | undefined): void {
    this.n = 0;
    const source = text.length > this.config.maxChars ? text.slice(0, this.config.maxChars) : text;
    let prevHash = -1;
    let t = 0;
    for (let i = 0; i < source.length; ) {
      const c = source.charCodeAt(i);
      if (c === 32 || (c >= 9 && c <= 13)) {
        i++;
        continue;
      }
      let end = c < 128 ? this.asciiToken(source, i) : -1;
      let kind = this.kind;
      // An ASCII word comes back already loaded into `codes` (asciiWord).
      let loaded = end >= 0 && kind === WORD ? this.wordLength : -1;
      if (end < 0) {
        TOKEN_STICKY.lastIndex = i;
        const m = TOKEN_STICKY.exec(source);
        if (m === null) {
          // Only Unicode white space matches none of the alternatives.
          i++;
          continue;
        }
        end = i + m[0].length;
        kind = m[1] !== undefined ? URL : m[2] !== undefined ? MENTION : m[3] !== undefined ? WORD : SYMBOL;
        loaded = -1;
      }
      if (t === this.starts.length) {
        this.starts = grow(this.starts);
        this.ends = grow(this.ends);
      }
      this.starts[t] = i;
      this.ends[t] = end;
      if (tokens) tokens.push({ start: i, end });
      let len: number;
      const word = kind === WORD;
      if (kind === URL) len = this.loadFixed(URL_CODES);
      else if (kind === MENTION) len = this.loadFixed(USER_CODES);
      else if (word) len = loaded >= 0 ? loaded : this.loadUnicodeWord(source.slice(i, end));
      else len = this.loadFixed(source.slice(i, end));
      const from = word ? 1 : 0;
      const wordHash = fnv(KIND_WORD, this.codes, from, word ? len - 1 : len);
      this.push(wordHash, t);
      if (prevHash >= 0) this.push((Math.imul(prevHash, 0x27d4eb2d) ^ wordHash ^ KIND_BIGRAM) >>> 0, -(t + 1));
      prevHash = wordHash;
      if (word && this.shout) this.push(SHOUT, t);
      if (word && len > this.config.minCharGram) this.pushCharGrams(len, t);
      i = end;
      t++;
    }
    this.t = t;
  }

  /** Kind of the token `asciiToken` found. */
  private kind = SYMBOL;
  /** Length in `codes` of the word `asciiWord` loaded. */
  private wordLength = 0;

  /**
   * Finds an ASCII word (as `asciiToken` would) and loads it normalised (as `normaliseWord` would)
   * in one pass, for a word starting with an ASCII letter or digit:
   * returns its end with the normalised word in `codes` (`wordLength` of them), or −1 when a
   * non-ASCII character could change the match (then TOKEN_STICKY decides, as for `asciiToken`).
   */
  private asciiWord(s: string, i: number): number {
    const len = s.length;
    this.reserve(Math.min(len, this.config.maxChars) - i + 2);
    const codes = this.codes;
    let k = 0;
    codes[k++] = 60;
    let upper = false;
    let lowerSeen = false;
    let j = i;
    for (;;) {
      for (; j < len; j++) {
        let c = s.charCodeAt(j);
        if (c >= 65 && c <= 90) {
          upper = true;
          c += 32;
        } else if (c >= 97 && c <= 122) lowerSeen = true;
        else if (c >= 48 && c <= 57) c = 48;
        else break;
        // Runs of 3+ identical letters are squeezed to 2, as in normaliseWord.
        if (c >= 97 && k >= 3 && codes[k - 1] === c && codes[k - 2] === c) continue;
        codes[k++] = c;
      }
      if (j === len) break;
      const d = s.charCodeAt(j);
      if (d >= 128) return -1;
      if (d !== 39 || j + 1 === len) break;
      const e = s.charCodeAt(j + 1);
      if (e >= 128) return -1;
      if (!isAsciiAlnum(e)) break;
      codes[k++] = 39;
      j++;
    }
    this.shout = j - i > 1 && upper && !lowerSeen;
    codes[k++] = 62;
    this.wordLength = k;
    return j;
  }

  /**
   * The end of the token at `i` (an ASCII character, not white space) and its kind in `this.kind`
   * (a word also loaded into `codes`), or −1 when a non-ASCII character could change the match
   * (then TOKEN_STICKY decides).
   */
  private asciiToken(s: string, i: number): number {
    const len = s.length;
    const c = s.charCodeAt(i);
    if (c === 104 || c === 119) {
      const after = s.startsWith('https://', i) ? i + 8 : s.startsWith('http://', i) ? i + 7 : s.startsWith('www.', i) ? i + 4 : -1;
      if (after > 0 && after < len) {
        let j = after;
        for (; j < len; j++) {
          const d = s.charCodeAt(j);
          if (d >= 128) return -1;
          if (d === 32 || (d >= 9 && d <= 13)) break;
        }
        if (j > after) {
          this.kind = URL;
          return j;
        }
      }
    }
    if (c === 64 && i + 1 < len && isAsciiWordChar(s.charCodeAt(i + 1))) {
      let j = i + 2;
      while (j < len && isAsciiWordChar(s.charCodeAt(j))) j++;
      this.kind = MENTION;
      return j;
    }
    if (isAsciiAlnum(c)) {
      this.kind = WORD;
      return this.asciiWord(s, i);
    }
    this.kind = SYMBOL;
    return i + 1;
  }

  private loadFixed(s: ArrayLike<number> | string): number {
    const len = s.length;
    this.reserve(len);
    for (let i = 0; i < len; i++) this.codes[i] = typeof s === 'string' ? s.charCodeAt(i) : s[i];
    return len;
  }

  /** normaliseWord of a word that may hold non-ASCII characters, with `<` `>` word boundaries; returns the bounded length. */
  private loadUnicodeWord(raw: string): number {
    const lower = raw.toLowerCase();
    this.shout = raw.length > 1 && lower !== raw && raw.toUpperCase() === raw;
    this.reserve(lower.length + 2);
    const codes = this.codes;
    let k = 0;
    codes[k++] = 60;
    for (let i = 0; i < lower.length; i++) {
      let c = lower.charCodeAt(i);
      let letter: boolean;
      if (c < 128) {
        if (c >= 48 && c <= 57) c = 48;
        letter = c >= 97 && c <= 122;
      } else if (c >= 0xd800 && c <= 0xdfff) {
        letter = false;
      } else {
        const ch = lower[i];
        if (NON_ASCII_DIGIT.test(ch)) c = 48;
        letter = c !== 48 && NON_ASCII_LETTER.test(ch);
      }
      if (letter && k >= 3 && codes[k - 1] === c && codes[k - 2] === c) continue;
      codes[k++] = c;
    }
    codes[k++] = 62;
    return k;
  }

  private reserve(len: number): void {
    if (this.codes.length < len) this.codes = new Int32Array(len * 2);
  }

  /**
   * FNV-1a is computed prefix by prefix, so one pass from each start position yields all its
   * n-grams (5 multiplies instead of 12 for 3–5-grams); the length is mixed in at the end. Room for
   * every n-gram of the word is made first, so the loop writes through locals (a third of a text's
   * featurising time is spent here).
   */
  private pushCharGrams(len: number, owner: number): void {
    const { minCharGram, maxCharGram } = this.config;
    const codes = this.codes;
    const room = this.n + len * (maxCharGram - minCharGram + 1);
    while (this.ids.length < room) {
      this.ids = grow(this.ids);
      this.owners = grow(this.owners);
    }
    const ids = this.ids;
    const owners = this.owners;
    const mask = this.mask;
    let n = this.n;
    for (let s = 0; s + minCharGram <= len; s++) {
      let h = (0x811c9dc5 ^ KIND_CHAR) >>> 0;
      const stop = Math.min(len, s + maxCharGram);
      for (let j = s; j < stop; j++) {
        h = Math.imul(h ^ codes[j], 0x01000193);
        const size = j - s + 1;
        // The whole bounded word is already a unigram feature.
        if (size >= minCharGram && !(s === 0 && size === len)) {
          ids[n] = (h ^ Math.imul(size, 0x9e3779b1)) & mask;
          owners[n] = owner;
          n++;
        }
      }
    }
    this.n = n;
  }

  private push(hash: number, owner: number): void {
    if (this.n === this.ids.length) {
      this.ids = grow(this.ids);
      this.owners = grow(this.owners);
    }
    this.ids[this.n] = hash & this.mask;
    this.owners[this.n] = owner;
    this.n++;
  }
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

/** `\w` without the u-flag's Unicode case folding: ASCII letters, digits and `_`. */
function isAsciiWordChar(c: number): boolean {
  return isAsciiAlnum(c) || c === 95;
}

/**
 * What the server's domain code depends on: it scores texts and never learns how (habit 8).
 * `InferencePool` is the worker-thread implementation; tests or another transport can provide
 * their own.
 */

export const MODERATION_LABELS = ['toxicity', 'hate', 'spam'] as const;
export type ModerationLabel = (typeof MODERATION_LABELS)[number];

/** A span of the input (UTF-16 offsets, `text.slice(start, end)`) and how much it raised the score. */
export interface ExplanationSpan {
  start: number;
  end: number;
  text?: string;
  /** Contribution to the label's logit; only positive contributions are reported. */
  weight: number;
}

export interface ModerationResult {
  /** `name@version` of the model that produced the scores; moderation events record it. */
  modelVersion: string;
  scores: Record<ModerationLabel, number>;
  /**
   * The spans that drove each score most, strongest first (at most a few per label). Only labels
   * whose score is at or above the model's operating threshold (the review band) are explained;
   * the others get an empty list, which costs nothing to compute.
   */
  explanations: Record<ModerationLabel, ExplanationSpan[]>;
}

/**
 * One feed's ranking: the user's interactions folded in (no retraining), then the best k items.
 * Item ids are the recommender's 0-based indices; ids outside [0, numItems) are ignored wherever
 * they appear (posts newer than the model have no collaborative score).
 */
export interface RecommendRequest {
  /** Items the user has interacted with; never returned. */
  items: number[];
  /** How many items to return (fewer when fewer candidates are left). */
  k: number;
  /** Rank only these items; all items when absent. */
  candidates?: number[];
}

export interface RecommendResult {
  /** Best first. */
  items: number[];
  /** `scores[i]` is the score of `items[i]`; comparable only within one model version. */
  scores: number[];
  /** The `version` returned by `loadRecommender` for the model that ranked these items. */
  modelVersion: string;
}

export interface InferenceCallOptions {
  /** Milliseconds from the call until the result is no longer useful; the pool default otherwise. */
  deadlineMs?: number;
}

export interface InferenceHealth {
  /** True once at least one worker has loaded the models and is serving. */
  ready: boolean;
  /** The TensorFlow.js backend the workers really run (`tf.getBackend()`), e.g. `wasm`. */
  backend: string | null;
  /** Why that backend was chosen (what was tried and found missing). */
  backendReason: string | null;
  workers: number;
  queueLength: number;
  models: Record<string, string>;
  /** Set when workers cannot start (e.g. a forced backend is missing); the pool serves nothing. */
  error?: string;
}

export interface InferenceClient {
  moderate(texts: string[], opts?: InferenceCallOptions): Promise<ModerationResult[]>;
  /**
   * Loads (or atomically replaces) the recommender in every worker from a directory written by
   * Recommender.save; resolves once all workers serve it. Batches sent to workers before that are
   * answered by the previous model; each result's `modelVersion` says which model ranked it.
   */
  loadRecommender(dir: string): Promise<{ numItems: number; version: string }>;
  /**
   * Per request: fold-in of the user's item indices, then top-k among `candidates` (all items when
   * absent), never returning `items` themselves. Item ids are the model's 0-based indices; ids ≥
   * numItems are ignored. Rejects with ModelNotLoadedError (MODEL_NOT_LOADED) before a recommender
   * is loaded.
   */
  recommend(requests: RecommendRequest[], opts?: InferenceCallOptions): Promise<RecommendResult[]>;
  /**
   * One unit-length vector per text from the text encoder (so a dot product is the cosine), all
   * of one length per model version (`health().models.encoder`). Rejects with ModelNotLoadedError when the pool serves no
   * encoder, and with InvalidInputError when a text is not a string.
   */
  embed(texts: string[], opts?: InferenceCallOptions): Promise<Float32Array[]>;
  /** Resolves once the pool can serve; rejects if its workers cannot start. */
  ready(): Promise<void>;
  health(): InferenceHealth;
  /** Name of the TensorFlow.js backend in use, or `'unknown'` before the first worker is ready. */
  backend(): string;
  /** Stops accepting calls, finishes everything accepted, then stops the workers. */
  close(): Promise<void>;
}

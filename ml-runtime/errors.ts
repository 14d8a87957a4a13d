/**
 * Errors the pool rejects calls with. Each has a stable `code`; the server maps codes to GraphQL
 * `extensions.code` in one place (OVERLOADED is public; the others become INTERNAL_SERVER_ERROR or
 * a retry at the caller's discretion).
 */

export type InferenceErrorCode =
  | 'OVERLOADED'
  | 'DEADLINE_EXCEEDED'
  | 'WORKER_CRASHED'
  | 'BACKEND_UNAVAILABLE'
  | 'POOL_CLOSED'
  | 'INFERENCE_FAILED'
  | 'MODEL_NOT_LOADED'
  | 'MODEL_LOAD_FAILED'
  | 'INVALID_INPUT';

export abstract class InferenceError extends Error {
  abstract readonly code: InferenceErrorCode;
  override get name(): string {
    return this.constructor.name;
  }
}

/** The queue is full. Retrying after `retryAfterMs` is likely to succeed. */
export class OverloadedError extends InferenceError {
  readonly code = 'OVERLOADED';
  constructor(readonly retryAfterMs: number) {
    super(`inference queue is full; retry after ${retryAfterMs} ms`);
  }
}

export class DeadlineExceededError extends InferenceError {
  readonly code = 'DEADLINE_EXCEEDED';
  constructor(readonly deadlineMs: number) {
    super(`inference did not finish within ${deadlineMs} ms`);
  }
}

/** A worker died twice while holding this call's batch (the pool retries once). */
export class WorkerCrashedError extends InferenceError {
  readonly code = 'WORKER_CRASHED';
}

/** The requested TensorFlow.js backend is not installed or failed to initialise. */
export class BackendUnavailableError extends InferenceError {
  readonly code = 'BACKEND_UNAVAILABLE';
}

export class PoolClosedError extends InferenceError {
  readonly code = 'POOL_CLOSED';
  constructor() {
    super('inference pool is closed');
  }
}

/** The worker reported an error running the model (bad input, kernel failure). */
export class InferenceFailedError extends InferenceError {
  readonly code = 'INFERENCE_FAILED';
}

/** The call needs a model that has not been loaded (e.g. `recommend` before `loadRecommender`). */
export class ModelNotLoadedError extends InferenceError {
  readonly code = 'MODEL_NOT_LOADED';
  constructor(readonly model: string) {
    super(`model ${model} is not loaded in the inference pool`);
  }
}

/** A worker could not load the model; the model served before (if any) stays in service. */
export class ModelLoadFailedError extends InferenceError {
  readonly code = 'MODEL_LOAD_FAILED';
}

/**
 * The input is malformed (e.g. a negative or fractional k). Rejected before queueing, so that one
 * bad request cannot fail the batch it would share with others.
 */
export class InvalidInputError extends InferenceError {
  readonly code = 'INVALID_INPUT';
}

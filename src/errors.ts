/**
 * The base of lastmile's errors that know whether a retry can help. A retryable one keeps its own name; one no retry
 * can fix (a bad key, a missing bucket, a rejected request) is named `INPUT_ERROR`, which Temporal matches against the
 * workflows' non-retryable error types, so an activity throwing it stops at once with the message.
 */
import { INPUT_ERROR } from '../workflows/errors.js';

export { INPUT_ERROR };

export class RetryableError extends Error {
  readonly retryable: boolean;

  /** `name` is the error's name while retryable. */
  constructor(message: string, name: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
    this.name = retryable ? name : INPUT_ERROR;
  }
}

/** True for an error no retry can fix (a lastmile error named `INPUT_ERROR`). */
export function isInputError(error: unknown): boolean {
  return error instanceof Error && error.name === INPUT_ERROR;
}

/** Bad input no retry can fix: a target that does not exist, a file name template that collides, … */
export class InputError extends RetryableError {
  constructor(message: string) {
    super(message, INPUT_ERROR, false);
  }
}

/**
 * Something lastmile needs is unavailable — a warehouse that does not answer, a Temporal server that is gone, an
 * environment variable that is not set — rather than wrong: the command exits 3, and a later try may work.
 */
export class UnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LastmileUnavailable';
  }
}

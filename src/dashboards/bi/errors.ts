import { RetryableError } from '../../errors.js';

/**
 * A BI tool could not be told. The message names the tool and never holds a secret value.
 * Retryable failures (network, timeout, HTTP 5xx / 429) are named `BiToolError`; the others are input errors
 * (src/errors.ts), which the lastmile workflows do not retry.
 * It carries no `cause`: a network error's cause may quote a secret URL, and Temporal records causes in the history.
 */
export class BiToolError extends RetryableError {
  /** The HTTP status the tool answered, when it answered. */
  readonly status?: number;

  constructor(message: string, options: { retryable: boolean; status?: number }) {
    super(message, 'BiToolError', options.retryable);
    if (options.status !== undefined) this.status = options.status;
  }
}

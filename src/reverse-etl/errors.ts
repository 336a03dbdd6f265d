import { RetryableError } from '../errors.js';

/** A destination that could not take a whole batch: retryable when it is down or slow, not when it refuses us. */
export class SyncError extends RetryableError {
  constructor(message: string, options: { retryable: boolean }) {
    super(message, 'LastmileSyncError', options.retryable);
  }
}

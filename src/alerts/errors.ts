import { RetryableError } from '../errors.js';

/**
 * Why an alert could not be delivered. The message never holds a webhook URL or a secret.
 * A retryable failure (receiver down, timeout, unset variable) is named `AlertDeliveryError`; one that no retry can
 * fix (no such delivery, a channel the environment no longer has) is an input error (src/errors.ts), so a Temporal
 * activity throwing it stops retrying.
 * It carries no `cause`: a network error's cause may quote the URL, and Temporal records causes in the history.
 */
export class AlertDeliveryError extends RetryableError {
  constructor(message: string, options: { retryable?: boolean } = {}) {
    super(message, 'AlertDeliveryError', options.retryable ?? true);
  }
}

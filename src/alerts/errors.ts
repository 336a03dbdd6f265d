/**
 * Why an alert could not be delivered. The message never holds a webhook URL or a secret.
 * A retryable failure (receiver down, timeout, unset variable) is named `AlertDeliveryError`; one that no retry can
 * fix (no such delivery, a channel the environment no longer has) is named `LastmileInputError`, the error type the
 * lastmile workflows list as non-retryable, so a Temporal activity throwing it stops retrying.
 * It carries no `cause`: a network error's cause may quote the URL, and Temporal records causes in the history.
 */
export class AlertDeliveryError extends Error {
  readonly retryable: boolean;

  constructor(message: string, options: { retryable?: boolean } = {}) {
    super(message);
    this.retryable = options.retryable ?? true;
    this.name = this.retryable ? 'AlertDeliveryError' : 'LastmileInputError';
  }
}

/**
 * Sends one message of one incident on one channel. Meant to be the body of a Temporal activity with a retry policy:
 * a failure is recorded and thrown, so the activity is retried durably; a success is recorded, so a retry after it
 * returns `already` instead of sending twice. Should the process die between the send and the record, the retry
 * sends again with the same `Idempotency-Key`, for the receiver to drop.
 */
import { networkCause, scrub } from '../net/http-errors.js';
import { resolveSecret } from '../product/secret.js';
import type { ResolvedChannels, ResolvedWebhook } from './config.js';
import { webhookLabel } from './config.js';
import { AlertDeliveryError } from './errors.js';
import { alertMessageId, jsonPayload, logLine, slackPayload } from './payload.js';
import type { AlertStore } from './store.js';
import type { AlertEvent, AlertRecord, DeliveryRef } from './types.js';

export interface DeliverOptions {
  /** Where the `log` channel writes its line. */
  log: (line: string) => void;
  fetch?: typeof fetch;
  /** Where secret references are read from; default `process.env`, read at delivery time. */
  env?: NodeJS.ProcessEnv;
}

/** Delivers `delivery` unless it was delivered already; throws (after recording the attempt) when it fails. */
export async function deliver(
  store: Pick<AlertStore, 'attempt'>,
  delivery: DeliveryRef,
  channels: ResolvedChannels,
  options: DeliverOptions,
): Promise<'delivered' | 'already'> {
  return store.attempt(delivery, async (alert) => {
    if (delivery.channel === 'log' && channels.log) {
      options.log(logLine(alert, delivery.event));
    } else if (delivery.channel === 'webhook' && channels.webhook) {
      await postWebhook(channels.webhook, alert, delivery.event, options);
    } else {
      throw new AlertDeliveryError(
        `Alert ${alert.alertId} of ${alert.env}/${alert.product} is due on channel '${delivery.channel}', which environment ${alert.env} ` +
          `no longer has. Configure it again under environments.${alert.env}.alerts in lastmile.config.ts to deliver it.`,
        { retryable: false },
      );
    }
  });
}

async function postWebhook(webhook: ResolvedWebhook, alert: AlertRecord, event: AlertEvent, options: DeliverOptions): Promise<void> {
  const label = webhookLabel(webhook);
  const url = typeof webhook.url === 'string' ? webhook.url : resolveSecret(webhook.url, `the alert webhook of environment ${alert.env}`, options.env);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new AlertDeliveryError(`${label} is not an http(s) URL. Set it to the receiver's full URL, e.g. https://hooks.slack.com/services/...`);
  }
  const body = webhook.format === 'slack' ? slackPayload(alert, event) : jsonPayload(alert, event);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': alertMessageId(alert.alertId, event) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(webhook.timeoutMs),
    });
  } catch (error) {
    throw new AlertDeliveryError(`${label} could not be reached: ${networkCause(error, webhook.timeoutMs)}. The delivery is retried.`);
  }
  const answer = await response.text().catch(() => '');
  if (!response.ok) {
    const said = scrub(answer, url).replace(/\s+/g, ' ').trim().slice(0, 200);
    throw new AlertDeliveryError(`${label} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${said ? `: ${said}` : ''}. The delivery is retried.`);
  }
}

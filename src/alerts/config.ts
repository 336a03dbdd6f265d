/** The alert channels of an environment, from its `alerts` config. */
import type { AlertsSpec, AlertWebhookFormat, EnvironmentAlerts } from '../config/spec.js';
import { ALERT_WEBHOOK_TIMEOUT } from '../config/schema.js';
import { durationMs } from '../time/duration.js';
import type { SecretRef } from '../product/secret.js';

export const ALERT_CHANNELS = ['log', 'webhook'] as const;
export type AlertChannel = (typeof ALERT_CHANNELS)[number];

export interface ResolvedWebhook {
  /** A literal URL, or the variable to read it from at delivery time. */
  readonly url: string | SecretRef;
  readonly format: AlertWebhookFormat;
  readonly timeoutMs: number;
}

/** What `deliver` sends through: the log unless turned off, and the webhook when one is configured. */
export interface ResolvedChannels {
  readonly log: boolean;
  readonly webhook?: ResolvedWebhook;
}

/** The channels an environment alerts on: `['log']` by default, plus `'webhook'` when one is configured. */
export function alertChannels(config: EnvironmentAlerts | AlertsSpec | undefined): AlertChannel[] {
  const channels = resolveChannels(config);
  return ALERT_CHANNELS.filter((channel) => (channel === 'log' ? channels.log : channels.webhook !== undefined));
}

/** The environment's channels with defaults filled in (log on, JSON format, 10s timeout). */
export function resolveChannels(config: EnvironmentAlerts | AlertsSpec | undefined): ResolvedChannels {
  const webhook = config?.webhook;
  return {
    log: config?.log ?? true,
    ...(webhook && {
      webhook: { url: webhook.url, format: webhook.format ?? 'json', timeoutMs: durationMs(webhook.timeout ?? ALERT_WEBHOOK_TIMEOUT) },
    }),
  };
}

/** How errors name the webhook: by the variable holding its URL, never by the URL. */
export function webhookLabel(webhook: ResolvedWebhook): string {
  return typeof webhook.url === 'string' ? 'the alert webhook (alerts.webhook.url in lastmile.config.ts)' : `the alert webhook (${webhook.url.env})`;
}

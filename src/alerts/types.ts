/** Records of the alert layer: incidents (`lastmile.alerts`) and their deliveries (`lastmile.alert_deliveries`). */
import type { JsonValue } from '../meta/types.js';

export const ALERT_KINDS = ['breach', 'burn', 'run', 'share', 'sync'] as const;
/** What raised the alert: an SLO objective missed, an error budget burning too fast, a failed/blocked run, a share's access about to expire, or a sync held by its guardrails. */
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_SEVERITIES = ['page', 'ticket'] as const;
/** `page` wakes someone; `ticket` waits for working hours. */
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Each incident sends one `open` message per channel, and one `resolve` message when it ends. */
export type AlertEvent = 'open' | 'resolve';

export interface IncidentInput {
  env: string;
  product: string;
  kind: AlertKind;
  /** The SLI the alert is about (`freshness`, `availability` …); absent for run alerts. */
  slo?: string;
  severity: AlertSeverity;
  /** Dedupe key: at most one open incident per key, e.g. `dev/ad_bids/breach/freshness`. */
  key: string;
  message: string;
  detail?: JsonValue;
}

export interface AlertRecord {
  alertId: number;
  env: string;
  product: string;
  kind: AlertKind;
  slo: string | null;
  severity: AlertSeverity;
  message: string;
  resolveMessage: string | null;
  detail: JsonValue | null;
  key: string;
  raisedAt: Date;
  resolvedAt: Date | null;
}

/** Names one message of one incident on one channel. */
export interface DeliveryRef {
  alertId: number;
  event: AlertEvent;
  channel: string;
}

/** A message not delivered yet: what the monitor runs one delivery activity for. */
export interface PendingDelivery extends DeliveryRef {
  attempts: number;
}

export interface DeliveryRecord extends PendingDelivery {
  lastAttemptAt: Date | null;
  /** Why the last attempt failed (never a URL or secret); null once delivered. */
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** How a delivery attempt ended, for `markAttempt`. */
export type DeliveryOutcome = { delivered: true } | { error: string };

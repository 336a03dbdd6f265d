/** What an alert says on each channel: a log line, lastmile's JSON event, a Slack message. */
import type { JsonValue } from '../meta/types.js';
import type { AlertEvent, AlertRecord } from './types.js';

/** Receivers dedupe on this: the same for every retry of one message. Sent as the `Idempotency-Key` header. */
export function alertMessageId(alertId: number, event: AlertEvent): string {
  return `lastmile-${alertId}-${event}`;
}

/** The message of an event: the resolve message once resolved (the opening message when there is none). */
function eventMessage(alert: AlertRecord, event: AlertEvent): string {
  return event === 'resolve' ? (alert.resolveMessage ?? alert.message) : alert.message;
}

/** `[page] dev/ad_bids freshness breach: data is 7h old (objective ≤ 6h)` */
function headline(alert: AlertRecord, event: AlertEvent): string {
  const what = [alert.slo, alert.kind].filter(Boolean).join(' ');
  return `[${alert.severity}] ${alert.env}/${alert.product} ${what}: ${eventMessage(alert, event)}`;
}

/** One line for the worker's log: `ALERT [page] dev/ad_bids freshness breach: … — alert 12`, or `RESOLVED …`. */
export function logLine(alert: AlertRecord, event: AlertEvent): string {
  return `${event === 'open' ? 'ALERT' : 'RESOLVED'} ${headline(alert, event)} — alert ${alert.alertId}`;
}

export interface AlertPayload {
  [key: string]: JsonValue;
  id: string;
  alertId: number;
  event: AlertEvent;
  status: 'firing' | 'resolved';
  env: string;
  product: string;
  kind: string;
  slo: string | null;
  severity: string;
  key: string;
  message: string;
  detail: JsonValue;
  raisedAt: string;
  resolvedAt: string | null;
}

/** The `json` webhook body. `message` is the event's message: the resolve message on `resolve`. */
export function jsonPayload(alert: AlertRecord, event: AlertEvent): AlertPayload {
  return {
    id: alertMessageId(alert.alertId, event),
    alertId: alert.alertId,
    event,
    status: event === 'open' ? 'firing' : 'resolved',
    env: alert.env,
    product: alert.product,
    kind: alert.kind,
    slo: alert.slo,
    severity: alert.severity,
    key: alert.key,
    message: eventMessage(alert, event),
    detail: alert.detail,
    raisedAt: alert.raisedAt.toISOString(),
    resolvedAt: event === 'resolve' && alert.resolvedAt ? alert.resolvedAt.toISOString() : null,
  };
}

/** Slack treats `&`, `<` and `>` as markup; everything else is shown as written. */
function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The `slack` webhook body: a Slack incoming-webhook message, one line of text. */
export function slackPayload(alert: AlertRecord, event: AlertEvent): { text: string } {
  const prefix = event === 'open' ? ':rotating_light:' : ':white_check_mark: RESOLVED';
  return { text: `${prefix} ${slackEscape(headline(alert, event))} (alert ${alert.alertId})` };
}

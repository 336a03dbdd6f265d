/**
 * The alert layer: incidents recorded once per dedupe key, and their messages delivered once per channel.
 * The SLO monitor opens and resolves incidents, then runs one activity per `pending()` delivery calling `deliver`.
 */
export type { AlertEvent, AlertKind, AlertRecord, AlertSeverity, DeliveryOutcome, DeliveryRecord, DeliveryRef, IncidentInput, PendingDelivery } from './types.js';
export { ALERT_KINDS, ALERT_SEVERITIES } from './types.js';
export { createAlertStore, type AlertQuery, type AlertStore } from './store.js';
export { ALERT_CHANNELS, alertChannels, resolveChannels, webhookLabel, type AlertChannel, type ResolvedChannels, type ResolvedWebhook } from './config.js';
export { deliver, type DeliverOptions } from './deliver.js';
export { AlertDeliveryError } from './errors.js';
export { alertMessageId, jsonPayload, logLine, slackPayload, type AlertPayload } from './payload.js';
export type { AlertsSpec, AlertWebhookFormat, AlertWebhookSpec, EnvironmentAlerts, MonitorSpec } from '../config/spec.js';

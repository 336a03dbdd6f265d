/**
 * Incidents and their deliveries in the `lastmile` schema. Every write is safe to repeat, because the SLO monitor
 * calls it from Temporal activities that may run twice:
 * - `open` records at most one open incident per dedupe key (the `alerts_open_once` index decides races) and, in the
 *   same transaction, one `open` delivery row per channel;
 * - `resolve` closes the open incident of a key and adds a `resolve` row for each channel that had an `open` row;
 * - `attempt` sends one delivery under a row lock and records the outcome, so a delivery recorded as delivered is
 *   never sent again.
 */
import type pg from 'pg';
import type { JsonValue } from '../meta/types.js';
import { AlertDeliveryError } from './errors.js';
import type { AlertEvent, AlertKind, AlertRecord, AlertSeverity, DeliveryOutcome, DeliveryRecord, DeliveryRef, IncidentInput, PendingDelivery } from './types.js';
import { ALERT_KINDS, ALERT_SEVERITIES } from './types.js';
import { inTransaction } from '../warehouse/transaction.js';

export interface AlertQuery {
  env?: string;
  product?: string;
}

export interface AlertStore {
  /**
   * Opens an incident under `input.key` with one `open` delivery per channel. When an incident under that key is open
   * already, returns it with `opened: false` and adds nothing (a retried activity, or the breach still going on).
   */
  open(input: IncidentInput, channels: readonly string[]): Promise<{ alert: AlertRecord; opened: boolean }>;
  /**
   * Resolves the open incident under `key` with `message`, adding a `resolve` delivery for each of `channels` that
   * has an `open` delivery. Undefined when nothing is open under the key (so a repeat changes nothing).
   */
  resolve(key: string, message: string, channels: readonly string[]): Promise<AlertRecord | undefined>;
  /** Open incidents, oldest first. */
  openAlerts(query?: AlertQuery): Promise<AlertRecord[]>;
  /** Deliveries not delivered yet, oldest first (an incident's `open` before its `resolve`). */
  pending(query?: AlertQuery): Promise<PendingDelivery[]>;
  get(alertId: number): Promise<AlertRecord | undefined>;
  /** Records one attempt: delivered (idempotent), or failed with `error`. Nothing changes on a delivered row. */
  markAttempt(delivery: DeliveryRef, outcome: DeliveryOutcome): Promise<void>;
  /** Every delivery of an incident, `open` first, by channel. */
  listDeliveries(alertId: number): Promise<DeliveryRecord[]>;
  /**
   * Sends one delivery exactly once as far as the database can tell: locks its row, returns `already` when it was
   * delivered, otherwise runs `send` and records the outcome. A `send` that throws is recorded as a failed attempt and
   * the error is thrown again. A `resolve` waits (throws a retryable error) until the channel has the `open` message.
   */
  attempt(delivery: DeliveryRef, send: (alert: AlertRecord) => Promise<void>): Promise<'delivered' | 'already'>;
}

interface AlertRow {
  alert_id: string;
  env: string;
  product: string;
  kind: AlertKind;
  slo: string | null;
  severity: AlertSeverity;
  message: string;
  resolve_message: string | null;
  detail: JsonValue | null;
  dedupe_key: string | null;
  raised_at: Date;
  resolved_at: Date | null;
}

interface DeliveryRow {
  alert_id: string;
  event: AlertEvent;
  channel: string;
  attempts: number;
  last_attempt_at: Date | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

const ALERT_FIELDS = ['alert_id', 'env', 'product', 'kind', 'slo', 'severity', 'message', 'resolve_message', 'detail', 'dedupe_key', 'raised_at', 'resolved_at'];
const ALERT_COLUMNS = ALERT_FIELDS.join(', ');
const DELIVERY_COLUMNS = `alert_id, event, channel, attempts, last_attempt_at, last_error, delivered_at, created_at`;
/** Stored errors are one readable paragraph; a receiver's long answer is cut. */
const MAX_ERROR_LENGTH = 2000;

function toAlert(row: AlertRow): AlertRecord {
  return {
    alertId: Number(row.alert_id),
    env: row.env,
    product: row.product,
    kind: row.kind,
    slo: row.slo,
    severity: row.severity,
    message: row.message,
    resolveMessage: row.resolve_message,
    detail: row.detail,
    key: row.dedupe_key ?? '',
    raisedAt: row.raised_at,
    resolvedAt: row.resolved_at,
  };
}

function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    alertId: Number(row.alert_id),
    event: row.event,
    channel: row.channel,
    attempts: row.attempts,
    lastAttemptAt: row.last_attempt_at,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

function checkIncident(input: IncidentInput): void {
  const wrong = (field: string, allowed: readonly string[]) =>
    new AlertDeliveryError(`Cannot open an alert with ${field} '${String(input[field as keyof IncidentInput])}': use ${allowed.join(' or ')}.`, { retryable: false });
  if (!ALERT_KINDS.includes(input.kind)) throw wrong('kind', ALERT_KINDS);
  if (!ALERT_SEVERITIES.includes(input.severity)) throw wrong('severity', ALERT_SEVERITIES);
  if (input.key.trim() === '') throw new AlertDeliveryError(`Cannot open an alert of ${input.env}/${input.product} without a dedupe key.`, { retryable: false });
}

const describe = (ref: DeliveryRef) => `the ${ref.event} message of alert ${ref.alertId} on channel '${ref.channel}'`;


async function record(db: pg.Pool | pg.PoolClient, ref: DeliveryRef, outcome: DeliveryOutcome): Promise<void> {
  const error = 'error' in outcome ? outcome.error.slice(0, MAX_ERROR_LENGTH) : null;
  const updated = await db.query(
    `update lastmile.alert_deliveries
        set attempts = attempts + 1, last_attempt_at = now(), last_error = $4::text,
            delivered_at = case when $4::text is null then now() end
      where alert_id = $1 and event = $2 and channel = $3 and delivered_at is null`,
    [ref.alertId, ref.event, ref.channel, error],
  );
  if (updated.rowCount) return;
  const exists = await db.query(`select 1 from lastmile.alert_deliveries where alert_id = $1 and event = $2 and channel = $3`, [ref.alertId, ref.event, ref.channel]);
  if (exists.rowCount === 0) throw missingDelivery(ref);
}

function missingDelivery(ref: DeliveryRef): AlertDeliveryError {
  return new AlertDeliveryError(
    `There is no delivery of ${describe(ref)} in lastmile.alert_deliveries. Deliveries are created by open() and resolve(); deliver only what pending() lists.`,
    { retryable: false },
  );
}

/** Creates the alert store over a pool of the metadata database (migrated with `migrate(pool)`). */
export function createAlertStore(pool: pg.Pool): AlertStore {
  async function get(alertId: number): Promise<AlertRecord | undefined> {
    const result = await pool.query<AlertRow>(`select ${ALERT_COLUMNS} from lastmile.alerts where alert_id = $1`, [alertId]);
    const row = result.rows[0];
    return row ? toAlert(row) : undefined;
  }

  return {
    async open(input, channels) {
      checkIncident(input);
      // A conflicting insert waits for the other transaction; if that one is resolved meanwhile, try again.
      for (let tries = 0; tries < 5; tries++) {
        const outcome = await inTransaction(pool, async (client) => {
          const inserted = await client.query<AlertRow>(
            `insert into lastmile.alerts (env, product, kind, slo, severity, message, detail, dedupe_key)
             values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
             on conflict (dedupe_key) where resolved_at is null and dedupe_key is not null do nothing
             returning ${ALERT_COLUMNS}`,
            [input.env, input.product, input.kind, input.slo ?? null, input.severity, input.message,
              input.detail === undefined ? null : JSON.stringify(input.detail), input.key],
          );
          const row = inserted.rows[0];
          if (row) {
            await client.query(
              `insert into lastmile.alert_deliveries (alert_id, event, channel)
               select $1, 'open', channel from unnest($2::text[]) as channel
               on conflict do nothing`,
              [row.alert_id, [...new Set(channels)]],
            );
            return { alert: toAlert(row), opened: true };
          }
          const existing = await client.query<AlertRow>(
            `select ${ALERT_COLUMNS} from lastmile.alerts where dedupe_key = $1 and resolved_at is null`,
            [input.key],
          );
          const open = existing.rows[0];
          return open ? { alert: toAlert(open), opened: false } : undefined;
        });
        if (outcome) return outcome;
      }
      throw new AlertDeliveryError(`Opening the alert '${input.key}' kept racing with its resolution; retry.`);
    },

    async resolve(key, message, channels) {
      return inTransaction(pool, async (client) => {
        const updated = await client.query<AlertRow>(
          `update lastmile.alerts set resolved_at = now(), resolve_message = $2
            where dedupe_key = $1 and resolved_at is null
            returning ${ALERT_COLUMNS}`,
          [key, message],
        );
        const row = updated.rows[0];
        if (!row) return undefined;
        await client.query(
          `insert into lastmile.alert_deliveries (alert_id, event, channel)
           select alert_id, 'resolve', channel from lastmile.alert_deliveries
            where alert_id = $1 and event = 'open' and channel = any($2::text[])
           on conflict do nothing`,
          [row.alert_id, [...channels]],
        );
        return toAlert(row);
      });
    },

    async openAlerts(query = {}) {
      const result = await pool.query<AlertRow>(
        `select ${ALERT_COLUMNS} from lastmile.alerts
          where resolved_at is null and ($1::text is null or env = $1) and ($2::text is null or product = $2)
          order by raised_at, alert_id`,
        [query.env ?? null, query.product ?? null],
      );
      return result.rows.map(toAlert);
    },

    async pending(query = {}) {
      const result = await pool.query<DeliveryRow>(
        `select d.alert_id, d.event, d.channel, d.attempts from lastmile.alert_deliveries d
           join lastmile.alerts a using (alert_id)
          where d.delivered_at is null and ($1::text is null or a.env = $1) and ($2::text is null or a.product = $2)
          order by d.alert_id, d.event = 'resolve', d.channel`,
        [query.env ?? null, query.product ?? null],
      );
      return result.rows.map((row) => ({ alertId: Number(row.alert_id), event: row.event, channel: row.channel, attempts: row.attempts }));
    },

    get,

    markAttempt: (delivery, outcome) => record(pool, delivery, outcome),

    async listDeliveries(alertId) {
      const result = await pool.query<DeliveryRow>(
        `select ${DELIVERY_COLUMNS} from lastmile.alert_deliveries where alert_id = $1 order by event = 'resolve', channel`,
        [alertId],
      );
      return result.rows.map(toDelivery);
    },

    async attempt(ref, send) {
      const failure: { error?: unknown } = {};
      const outcome = await inTransaction(pool, async (client) => {
        // The row lock makes a second attempt running at the same time wait, then see the delivery done.
        const locked = await client.query<AlertRow & { delivered_at: Date | null; open_delivered: boolean | null }>(
          `select ${ALERT_FIELDS.map((column) => `a.${column}`).join(', ')}, d.delivered_at,
                  (select o.delivered_at is not null from lastmile.alert_deliveries o
                    where o.alert_id = d.alert_id and o.event = 'open' and o.channel = d.channel) as open_delivered
             from lastmile.alert_deliveries d join lastmile.alerts a using (alert_id)
            where d.alert_id = $1 and d.event = $2 and d.channel = $3
              for update of d`,
          [ref.alertId, ref.event, ref.channel],
        );
        const row = locked.rows[0];
        if (!row) throw missingDelivery(ref);
        if (row.delivered_at) return 'already' as const;
        if (ref.event === 'resolve' && row.open_delivered === false) {
          throw new AlertDeliveryError(`${describe(ref)} waits until the open message is delivered on that channel; retry later.`);
        }
        try {
          await send(toAlert(row));
        } catch (error) {
          failure.error = error;
          await record(client, ref, { error: error instanceof Error ? error.message : String(error) });
          return 'failed' as const;
        }
        await record(client, ref, { delivered: true });
        return 'delivered' as const;
      });
      if (outcome === 'failed') throw failure.error;
      return outcome;
    },
  };
}

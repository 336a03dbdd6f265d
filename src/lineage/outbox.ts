/**
 * The outbox of lineage events (`lastmile.lineage_events`). Recording is idempotent (one START and one end event per
 * run); delivery takes the oldest undelivered event of an environment under a transaction-scoped advisory lock, sends
 * it, and records the outcome before the next — so events go out in order, two workers never send the same event at
 * once, and an event recorded as delivered is never sent again.
 */
import type pg from 'pg';
import { inTransaction } from '../warehouse/transaction.js';
import type { LineageEventRecord, LineageEventType, RunEvent } from './types.js';

/** Stored errors are one readable paragraph; a receiver's long answer is cut. */
const MAX_ERROR_LENGTH = 2000;
/** First key of the advisory lock of an environment's delivery (the second is the hash of the environment's name). */
const DELIVERY_LOCK = 918783656;

interface EventRow {
  event_id: string;
  env: string;
  run_id: string;
  event_type: LineageEventType;
  payload: RunEvent;
  created_at: Date;
  attempts: number;
  last_attempt_at: Date | null;
  last_error: string | null;
  delivered_at: Date | null;
  rejected_at: Date | null;
}

const COLUMNS = 'event_id, env, run_id, event_type, payload, created_at, attempts, last_attempt_at, last_error, delivered_at, rejected_at';

function toRecord(row: EventRow): LineageEventRecord {
  return {
    eventId: Number(row.event_id),
    env: row.env,
    runId: row.run_id,
    eventType: row.event_type,
    payload: row.payload,
    createdAt: row.created_at,
    attempts: row.attempts,
    lastAttemptAt: row.last_attempt_at,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    rejectedAt: row.rejected_at,
  };
}

/** Records an event of a run unless the run has one of its kind (START, or an end event) already; true when added. */
export async function recordLineageEvent(db: pg.Pool | pg.PoolClient, input: { env: string; runId: string; event: RunEvent }): Promise<boolean> {
  const inserted = await db.query(
    `insert into lastmile.lineage_events (env, run_id, event_type, payload) values ($1, $2, $3, $4::jsonb)
     on conflict (run_id, (event_type = 'START')) do nothing`,
    [input.env, input.runId, input.event.eventType, JSON.stringify(input.event)],
  );
  return (inserted.rowCount ?? 0) > 0;
}

/** Events oldest first, optionally of one environment or run. */
export async function listLineageEvents(pool: pg.Pool, query: { env?: string; runId?: string; pending?: boolean } = {}): Promise<LineageEventRecord[]> {
  const result = await pool.query<EventRow>(
    `select ${COLUMNS} from lastmile.lineage_events
      where ($1::text is null or env = $1) and ($2::text is null or run_id = $2)
        and (not $3::boolean or (delivered_at is null and rejected_at is null))
      order by event_id`,
    [query.env ?? null, query.runId ?? null, query.pending ?? false],
  );
  return result.rows.map(toRecord);
}

/** How one send ended: delivered, refused for good (not sent again), or failed (sent again later). */
export type SendOutcome = { kind: 'delivered' } | { kind: 'rejected'; error: string } | { kind: 'failed'; error: string };

export interface DeliveryProgress {
  delivered: LineageEventRecord[];
  rejected: LineageEventRecord[];
  /** the event whose send failed (delivery stopped there, to keep the order) */
  failed?: { event: LineageEventRecord; error: string };
  /** undelivered events left when the time budget ran out */
  more: boolean;
}

/**
 * Sends the environment's undelivered events oldest first, one transaction each, until none is left, one fails, or
 * `budgetMs` has passed. `send` must not throw: it says how the attempt ended.
 */
export async function deliverPending(
  pool: pg.Pool,
  env: string,
  send: (event: LineageEventRecord) => Promise<SendOutcome>,
  options: { budgetMs?: number; now?: () => number } = {},
): Promise<DeliveryProgress> {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.budgetMs ?? 60_000);
  const progress: DeliveryProgress = { delivered: [], rejected: [], more: false };
  for (;;) {
    if (now() > deadline) {
      progress.more = (await listLineageEvents(pool, { env, pending: true })).length > 0;
      return progress;
    }
    const step = await inTransaction(pool, async (client) => {
      await client.query('select pg_advisory_xact_lock($1::int, hashtext($2))', [DELIVERY_LOCK, env]);
      const next = await client.query<EventRow>(
        `select ${COLUMNS} from lastmile.lineage_events
          where env = $1 and delivered_at is null and rejected_at is null
          order by event_id limit 1 for update`,
        [env],
      );
      const row = next.rows[0];
      if (!row) return undefined;
      const event = toRecord(row);
      const outcome = await send(event);
      const error = outcome.kind === 'delivered' ? null : outcome.error.slice(0, MAX_ERROR_LENGTH);
      await client.query(
        `update lastmile.lineage_events
            set attempts = attempts + 1, last_attempt_at = now(), last_error = $2::text,
                delivered_at = case when $3 = 'delivered' then now() end,
                rejected_at = case when $3 = 'rejected' then now() end
          where event_id = $1`,
        [row.event_id, error, outcome.kind],
      );
      return { event: { ...event, attempts: event.attempts + 1, lastError: error }, outcome };
    });
    if (!step) return progress;
    if (step.outcome.kind === 'delivered') progress.delivered.push(step.event);
    else if (step.outcome.kind === 'rejected') progress.rejected.push(step.event);
    else {
      progress.failed = { event: step.event, error: step.outcome.error };
      return progress;
    }
  }
}

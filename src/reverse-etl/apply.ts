/**
 * Applying a frozen plan, batch by batch, exactly once: each batch goes under the idempotency key `<run>:<batch>`
 * (`:<round>` for a re-send of its transient rows); it is marked sent before the request and acknowledged, with every
 * row's outcome, in one transaction after the answer. A worker that dies anywhere resumes at the first batch not
 * acknowledged, sending it again under the same key (`resent`: the destination may have it). When every batch is
 * acknowledged, the acknowledged rows advance the synced state (src/reverse-etl/fold.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { SyncResult } from '../../workflows/types.js';
import { InputError } from '../errors.js';
import { inTransaction } from '../warehouse/transaction.js';
import type { DestinationAdapter, JsonScalar, JsonValue, OutgoingRow, RowOutcome, SendStats, SyncOp } from './destinations/types.js';
import { foldRun } from './fold.js';
import type { SyncRunState } from './freeze.js';
import { createPace } from './pace.js';
import type { SyncSpec } from './spec.js';

/** What came of a sync's apply step: the rows' outcomes and what the sending took. */
export type SyncOutcome = Omit<SyncResult, 'planned'>;

/** A batch's transient rows are sent again this many times (with backoff) before they wait for the next sync. */
export const MAX_ROUNDS = 5;

export interface ApplyOptions {
  onProgress?: (done: { batches: number; of: number }) => void;
  signal?: AbortSignal;
  /** the pause between rounds of a batch's transient rows (tests pass a short one) */
  roundPauseMs?: (round: number) => number;
}

export async function applyPlan(pool: pg.Pool, spec: SyncSpec, runId: string, adapter: DestinationAdapter, options: ApplyOptions = {}): Promise<SyncOutcome> {
  const started = Date.now();
  const run = await pool.query<{ state: SyncRunState; outcome: SyncOutcome | null; batches: number; decision_reason: string | null }>(
    `select state, outcome, batches, decision_reason from lastmile.sync_runs where run_id = $1`,
    [runId],
  );
  const row = run.rows[0];
  if (!row) throw new InputError(`run ${runId} has no frozen sync plan`);
  if (row.state === 'applied' && row.outcome) return row.outcome;
  if (row.state === 'held') throw new InputError(`the sync of run ${runId} is held by its guardrails and was not approved`);
  if (row.state === 'rejected' || row.state === 'abandoned') {
    throw new InputError(`the sync of run ${runId} was ${row.state}${row.decision_reason ? `: ${row.decision_reason}` : ''}; nothing is sent`);
  }
  await pool.query(`update lastmile.sync_runs set state = 'applying', touched_at = now() where run_id = $1`, [runId]);
  await adapter.prepare();

  const stats: SendStats = { requests: 0, throttled: 0, retries: 0, lookedUp: 0 };
  const pace = createPace(spec.rateLimit);
  const open = await pool.query<{ batch: number; round: number; sent: boolean }>(
    `select batch, round, sent_at is not null as sent from lastmile.sync_batches where run_id = $1 and acked_at is null order by batch`,
    [runId],
  );
  let done = row.batches - open.rows.length;
  const queue = [...open.rows];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      await sendBatch(pool, spec, runId, next, adapter, { stats, pace, ...options });
      done += 1;
      options.onProgress?.({ batches: done, of: row.batches });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(spec.concurrency, queue.length)) }, worker));

  const outcome = await inTransaction(pool, async (client) => {
    await foldRun(client, runId);
    const tally = await client.query<{ status: string; n: string }>(`select status, count(*) as n from lastmile.sync_ops where run_id = $1 group by status`, [runId]);
    const count = (status: string) => Number(tally.rows.find((r) => r.status === status)?.n ?? 0);
    const result: SyncOutcome = {
      applied: count('applied'),
      unchanged: count('unchanged'),
      rejected: count('rejected'),
      transient: count('transient') + count('pending'),
      ...stats,
      batches: row.batches,
      durationMs: Date.now() - started,
    };
    await client.query(`update lastmile.sync_runs set state = 'applied', outcome = $2, finished_at = now(), touched_at = now() where run_id = $1`, [runId, JSON.stringify(result)]);
    return result;
  });
  return outcome;
}

interface OpRow {
  seq: number;
  key: string;
  op: SyncOp;
  record: Record<string, JsonValue> | null;
  remote_id: string | null;
}

async function sendBatch(
  pool: pg.Pool,
  spec: SyncSpec,
  runId: string,
  start: { batch: number; round: number; sent: boolean },
  adapter: DestinationAdapter,
  context: ApplyOptions & { stats: SendStats; pace: ReturnType<typeof createPace> },
): Promise<void> {
  let { round, sent } = start;
  for (;;) {
    const rows = await pool.query<OpRow>(
      `select seq, key, op, record, remote_id from lastmile.sync_ops where run_id = $1 and batch = $2 and status in ('pending', 'transient') order by seq`,
      [runId, start.batch],
    );
    if (rows.rows.length === 0) {
      await pool.query(`update lastmile.sync_batches set acked_at = now() where run_id = $1 and batch = $2`, [runId, start.batch]);
      return;
    }
    const idempotencyKey = round === 0 ? `${runId}:${start.batch}` : `${runId}:${start.batch}:${round}`;
    if (!sent) await pool.query(`update lastmile.sync_batches set sent_at = now() where run_id = $1 and batch = $2`, [runId, start.batch]);
    const outgoing = rows.rows.map((row) => outgoingRow(spec, row));
    const outcomes = await adapter.send({
      idempotencyKey,
      batch: start.batch,
      rows: outgoing,
      resent: sent,
      stats: context.stats,
      pace: context.pace,
      ...(context.signal && { signal: context.signal }),
    });
    const transient = await recordOutcomes(pool, runId, start.batch, outgoing, outcomes, round);
    if (transient === 0 || round + 1 >= MAX_ROUNDS) return;
    round += 1;
    sent = false;
    await sleep(context.roundPauseMs?.(round) ?? Math.min(30_000, 1_000 * 2 ** round));
  }
}

/**
 * The key fields of a row are read from its record (for a delete: the record last synced); a delete whose values the
 * state did not keep takes them from the key's text (a JSON array for several columns).
 */
function outgoingRow(spec: SyncSpec, row: OpRow): OutgoingRow {
  const key: Record<string, JsonScalar> = {};
  const fromText = row.record === null ? keyValues(spec, row.key) : undefined;
  spec.keyFields.forEach((field, index) => {
    const value = fromText ? fromText[index] : row.record?.[field];
    key[field] = value === undefined || (typeof value === 'object' && value !== null) ? null : value;
  });
  return { seq: row.seq, op: row.op, key, record: row.record, remoteId: row.remote_id };
}

function keyValues(spec: SyncSpec, key: string): JsonValue[] {
  if (spec.keyFields.length === 1) return [key];
  try {
    const parsed = JSON.parse(key) as unknown;
    return Array.isArray(parsed) ? (parsed as JsonValue[]) : [];
  } catch {
    return [];
  }
}

/**
 * Records a batch's outcomes in one transaction, and acknowledges the batch unless transient rows remain for another
 * round (then its round moves on, so the re-send carries a key of its own). A row without an outcome is transient.
 * Returns how many rows are still transient.
 */
async function recordOutcomes(pool: pg.Pool, runId: string, batch: number, rows: readonly OutgoingRow[], outcomes: readonly RowOutcome[], round: number): Promise<number> {
  const bySeq = new Map(outcomes.map((o) => [o.seq, o]));
  const all = rows.map((row): RowOutcome => bySeq.get(row.seq) ?? { seq: row.seq, status: 'transient', reason: 'the destination reported no outcome for this row' });
  const transient = all.filter((o) => o.status === 'transient').length;
  // the rows applied as sent in one statement; only the others (and rows with a destination id) one by one
  const special = all.filter((o) => o.status !== 'applied' || o.reason !== undefined || o.remoteId !== undefined);
  await inTransaction(pool, async (client) => {
    await client.query(
      `update lastmile.sync_ops set status = 'applied', attempt = attempt + 1, finished_at = now()
        where run_id = $1 and batch = $2 and status in ('pending', 'transient') and seq = any($3::int[]) and not (seq = any($4::int[]))`,
      [runId, batch, rows.map((r) => r.seq), special.map((o) => o.seq)],
    );
    if (special.length > 0) {
      await client.query(
        `update lastmile.sync_ops o
            set status = u.status, reason = u.reason, remote_id = coalesce(u.remote_id, o.remote_id), attempt = o.attempt + 1, finished_at = now()
           from unnest($2::int[], $3::text[], $4::text[], $5::text[]) as u(seq, status, reason, remote_id)
          where o.run_id = $1 and o.seq = u.seq`,
        [runId, special.map((o) => o.seq), special.map((o) => o.status), special.map((o) => o.reason ?? null), special.map((o) => o.remoteId ?? null)],
      );
    }
    if (transient > 0 && round + 1 < MAX_ROUNDS) {
      await client.query(`update lastmile.sync_batches set round = round + 1, sent_at = null where run_id = $1 and batch = $2`, [runId, batch]);
    } else {
      await client.query(`update lastmile.sync_batches set acked_at = now() where run_id = $1 and batch = $2`, [runId, batch]);
    }
    await client.query(`update lastmile.sync_runs set touched_at = now() where run_id = $1`, [runId]);
  });
  return transient;
}

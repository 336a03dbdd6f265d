/**
 * Freezing a run's plan: in one transaction (one snapshot, the target's lock held), fold what earlier runs left
 * acknowledged, compute the difference between the served rows and the synced state in SQL, write it as the run's
 * operations and batches, and judge the guardrails on it. A run id has one plan: freezing again returns it, so a
 * retried activity sends exactly the same batches. A dry run does all of it and rolls back.
 */
import type pg from 'pg';
import type { SyncResult } from '../../workflows/types.js';
import type { CompiledQuery } from '../checks/index.js';
import { SyncError } from './errors.js';
import { countStatement, freezeStatement } from './diff-sql.js';
import { foldUnfolded } from './fold.js';
import { judgeGuardrails, planFigures, type GuardrailVerdict } from './guardrails.js';
import type { SyncSpec } from './spec.js';
import type { SyncOp } from './destinations/types.js';

export type SyncRunState = 'planned' | 'held' | 'approved' | 'rejected' | 'abandoned' | 'applying' | 'applied' | 'failed';

/**
 * The plan's counts: rows of the served query, operations by kind, rows rejected for a NULL key, rows already at the
 * destination as they are (for insert mode, also changed rows insert does not send), records synced before.
 */
export type PlanCounts = SyncResult['planned'];

export interface FrozenPlan {
  runId: string;
  state: SyncRunState;
  mode: SyncSpec['mode'];
  destination: string;
  counts: PlanCounts;
  batches: number;
  batchSize: number;
  verdicts: GuardrailVerdict[];
  /** a guardrail tripped: the sync waits for a decision */
  held: boolean;
  /** dry runs: the first operations of the plan */
  samples?: { op: SyncOp; key: string | null; record: unknown }[];
}

export interface FreezeInput {
  env: string;
  runId: string;
  workflowId?: string;
  /** where the rows go, for people */
  destination: string;
  query: CompiledQuery;
  dryRun?: boolean;
}

/** An applying run that acknowledged nothing for this long is taken as dead by the next sync of the target. */
export const DEAD_AFTER_MS = 10 * 60_000;
/** How long the sync log keeps a run's operations. */
export const SYNC_LOG_DAYS = 30;

export async function freezePlan(pool: pg.Pool, spec: SyncSpec, input: FreezeInput): Promise<FrozenPlan> {
  const existing = input.dryRun ? undefined : await storedPlan(pool, input.runId);
  if (existing) return existing;
  const scope = { env: input.env, product: spec.product, target: spec.target };
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read');
    // keys and values read the same in every session: text of dates and times in UTC, ISO style
    await client.query(`set local timezone = 'UTC'`);
    await client.query(`set local datestyle = 'ISO, YMD'`);
    // the diff joins every served row with the synced state: in memory, not in batches on disk
    await client.query(`set local work_mem = '256MB'`);
    await client.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`lastmile-sync:${input.env}/${spec.product}/${spec.target}`]);
    if (!input.dryRun) {
      const again = await storedPlan(client, input.runId);
      if (again) {
        await client.query('rollback');
        return again;
      }
    }
    await settleEarlierRuns(client, scope, input.runId);
    await foldUnfolded(client, scope);
    if (!input.dryRun) await pruneLog(client, scope);

    await client.query(
      `insert into lastmile.sync_runs (run_id, env, product, target, workflow_id, mode, destination, state, counts, verdicts, batches, batch_size, keeps_records)
       values ($1, $2, $3, $4, $5, $6, $7, 'planned', '{}', '[]', 0, $8, $9)`,
      [input.runId, input.env, spec.product, spec.target, input.workflowId ?? null, spec.mode, input.destination, spec.batchSize, spec.mode === 'mirror' || spec.guardrails.totals.length > 0],
    );
    const figuresBefore = await client.query<{ synced: string }>(
      `select count(*) as synced from lastmile.sync_state where env = $1 and product = $2 and target = $3 and hash is not null`,
      [input.env, spec.product, spec.target],
    );
    const version = Number((await client.query<{ v: string }>(`select current_setting('server_version_num') as v`)).rows[0]!.v);
    const freeze = freezeStatement(spec, input.query, { binaryHash: version >= 140_000 });
    const frozen = await client.query(freeze.text, [...freeze.values, input.runId, input.env, spec.product, spec.target, spec.batchSize]);
    // the guardrails join the plan with the state: plan them on statistics that know the plan's size
    if ((frozen.rowCount ?? 0) > 50_000) await client.query('analyze lastmile.sync_ops');
    const count = countStatement(input.query);
    const rows = Number((await client.query<{ rows: string }>(count.text, count.values)).rows[0]!.rows);
    const byOp = await client.query<{ op: SyncOp; status: string; n: string }>(
      `select op, status, count(*) as n from lastmile.sync_ops where run_id = $1 group by op, status`,
      [input.runId],
    );
    const counts: PlanCounts = { rows, insert: 0, update: 0, upsert: 0, delete: 0, nullKeys: 0, unchanged: 0, synced: Number(figuresBefore.rows[0]!.synced) };
    let sentFromResult = 0;
    for (const row of byOp.rows) {
      const n = Number(row.n);
      if (row.status === 'rejected') counts.nullKeys += n;
      else counts[row.op] += n;
      if (row.op !== 'delete') sentFromResult += n;
    }
    counts.unchanged = Math.max(0, rows - sentFromResult);
    const batches = Number(
      (await client.query<{ batches: string }>(`select coalesce(max(batch) + 1, 0) as batches from lastmile.sync_ops where run_id = $1`, [input.runId])).rows[0]!.batches,
    );
    await client.query(`insert into lastmile.sync_batches (run_id, batch) select $1, b from generate_series(0, $2::int - 1) as b`, [input.runId, batches]);
    const figures = await planFigures(client, input.runId, scope, counts.synced);
    const verdicts = await judgeGuardrails(client, spec, input.runId, input.env, figures);
    const held = verdicts.some((v) => v.tripped);
    // nothing to send: the run is done as it is frozen (its rejected NULL keys are in the log)
    const state: SyncRunState = held ? 'held' : batches === 0 ? 'applied' : 'planned';
    await client.query(
      `update lastmile.sync_runs set state = $2, counts = $3, verdicts = $4, batches = $5,
              folded = $6, outcome = $7, finished_at = case when $6 then now() end
        where run_id = $1`,
      [input.runId, state, JSON.stringify(counts), JSON.stringify(verdicts), batches, state === 'applied', state === 'applied' ? JSON.stringify(emptyOutcome(counts.nullKeys)) : null],
    );
    const plan: FrozenPlan = { runId: input.runId, state, mode: spec.mode, destination: input.destination, counts, batches, batchSize: spec.batchSize, verdicts, held };
    if (input.dryRun) {
      const samples = await client.query<{ op: SyncOp; key: string | null; record: unknown }>(
        `select op, key, record from lastmile.sync_ops where run_id = $1 order by seq limit 10`,
        [input.runId],
      );
      await client.query('rollback');
      return { ...plan, samples: samples.rows };
    }
    await client.query('commit');
    return plan;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function emptyOutcome(rejected: number) {
  return { applied: 0, unchanged: 0, rejected, transient: 0, requests: 0, throttled: 0, retries: 0, lookedUp: 0, batches: 0, durationMs: 0 };
}

/** The plan already frozen for `runId`, if any. */
export async function storedPlan(db: pg.Pool | pg.PoolClient, runId: string): Promise<FrozenPlan | undefined> {
  const result = await db.query<{ state: SyncRunState; mode: SyncSpec['mode']; destination: string; counts: PlanCounts; verdicts: GuardrailVerdict[]; batches: number; batch_size: number }>(
    `select state, mode, destination, counts, verdicts, batches, batch_size from lastmile.sync_runs where run_id = $1`,
    [runId],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    runId,
    state: row.state,
    mode: row.mode,
    destination: row.destination,
    counts: row.counts,
    batches: row.batches,
    batchSize: row.batch_size,
    verdicts: row.verdicts,
    held: row.verdicts.some((v) => v.tripped),
  };
}

/**
 * Earlier runs of the target: one still applying makes this one wait (retryable) unless it has been silent so long it
 * is dead (then it is closed `failed` and its acknowledged batches are folded); one still held for a decision is
 * superseded — its plan is older than this one, and applying it later would send stale values.
 */
async function settleEarlierRuns(client: pg.PoolClient, scope: { env: string; product: string; target: string }, runId: string): Promise<void> {
  const applying = await client.query<{ run_id: string; silent_ms: string }>(
    `select run_id, (extract(epoch from now() - coalesce(touched_at, created_at)) * 1000)::bigint as silent_ms
       from lastmile.sync_runs where env = $1 and product = $2 and target = $3 and state in ('applying', 'approved', 'planned') and run_id <> $4`,
    [scope.env, scope.product, scope.target, runId],
  );
  for (const run of applying.rows) {
    if (Number(run.silent_ms) < DEAD_AFTER_MS) {
      throw new SyncError(`run ${run.run_id} of ${scope.product}/${scope.target} in ${scope.env} is still applying its plan; this sync starts when it is done`, { retryable: true });
    }
    await client.query(`update lastmile.sync_runs set state = 'failed', finished_at = now(), outcome = coalesce(outcome, '{}'::jsonb) || '{"error": "no batch acknowledged for 10 minutes: taken as dead"}' where run_id = $1`, [run.run_id]);
  }
  await client.query(
    `update lastmile.sync_runs set state = 'abandoned', finished_at = now(), decision_reason = $5
      where env = $1 and product = $2 and target = $3 and state = 'held' and run_id <> $4`,
    [scope.env, scope.product, scope.target, runId, `superseded by run ${runId}: a newer plan was frozen before a decision`],
  );
}

/** The sync log keeps SYNC_LOG_DAYS days of runs (their operations go with them); the synced state stays. */
async function pruneLog(client: pg.PoolClient, scope: { env: string; product: string; target: string }): Promise<void> {
  await client.query(
    `delete from lastmile.sync_runs
      where env = $1 and product = $2 and target = $3 and (folded or state in ('rejected', 'abandoned'))
        and created_at < now() - make_interval(days => $4)`,
    [scope.env, scope.product, scope.target, SYNC_LOG_DAYS],
  );
}

/**
 * The sync log as the CLI reads it (`lastmile syncs`, `approve`, `reject`): the runs of a product's reverse ETL
 * targets from `lastmile.sync_runs`, their operations from `lastmile.sync_ops`, and a run's state in words.
 */
import type pg from 'pg';
import type { Product } from '../../product/model.js';
import type { PlanCounts, SyncRunState } from '../../reverse-etl/freeze.js';
import type { GuardrailVerdict } from '../../reverse-etl/guardrails.js';
import type { SyncOutcome } from '../../reverse-etl/apply.js';
import { UsageError } from '../exit-codes.js';
import { utc } from './read-store.js';

/** A run id may be given by a prefix this long or longer (when only one run starts with it). */
export const RUN_PREFIX_MIN = 8;

/** One row of `lastmile.sync_runs`. */
export interface SyncRunRecord {
  runId: string;
  env: string;
  product: string;
  target: string;
  workflowId: string | null;
  mode: string;
  destination: string;
  state: SyncRunState;
  counts: Partial<PlanCounts>;
  verdicts: GuardrailVerdict[];
  batches: number;
  outcome: (Partial<SyncOutcome> & { error?: string }) | null;
  decidedBy: string | null;
  decisionReason: string | null;
  decidedAt: Date | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** One operation of a run: the sync log's line. */
export interface SyncOpRecord {
  seq: number;
  batch: number;
  key: string | null;
  op: 'insert' | 'update' | 'upsert' | 'delete';
  status: 'pending' | 'applied' | 'unchanged' | 'rejected' | 'transient';
  reason: string | null;
  attempt: number;
  finishedAt: Date | null;
}

interface SyncRunRow {
  run_id: string;
  env: string;
  product: string;
  target: string;
  workflow_id: string | null;
  mode: string;
  destination: string;
  state: SyncRunState;
  counts: Partial<PlanCounts> | null;
  verdicts: GuardrailVerdict[] | null;
  batches: number;
  outcome: SyncRunRecord['outcome'];
  decided_by: string | null;
  decision_reason: string | null;
  decided_at: Date | null;
  created_at: Date;
  finished_at: Date | null;
}

const RUN_COLUMNS = `run_id, env, product, target, workflow_id, mode, destination, state, counts, verdicts, batches, outcome,
  decided_by, decision_reason, decided_at, created_at, finished_at`;

function toRecord(row: SyncRunRow): SyncRunRecord {
  return {
    runId: row.run_id,
    env: row.env,
    product: row.product,
    target: row.target,
    workflowId: row.workflow_id,
    mode: row.mode,
    destination: row.destination,
    state: row.state,
    counts: row.counts ?? {},
    verdicts: row.verdicts ?? [],
    batches: row.batches,
    outcome: row.outcome,
    decidedBy: row.decided_by,
    decisionReason: row.decision_reason,
    decidedAt: row.decided_at,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

/** The latest sync runs of a product (of one target) in an environment, newest first. */
export async function listSyncRuns(pool: pg.Pool, where: { env: string; product: string; target?: string; limit: number }): Promise<SyncRunRecord[]> {
  const result = await pool.query<SyncRunRow>(
    `select ${RUN_COLUMNS} from lastmile.sync_runs
      where env = $1 and product = $2 and ($3::text is null or target = $3)
      order by created_at desc, run_id desc limit $4`,
    [where.env, where.product, where.target ?? null, where.limit],
  );
  return result.rows.map(toRecord);
}

/**
 * The sync runs (any environment, any product) whose run id is `id` — or, when none is and `id` has at least
 * RUN_PREFIX_MIN characters, whose run id starts with it. Several rows when the prefix is ambiguous (or a run
 * synced several targets).
 */
export async function findSyncRuns(pool: pg.Pool, id: string): Promise<SyncRunRecord[]> {
  const exact = await pool.query<SyncRunRow>(`select ${RUN_COLUMNS} from lastmile.sync_runs where run_id = $1 order by target`, [id]);
  if (exact.rows.length > 0 || id.length < RUN_PREFIX_MIN) return exact.rows.map(toRecord);
  const prefixed = await pool.query<SyncRunRow>(
    `select ${RUN_COLUMNS} from lastmile.sync_runs where left(run_id, length($1)) = $1 order by created_at desc, target limit 20`,
    [id],
  );
  return prefixed.rows.map(toRecord);
}

/** The operations of a run (only the rejected and transient ones with `failed`), in plan order, and their totals. */
export async function syncOps(
  pool: pg.Pool,
  runId: string,
  options: { failed: boolean; limit: number },
): Promise<{ total: number; matching: number; byStatus: Record<string, number>; rows: SyncOpRecord[] }> {
  const counts = await pool.query<{ status: string; n: string }>(`select status, count(*) as n from lastmile.sync_ops where run_id = $1 group by status order by status`, [runId]);
  const byStatus = Object.fromEntries(counts.rows.map((r) => [r.status, Number(r.n)]));
  const total = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
  const matching = options.failed ? (byStatus.rejected ?? 0) + (byStatus.transient ?? 0) : total;
  const rows = await pool.query<{ seq: number; batch: number; key: string | null; op: SyncOpRecord['op']; status: SyncOpRecord['status']; reason: string | null; attempt: number; finished_at: Date | null }>(
    `select seq, batch, key, op, status, reason, attempt, finished_at from lastmile.sync_ops
      where run_id = $1 and (not $2 or status in ('rejected', 'transient')) order by seq limit $3`,
    [runId, options.failed, options.limit],
  );
  return {
    total,
    matching,
    byStatus,
    rows: rows.rows.map((r) => ({ seq: r.seq, batch: r.batch, key: r.key, op: r.op, status: r.status, reason: r.reason, attempt: r.attempt, finishedAt: r.finished_at })),
  };
}

/** The reverse ETL targets of a product, or a `UsageError` naming its targets when it has none. */
export function reverseEtlTargets(product: Product): string[] {
  const names = product.serve.filter((t) => t.kind === 'reverseEtl').map((t) => t.name);
  if (names.length === 0) {
    const targets = product.serve.map((t) => `${t.name} (${t.kind})`).join(', ') || 'none';
    throw new UsageError(`product ${product.name} has no reverse ETL targets, so it has no sync log; its targets are ${targets}`);
  }
  return names;
}

/** `2 upsert, 1 delete (48 unchanged)`: what the frozen plan meant to send. */
export function plannedText(counts: Partial<PlanCounts>): string {
  const ops = (['insert', 'update', 'upsert', 'delete'] as const).filter((op) => (counts[op] ?? 0) > 0).map((op) => `${counts[op]} ${op}`);
  const extra = [(counts.unchanged ?? 0) > 0 && `${counts.unchanged} unchanged`, (counts.nullKeys ?? 0) > 0 && `${counts.nullKeys} null keys`].filter(Boolean);
  return `${ops.join(', ') || 'nothing to send'}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
}

/** The guardrails that tripped, each message once. */
export function trippedVerdicts(run: Pick<SyncRunRecord, 'verdicts'>): GuardrailVerdict[] {
  return run.verdicts.filter((v) => v.tripped);
}

/** What became of a sync run, in a sentence fragment: `applied at 2026-… UTC, approved by ada after its guardrails held it`. */
export function stateStory(run: SyncRunRecord): string {
  const by = run.decidedBy ? ` by ${run.decidedBy}` : '';
  const when = (date: Date | null): string => (date ? ` at ${utc(date)} UTC` : '');
  const reason = run.decisionReason ? ` (${run.decisionReason})` : '';
  switch (run.state) {
    case 'held':
      return `held since ${utc(run.createdAt)} UTC for a decision: ${trippedVerdicts(run).map((v) => v.message).join('; ') || 'a guardrail tripped'}`;
    case 'planned':
      return `planned${when(run.createdAt)}: its guardrails passed, so it needed no decision`;
    case 'approved':
    case 'applying':
      return `${run.state === 'approved' ? 'approved' : 'applying its plan'}${run.decidedAt ? `, approved${by}${when(run.decidedAt)}${reason}` : ''}`;
    case 'applied':
      return `applied${when(run.finishedAt)}${run.decidedAt ? `, approved${by}${when(run.decidedAt)}${reason} after its guardrails held it` : ' — its guardrails passed, so it needed no decision'}`;
    case 'rejected':
      return `rejected${by}${when(run.decidedAt)}${reason}: nothing was sent`;
    case 'abandoned':
      return `abandoned${when(run.finishedAt ?? run.decidedAt)}: ${run.decisionReason ?? 'no decision came within its approval timeout'}; nothing was sent`;
    case 'failed':
      return `failed${when(run.finishedAt)}${run.outcome?.error ? `: ${run.outcome.error}` : ''}`;
  }
}

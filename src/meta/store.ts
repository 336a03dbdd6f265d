/**
 * The typed API over the `lastmile` metadata schema. Every statement is parameterised. Writes are idempotent where
 * activities may run twice: starting a run that exists does nothing, finishing it again with the same status does
 * nothing, target / check / per-run SLI records are upserts, and a deployment identical to the latest is not
 * recorded again.
 */
import type pg from 'pg';
import { deploymentMethods, type DeploymentLedger } from './deployments.js';
import { clampLimit } from './limit.js';
import { migrate, type MigrateOptions, type MigrateResult } from './migrate.js';
import type {
  CheckResultInput,
  CheckResultRecord,
  CheckSeverity,
  CheckStatus,
  FinishRunInput,
  JsonValue,
  ListRunsQuery,
  RunRecord,
  RunStatus,
  RunTrigger,
  SliInput,
  SliRecord,
  StartRunInput,
  TargetRunInput,
  TargetRunRecord,
  TargetStatus,
} from './types.js';

export * from './types.js';

export interface MetaStore extends DeploymentLedger {
  /** Applies pending migrations of the `lastmile` schema (safe to call concurrently). */
  migrate(options?: MigrateOptions): Promise<MigrateResult>;
  /** Records a run as running. With an existing `runId` (a retried activity) nothing changes: `created` is false. */
  startRun(input: StartRunInput): Promise<{ created: boolean; run: RunRecord }>;
  /** Records how a run ended. Repeating it with the status already recorded changes nothing (`updated` false). */
  finishRun(input: FinishRunInput): Promise<{ updated: boolean; run: RunRecord }>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Runs newest first, optionally filtered. */
  listRuns(query?: ListRunsQuery): Promise<RunRecord[]>;
  /** The latest run of each product in `env`, ordered by product. */
  latestRuns(env: string): Promise<RunRecord[]>;
  /** Upserts the state of one target of a run (call it when the target starts and again when it ends). */
  recordTarget(input: TargetRunInput): Promise<TargetRunRecord>;
  listTargets(runId: string): Promise<TargetRunRecord[]>;
  /** Upserts the outcome of a run's checks (by check name). */
  recordChecks(runId: string, results: readonly CheckResultInput[]): Promise<CheckResultRecord[]>;
  listChecks(runId: string): Promise<CheckResultRecord[]>;
  /** Records one SLI measurement; with `runId`, at most one per run and SLI (a repeat updates it). */
  recordSli(input: SliInput): Promise<SliRecord>;
  /** Measurements of a product in an env, newest first. */
  listSli(query: { product: string; env: string; sli?: string; since?: Date; limit?: number }): Promise<SliRecord[]>;
}

interface RunRow {
  run_id: string;
  product: string;
  env: string;
  product_version: string | null;
  git_sha: string | null;
  status: RunStatus;
  trigger: RunTrigger;
  workflow_id: string | null;
  started_at: Date;
  finished_at: Date | null;
  rows: string | null;
  defect_rate: number | null;
  reasons: string[];
  checks: JsonValue | null;
  error: string | null;
}

interface TargetRow {
  run_id: string;
  target: string;
  kind: string;
  status: TargetStatus;
  started_at: Date;
  finished_at: Date | null;
  rows: string | null;
  bytes: string | null;
  detail: JsonValue | null;
  error: string | null;
}

interface CheckRow {
  run_id: string;
  check_name: string;
  kind: string;
  severity: CheckSeverity;
  status: CheckStatus;
  failing: string;
  sample: JsonValue | null;
  sql: string | null;
  recorded_at: Date;
}

interface SliRow {
  measurement_id: string;
  product: string;
  env: string;
  run_id: string | null;
  sli: string;
  value: number;
  good: boolean;
  measured_at: Date;
  detail: JsonValue | null;
}


const RUN_COLUMNS = `run_id, product, env, product_version, git_sha, status, trigger, workflow_id, started_at, finished_at,
  rows, defect_rate, checks, reasons, error`;
const TARGET_COLUMNS = `run_id, target, kind, status, started_at, finished_at, rows, bytes, detail, error`;
const CHECK_COLUMNS = `run_id, check_name, kind, severity, status, failing, sample, sql, recorded_at`;
const SLI_COLUMNS = `measurement_id, product, env, run_id, sli, value, good, measured_at, detail`;

const num = (value: string | null): number | null => (value === null ? null : Number(value));
const json = (value: JsonValue | undefined): string | null => (value === undefined ? null : JSON.stringify(value));

function toRun(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    product: row.product,
    env: row.env,
    productVersion: row.product_version,
    gitSha: row.git_sha,
    status: row.status,
    trigger: row.trigger,
    workflowId: row.workflow_id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    rows: num(row.rows),
    defectRate: row.defect_rate,
    reasons: row.reasons,
    checks: row.checks,
    error: row.error,
  };
}

function toTarget(row: TargetRow): TargetRunRecord {
  return {
    runId: row.run_id,
    target: row.target,
    kind: row.kind,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    rows: num(row.rows),
    bytes: num(row.bytes),
    detail: row.detail,
    error: row.error,
  };
}

function toCheck(row: CheckRow): CheckResultRecord {
  return {
    runId: row.run_id,
    checkName: row.check_name,
    kind: row.kind,
    severity: row.severity,
    status: row.status,
    failing: Number(row.failing),
    sample: row.sample,
    sql: row.sql,
    recordedAt: row.recorded_at,
  };
}

function toSli(row: SliRow): SliRecord {
  return {
    measurementId: Number(row.measurement_id),
    product: row.product,
    env: row.env,
    runId: row.run_id,
    sli: row.sli,
    value: row.value,
    good: row.good,
    measuredAt: row.measured_at,
    detail: row.detail,
  };
}


function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23503';
}

function unknownRun(runId: string, what: string): Error {
  return new Error(`Cannot record ${what} for run "${runId}": no such run in lastmile.runs. Call startRun first.`);
}

/** Creates the store over a pool of the metadata database. Call `migrate()` once before use. */
export function createMetaStore(pool: pg.Pool): MetaStore {
  async function getRun(runId: string): Promise<RunRecord | undefined> {
    const result = await pool.query<RunRow>(`select ${RUN_COLUMNS} from lastmile.runs where run_id = $1`, [runId]);
    const row = result.rows[0];
    return row ? toRun(row) : undefined;
  }


  return {
    migrate: (options) => migrate(pool, options),

    async startRun(input) {
      const inserted = await pool.query<RunRow>(
        `insert into lastmile.runs (run_id, product, env, product_version, git_sha, status, trigger, workflow_id, started_at)
         values ($1, $2, $3, $4, $5, 'running', $6, $7, coalesce($8::timestamptz, now()))
         on conflict (run_id) do nothing
         returning ${RUN_COLUMNS}`,
        [input.runId, input.product, input.env, input.productVersion ?? null, input.gitSha ?? null, input.trigger, input.workflowId ?? null, input.startedAt ?? null],
      );
      const row = inserted.rows[0];
      if (row) return { created: true, run: toRun(row) };
      const existing = await getRun(input.runId);
      if (!existing) throw new Error(`Run "${input.runId}" was neither created nor found; retry.`);
      if (existing.product !== input.product || existing.env !== input.env) {
        throw new Error(
          `Run id "${input.runId}" already belongs to product ${existing.product} in env ${existing.env}, not ` +
            `${input.product} in ${input.env}. Run ids must be unique; derive them from the workflow id.`,
        );
      }
      return { created: false, run: existing };
    },

    async finishRun(input) {
      const updated = await pool.query<RunRow>(
        `update lastmile.runs
            set status = $2, finished_at = greatest(coalesce($3::timestamptz, now()), started_at),
                rows = $4, defect_rate = $5, checks = $6::jsonb, error = $7, reasons = $8::text[]
          where run_id = $1 and status <> $2
          returning ${RUN_COLUMNS}`,
        [input.runId, input.status, input.finishedAt ?? null, input.rows ?? null, input.defectRate ?? null, json(input.checks), input.error ?? null, input.reasons ?? []],
      );
      const row = updated.rows[0];
      if (row) return { updated: true, run: toRun(row) };
      const existing = await getRun(input.runId);
      if (!existing) throw unknownRun(input.runId, 'the end');
      return { updated: false, run: existing };
    },

    getRun,

    async listRuns(query = {}) {
      const result = await pool.query<RunRow>(
        `select ${RUN_COLUMNS} from lastmile.runs
          where ($1::text is null or env = $1) and ($2::text is null or product = $2) and ($3::text is null or status = $3)
            and ($5::text is null or product_version = $5) and (not $6::boolean or status <> 'running')
          order by started_at desc, run_id desc
          limit $4`,
        [query.env ?? null, query.product ?? null, query.status ?? null, clampLimit(query.limit, 50), query.productVersion ?? null, query.finished === true],
      );
      return result.rows.map(toRun);
    },

    async latestRuns(env) {
      const result = await pool.query<RunRow>(
        `select distinct on (product) ${RUN_COLUMNS} from lastmile.runs
          where env = $1
          order by product, started_at desc, run_id desc`,
        [env],
      );
      return result.rows.map(toRun);
    },

    async recordTarget(input) {
      try {
        const result = await pool.query<TargetRow>(
          `insert into lastmile.target_runs as t (run_id, target, kind, status, started_at, finished_at, rows, bytes, detail, error)
           values ($1, $2, $3, $4, coalesce($5::timestamptz, now()),
                   coalesce($6::timestamptz, case when $4 <> 'running' then now() end), $7, $8, $9::jsonb, $10)
           on conflict (run_id, target) do update
              set kind = excluded.kind,
                  status = excluded.status,
                  started_at = case when $5::timestamptz is null then t.started_at else excluded.started_at end,
                  finished_at = case when t.status = excluded.status and t.finished_at is not null and $6::timestamptz is null
                                     then t.finished_at else excluded.finished_at end,
                  rows = excluded.rows, bytes = excluded.bytes, detail = excluded.detail, error = excluded.error
           returning ${TARGET_COLUMNS}`,
          [input.runId, input.target, input.kind, input.status, input.startedAt ?? null, input.finishedAt ?? null,
            input.rows ?? null, input.bytes ?? null, json(input.detail), input.error ?? null],
        );
        const row = result.rows[0];
        if (!row) throw new Error(`Recording target ${input.target} of run ${input.runId} returned no row.`);
        return toTarget(row);
      } catch (error) {
        if (isForeignKeyViolation(error)) throw unknownRun(input.runId, `target ${input.target}`);
        throw error;
      }
    },

    async listTargets(runId) {
      const result = await pool.query<TargetRow>(
        `select ${TARGET_COLUMNS} from lastmile.target_runs where run_id = $1 order by started_at, target`,
        [runId],
      );
      return result.rows.map(toTarget);
    },

    async recordChecks(runId, results) {
      if (results.length === 0) return [];
      const seen = new Set<string>();
      for (const r of results) {
        if (seen.has(r.checkName)) throw new Error(`Check "${r.checkName}" appears twice in the results of run ${runId}; check names must be unique.`);
        seen.add(r.checkName);
      }
      const payload = results.map((r) => ({
        check_name: r.checkName,
        kind: r.kind,
        severity: r.severity,
        status: r.status,
        failing: r.failing ?? 0,
        sample: r.sample ?? null,
        sql: r.sql ?? null,
      }));
      try {
        const result = await pool.query<CheckRow>(
          `insert into lastmile.check_results as c (run_id, check_name, kind, severity, status, failing, sample, sql)
           select $1, r.check_name, r.kind, r.severity, r.status, r.failing, r.sample, r.sql
             from jsonb_to_recordset($2::jsonb)
               as r(check_name text, kind text, severity text, status text, failing bigint, sample jsonb, sql text)
           on conflict (run_id, check_name) do update
              set kind = excluded.kind, severity = excluded.severity, status = excluded.status,
                  failing = excluded.failing, sample = excluded.sample, sql = excluded.sql, recorded_at = now()
           returning ${CHECK_COLUMNS}`,
          [runId, JSON.stringify(payload)],
        );
        const order = new Map(results.map((r, i) => [r.checkName, i]));
        return result.rows.map(toCheck).sort((a, b) => (order.get(a.checkName) ?? 0) - (order.get(b.checkName) ?? 0));
      } catch (error) {
        if (isForeignKeyViolation(error)) throw unknownRun(runId, 'check results');
        throw error;
      }
    },

    async listChecks(runId) {
      const result = await pool.query<CheckRow>(
        `select ${CHECK_COLUMNS} from lastmile.check_results where run_id = $1 order by check_name`,
        [runId],
      );
      return result.rows.map(toCheck);
    },

    async recordSli(input) {
      if (!Number.isFinite(input.value)) throw new RangeError(`SLI ${input.sli} of ${input.product}: value must be a finite number; got ${String(input.value)}.`);
      const params = [input.product, input.env, input.runId ?? null, input.sli, input.value, input.good, input.measuredAt ?? null, json(input.detail)];
      try {
        const result = input.runId
          ? await pool.query<SliRow>(
              `insert into lastmile.sli_measurements (product, env, run_id, sli, value, good, measured_at, detail)
               values ($1, $2, $3, $4, $5, $6, coalesce($7::timestamptz, now()), $8::jsonb)
               on conflict (product, env, sli, run_id) where run_id is not null do update
                  set value = excluded.value, good = excluded.good, measured_at = excluded.measured_at, detail = excluded.detail
               returning ${SLI_COLUMNS}`,
              params,
            )
          : await pool.query<SliRow>(
              `insert into lastmile.sli_measurements (product, env, run_id, sli, value, good, measured_at, detail)
               values ($1, $2, $3, $4, $5, $6, coalesce($7::timestamptz, now()), $8::jsonb)
               returning ${SLI_COLUMNS}`,
              params,
            );
        const row = result.rows[0];
        if (!row) throw new Error(`Recording SLI ${input.sli} of ${input.product} returned no row.`);
        return toSli(row);
      } catch (error) {
        if (isForeignKeyViolation(error) && input.runId) throw unknownRun(input.runId, `SLI ${input.sli}`);
        throw error;
      }
    },

    async listSli(query) {
      const result = await pool.query<SliRow>(
        `select ${SLI_COLUMNS} from lastmile.sli_measurements
          where product = $1 and env = $2 and ($3::text is null or sli = $3) and ($4::timestamptz is null or measured_at >= $4)
          order by measured_at desc, measurement_id desc
          limit $5`,
        [query.product, query.env, query.sli ?? null, query.since ?? null, clampLimit(query.limit, 1000)],
      );
      return result.rows.map(toSli);
    },

    ...deploymentMethods(pool),
  };
}

/** Reading `lastmile.quarantine`: the rows a run set aside because they failed row-level checks. */
import type pg from 'pg';
import type { JsonValue } from './types.js';

/** One source row a run quarantined, with every check it failed. */
export interface QuarantinedRow {
  /** the whole source row, as the run read it */
  row: { [column: string]: JsonValue };
  /** names of the checks it failed, sorted */
  checks: string[];
  quarantinedAt: Date;
}

export interface QuarantinePage {
  runId: string;
  /** distinct rows the run quarantined (`rows` holds at most the limit asked for) */
  total: number;
  rows: QuarantinedRow[];
}

/** The latest run of `product` in `env` that quarantined rows, or undefined when none did. */
export async function latestQuarantineRun(pool: pg.Pool, where: { env: string; product: string }): Promise<string | undefined> {
  const result = await pool.query<{ run_id: string }>(
    `select r.run_id from lastmile.runs r
      where r.env = $1 and r.product = $2
        and exists (select 1 from lastmile.quarantine q where q.run_id = r.run_id and q.product = r.product)
      order by r.started_at desc, r.run_id desc
      limit 1`,
    [where.env, where.product],
  );
  return result.rows[0]?.run_id;
}

/** The rows run `runId` quarantined, each once with the checks it failed, in the order they were set aside. */
export async function listQuarantine(pool: pg.Pool, where: { runId: string; product: string; limit: number }): Promise<QuarantinePage> {
  const result = await pool.query<{ row: { [column: string]: JsonValue }; checks: string[]; quarantined_at: Date; total: string }>(
    `select row, array_agg(distinct check_name order by check_name) as checks, min(quarantined_at) as quarantined_at,
            count(*) over () as total
       from lastmile.quarantine
      where run_id = $1 and product = $2
      group by row
      order by min(quarantine_id)
      limit $3`,
    [where.runId, where.product, where.limit],
  );
  const total = result.rows[0] ? Number(result.rows[0].total) : 0;
  return {
    runId: where.runId,
    total,
    rows: result.rows.map((r) => ({ row: r.row, checks: r.checks, quarantinedAt: r.quarantined_at })),
  };
}

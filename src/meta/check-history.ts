/** Reading check results across runs: which run of a product last recorded any (lastmile.check_results). */
import type pg from 'pg';

/** The latest run of `product` in `env` with recorded check results, or undefined when no run has any. */
export async function latestCheckedRun(pool: pg.Pool, where: { env: string; product: string }): Promise<string | undefined> {
  const result = await pool.query<{ run_id: string }>(
    `select r.run_id from lastmile.runs r
      where r.env = $1 and r.product = $2
        and exists (select 1 from lastmile.check_results c where c.run_id = r.run_id)
      order by r.started_at desc, r.run_id desc
      limit 1`,
    [where.env, where.product],
  );
  return result.rows[0]?.run_id;
}

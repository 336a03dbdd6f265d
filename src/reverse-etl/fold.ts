/**
 * Advancing the synced state (`lastmile.sync_state`) from a run's acknowledged operations — only from those: a row
 * the destination applied records its hash, values and id; a rejected row keeps the values last applied and is marked
 * rejected (with the hash it was rejected at); a delete the destination applied removes the record. Pending and
 * transient rows leave the state as it was, so the next sync sends them again. Runs once per run (`folded`).
 */
import type pg from 'pg';

export async function foldRun(client: pg.PoolClient, runId: string): Promise<boolean> {
  const run = await client.query<{ env: string; product: string; target: string }>(
    `update lastmile.sync_runs set folded = true where run_id = $1 and not folded returning env, product, target, keeps_records`,
    [runId],
  );
  const scope = run.rows[0];
  if (!scope) return false;
  const params = [runId, scope.env, scope.product, scope.target];
  const inserted = await client.query(
    `insert into lastmile.sync_state as s (product, env, target, key, hash, record, remote_id, status, reason, rejected_hash, synced_at, run_id)
     select $3, $2, $4, o.key, o.hash, case when r.keeps_records then o.record end, o.remote_id, 'applied', null, null, coalesce(o.finished_at, now()), o.run_id
       from lastmile.sync_ops o join lastmile.sync_runs r on r.run_id = o.run_id
      where o.run_id = $1 and o.op <> 'delete' and o.status in ('applied', 'unchanged') and o.key is not null
     on conflict (product, env, target, key) do update
        set hash = excluded.hash, record = excluded.record, remote_id = coalesce(excluded.remote_id, s.remote_id),
            status = 'applied', reason = null, rejected_hash = null, synced_at = excluded.synced_at, run_id = excluded.run_id`,
    params,
  );
  const rejected = await client.query(
    `insert into lastmile.sync_state as s (product, env, target, key, hash, record, remote_id, status, reason, rejected_hash, synced_at, run_id)
     select $3, $2, $4, o.key, null, null, null, 'rejected', o.reason, o.hash, coalesce(o.finished_at, now()), o.run_id
       from lastmile.sync_ops o
      where o.run_id = $1 and o.status = 'rejected' and o.key is not null
     on conflict (product, env, target, key) do update
        set status = 'rejected', reason = excluded.reason, rejected_hash = excluded.rejected_hash, run_id = excluded.run_id`,
    params,
  );
  // the keys as one array: looked up through the state's primary key whatever the planner thinks of fresh tables
  const deleted = await client.query(
    `delete from lastmile.sync_state s
      where s.env = $2 and s.product = $3 and s.target = $4
        and s.key = any (array(select o.key from lastmile.sync_ops o where o.run_id = $1 and o.op = 'delete' and o.status in ('applied', 'unchanged')))`,
    params,
  );
  // a state that just grew or shrank by many rows gets fresh statistics, so the next plan's join is planned on them
  if (inserted.rowCount! + rejected.rowCount! + deleted.rowCount! > 1000) await client.query('analyze lastmile.sync_state');
  return true;
}

/** Folds every run of the target that acknowledged batches but was never folded (a run that failed half-way, or died). */
export async function foldUnfolded(client: pg.PoolClient, scope: { env: string; product: string; target: string }): Promise<number> {
  const runs = await client.query<{ run_id: string }>(
    `select run_id from lastmile.sync_runs
      where env = $1 and product = $2 and target = $3 and not folded and state in ('applied', 'failed')
      order by created_at`,
    [scope.env, scope.product, scope.target],
  );
  for (const run of runs.rows) await foldRun(client, run.run_id);
  return runs.rows.length;
}

/**
 * Guardrails, judged on the frozen plan before anything is written: rows out of bounds, too many operations, too
 * large a share of the synced records changed or deleted, a numeric total moving too far from what the destination
 * last received. Each is one SQL aggregate over the plan and the synced state, in the plan's transaction.
 */
import type pg from 'pg';
import type { SyncSpec } from './spec.js';

export interface GuardrailVerdict {
  /** `maxRows`, `values.bid`, `totals.bid`, `maxChangedShare`, `maxDeletedShare` */
  guardrail: string;
  tripped: boolean;
  /** one sentence for people, with the figures */
  message: string;
  observed: number | null;
  limit: number | null;
  /** keys of rows that tripped it (at most 5) */
  samples?: string[];
}

export interface PlanFigures {
  /** operations to send (rows rejected at planning, a NULL key, excluded) */
  operations: number;
  deletes: number;
  /** records the destination acknowledged before this run */
  synced: number;
  /** operations on records the destination already holds (changes and deletes) */
  changesOfSynced: number;
}

const STATE = `lastmile.sync_state`;

/** `synced`: the records the destination acknowledged before this run (the plan counted them already). */
export async function planFigures(client: pg.PoolClient, runId: string, scope: { env: string; product: string; target: string }, synced: number): Promise<PlanFigures> {
  const result = await client.query<{ operations: string; deletes: string; changes: string }>(
    `select count(*) as operations, count(*) filter (where o.op = 'delete') as deletes,
            count(*) filter (where exists (select 1 from ${STATE} s where s.env = $2 and s.product = $3 and s.target = $4 and s.key = o.key and s.hash is not null)) as changes
       from lastmile.sync_ops o where o.run_id = $1 and o.status = 'pending'`,
    [runId, scope.env, scope.product, scope.target],
  );
  const row = result.rows[0]!;
  return { operations: Number(row.operations), deletes: Number(row.deletes), synced, changesOfSynced: Number(row.changes) };
}

const pct = (value: number) => `${(value * 100).toFixed(1).replace(/\.0$/, '')} %`;

export async function judgeGuardrails(client: pg.PoolClient, spec: SyncSpec, runId: string, env: string, figures: PlanFigures): Promise<GuardrailVerdict[]> {
  const verdicts: GuardrailVerdict[] = [];
  const g = spec.guardrails;
  const scope = [env, spec.product, spec.target];

  if (g.maxRows !== undefined) {
    const tripped = figures.operations > g.maxRows;
    verdicts.push({
      guardrail: 'maxRows',
      tripped,
      observed: figures.operations,
      limit: g.maxRows,
      message: `${figures.operations} operations ${tripped ? 'exceed' : 'within'} the limit of ${g.maxRows} per run`,
    });
  }

  for (const bound of g.values) {
    const result = await client.query<{ outside: string; samples: string[] | null }>(
      `select count(*) as outside, (array_agg(o.key order by o.seq))[1:5] as samples
         from lastmile.sync_ops o where o.run_id = $1 and o.status = 'pending' and o.op <> 'delete'
          and (($3::numeric is not null and (o.record ->> $2)::numeric < $3::numeric) or ($4::numeric is not null and (o.record ->> $2)::numeric > $4::numeric))`,
      [runId, bound.field, bound.min ?? null, bound.max ?? null],
    );
    const outside = Number(result.rows[0]!.outside);
    const range = `${bound.min ?? '−∞'} to ${bound.max ?? '∞'}`;
    verdicts.push({
      guardrail: `values.${bound.column}`,
      tripped: outside > 0,
      observed: outside,
      limit: 0,
      message: outside > 0 ? `${outside} rows have ${bound.column} outside ${range}` : `every ${bound.column} sent is within ${range}`,
      ...(outside > 0 && { samples: result.rows[0]!.samples ?? [] }),
    });
  }

  const share = (name: 'maxChangedShare' | 'maxDeletedShare', count: number, limit: number | undefined, what: string) => {
    if (limit === undefined) return;
    if (figures.synced === 0) {
      verdicts.push({ guardrail: name, tripped: false, observed: null, limit, message: `nothing synced yet: the share of records ${what} is judged from the next sync on` });
      return;
    }
    const observed = count / figures.synced;
    const tripped = observed > limit;
    verdicts.push({
      guardrail: name,
      tripped,
      observed,
      limit,
      message: `${count} of ${figures.synced} synced records ${what} (${pct(observed)}; ${tripped ? 'above' : 'within'} the limit of ${pct(limit)})`,
    });
  };
  share('maxChangedShare', figures.changesOfSynced, g.maxChangedShare, 'would change or be deleted');
  share('maxDeletedShare', figures.deletes, g.maxDeletedShare, 'would be deleted');

  for (const total of g.totals) {
    const result = await client.query<{ before: string | null; delta: string | null }>(
      `select
         (select sum((s.record ->> $5)::numeric) from ${STATE} s where s.env = $2 and s.product = $3 and s.target = $4 and s.hash is not null) as before,
         (select sum(case when o.op = 'delete' then -coalesce((s.record ->> $5)::numeric, 0)
                          else coalesce((o.record ->> $5)::numeric, 0) - coalesce((s.record ->> $5)::numeric, 0) end)
            from lastmile.sync_ops o
            left join ${STATE} s on s.env = $2 and s.product = $3 and s.target = $4 and s.key = o.key and s.hash is not null
           where o.run_id = $1 and o.status = 'pending') as delta`,
      [runId, ...scope, total.field],
    );
    const before = Number(result.rows[0]!.before ?? 0);
    const after = before + Number(result.rows[0]!.delta ?? 0);
    if (figures.synced === 0 || before === 0) {
      verdicts.push({ guardrail: `totals.${total.column}`, tripped: false, observed: null, limit: total.maxIncrease ?? total.maxDecrease ?? null, message: `no synced total of ${total.column} to compare with yet (it will be ${round(after)})` });
      continue;
    }
    const change = (after - before) / Math.abs(before);
    const up = total.maxIncrease !== undefined && change > total.maxIncrease;
    const down = total.maxDecrease !== undefined && -change > total.maxDecrease;
    const limit = change >= 0 ? (total.maxIncrease ?? null) : (total.maxDecrease ?? null);
    verdicts.push({
      guardrail: `totals.${total.column}`,
      tripped: up || down,
      observed: change,
      limit,
      message: `the total of ${total.column} would go from ${round(before)} to ${round(after)} (${change >= 0 ? '+' : '−'}${pct(Math.abs(change))}${limit !== null ? `; limit ${change >= 0 ? '+' : '−'}${pct(limit)}` : ''})`,
    });
  }
  return verdicts;
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

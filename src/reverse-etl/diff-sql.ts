/**
 * Change detection in the warehouse: one `INSERT … SELECT` compares the served query's rows (key, mapped values and
 * their hash) with the state the destination acknowledged, and writes only what must be sent into the run's frozen
 * plan (`lastmile.sync_ops`). Unchanged rows never leave the database.
 */
import type { CompiledQuery } from '../checks/index.js';
import { quoteIdent, quoteLiteral } from '../warehouse/quote.js';
import type { SyncSpec } from './spec.js';

/** jsonb_build_object takes at most 100 arguments: 50 fields per call, joined with `||`. */
const FIELDS_PER_CALL = 50;

/** The mapped values of a row of `q` as one jsonb object (without NULLs when the target skips them). */
export function recordSql(spec: Pick<SyncSpec, 'fields' | 'nulls'>, alias = 'q'): string {
  const parts: string[] = [];
  for (let i = 0; i < spec.fields.length; i += FIELDS_PER_CALL) {
    const pairs = spec.fields.slice(i, i + FIELDS_PER_CALL).map((f) => `${quoteLiteral(f.field)}, ${alias}.${quoteIdent(f.column)}`);
    parts.push(`jsonb_build_object(${pairs.join(', ')})`);
  }
  const record = parts.join(' || ');
  return spec.nulls === 'skip' ? `jsonb_strip_nulls(${record})` : record;
}

/** The key of a row of `q` as text: the value for one column, a JSON array for several; NULL when any part is NULL. */
export function keySql(spec: Pick<SyncSpec, 'keyColumns'>, alias = 'q'): string {
  const cols = spec.keyColumns.map((c) => `${alias}.${quoteIdent(c)}`);
  if (cols.length === 1) return `(to_jsonb(${cols[0]}) #>> '{}')`;
  return `case when ${cols.map((c) => `${c} is null`).join(' or ')} then null else jsonb_build_array(${cols.join(', ')})::text end`;
}

/**
 * The statement freezing a run's plan. Parameters after the served query's own: run id, env, product, target, batch
 * size. Each operation, by mode: a new record is inserted / updated / upserted; a changed one (or one rejected last
 * time, unless `retryRejected: 'on-change'` and it did not change) is updated or upserted — never by `insert`; a
 * record lastmile synced that left the result is deleted by `mirror` only.
 */
export function freezeStatement(spec: SyncSpec, query: CompiledQuery): CompiledQuery {
  const n = query.values.length;
  const p = (i: number) => `$${n + i}`;
  const asNew = spec.mode === 'insert' ? `'insert'` : spec.mode === 'update' ? `'update'` : `'upsert'`;
  const asChanged = spec.mode === 'insert' ? 'null' : spec.mode === 'update' ? `'update'` : `'upsert'`;
  const stillRejected = spec.retryRejected === 'on-change' ? `s.status = 'rejected' and s.rejected_hash = c.hash` : 'false';
  const op = `case
      when c.present and s.key is null then ${asNew}
      when c.present and s.status = 'applied' and s.hash = c.hash then null
      when c.present and ${stillRejected} then null
      when c.present and s.hash is null then ${asNew}
      when c.present then ${asChanged}
      when ${spec.mode === 'mirror' ? 's.hash is not null' : 'false'} then 'delete'
    end`;
  const text = `
    insert into lastmile.sync_ops (run_id, seq, batch, key, op, record, hash, remote_id, status, reason)
    select ${p(1)}, d.n, ((d.n - 1) / ${p(5)})::int, d.key, d.op, d.record, d.hash, d.remote_id,
           case when d.key is null then 'rejected' else 'pending' end,
           case when d.key is null then 'the key is null, so the destination could not identify the record' end
    from (
      select row_number() over (order by j.key nulls last) as n, j.*
      from (
        select coalesce(c.key, s.key) as key, ${op} as op, coalesce(c.record, s.record) as record, c.hash, s.remote_id
        from (
          select r.key, r.record, md5(r.record::text) as hash, true as present
          -- offset 0 keeps this subquery whole: each record is built once, not again inside its hash
          from (select ${keySql(spec)} as key, ${recordSql(spec)} as record from (${query.text}) as q offset 0) as r
        ) as c
        full join (
          select key, hash, record, remote_id, status, rejected_hash
          from lastmile.sync_state where env = ${p(2)} and product = ${p(3)} and target = ${p(4)}
        ) as s on s.key = c.key
      ) as j
      where j.op is not null
    ) as d`;
  return { text, values: [...query.values] };
}

/** How many rows the served query returns, in the same snapshot as the plan. */
export function countStatement(query: CompiledQuery): CompiledQuery {
  return { text: `select count(*)::bigint as rows from (${query.text}) as q`, values: [...query.values] };
}

/**
 * Change detection in the warehouse: one `INSERT … SELECT` compares the served query's rows (key, mapped values and
 * their hash) with the state the destination acknowledged, and writes only what must be sent into the run's frozen
 * plan (`lastmile.sync_ops`). Unchanged rows never leave the database.
 */
import { createHash } from 'node:crypto';
import type { CompiledQuery } from '../checks/index.js';
import { quoteIdent, quoteLiteral } from '../warehouse/quote.js';
import type { SyncSpec } from './spec.js';

/** jsonb_build_object takes at most 100 arguments: 50 fields per call, joined with `||`. */
const FIELDS_PER_CALL = 50;

/** The mapped values of a row as one jsonb object (without NULLs when the target skips them); `ref` names a column. */
export function recordSql(spec: Pick<SyncSpec, 'fields' | 'nulls'>, alias = 'q', ref: (column: string) => string = (column) => `${alias}.${quoteIdent(column)}`): string {
  const parts: string[] = [];
  for (let i = 0; i < spec.fields.length; i += FIELDS_PER_CALL) {
    const pairs = spec.fields.slice(i, i + FIELDS_PER_CALL).map((f) => `${quoteLiteral(f.field)}, ${ref(f.column)}`);
    parts.push(`jsonb_build_object(${pairs.join(', ')})`);
  }
  const record = parts.join(' || ');
  return spec.nulls === 'skip' ? `jsonb_strip_nulls(${record})` : record;
}

/** Types whose text is their identity whatever the session: a key of one such column is compared as `::text`. */
const PLAIN_KEY = /^(smallint|integer|bigint|int[248]?|text|varchar(\(\d+\))?|character varying(\(\d+\))?|uuid)$/i;

/** The key of a row of `q` as text: the value for one column, a JSON array for several; NULL when any part is NULL. */
export function keySql(spec: Pick<SyncSpec, 'keyColumns'> & Partial<Pick<SyncSpec, 'types'>>, alias = 'q'): string {
  const cols = spec.keyColumns.map((c) => `${alias}.${quoteIdent(c)}`);
  if (cols.length === 1) return PLAIN_KEY.test(spec.types?.[spec.keyColumns[0]!]?.trim() ?? '') ? `(${cols[0]})::text` : `(to_jsonb(${cols[0]}) #>> '{}')`;
  return `case when ${cols.map((c) => `${c} is null`).join(' or ')} then null else jsonb_build_array(${cols.join(', ')})::text end`;
}

/**
 * What a row's hash covers: the mapped columns' values (in the fields' name order, so the order the mapping lists
 * them in, or the order a stored snapshot of the product gives back, changes nothing), seeded with a fingerprint of
 * the mapping and the NULL rule — so renaming or adding a field, or changing `nulls`, changes every hash and resends
 * what it affects. On PostgreSQL 14 and later it is `hash_record_extended` over the row: each type's own binary hash, no text
 * rendering, 64 bits; a row with a `json` column (which has no hash function), or an older server, hashes the row's
 * text with md5. The jsonb record is only built for the rows that are sent.
 */
export function hashSql(spec: Pick<SyncSpec, 'fields' | 'nulls'> & Partial<Pick<SyncSpec, 'types'>>, alias = 'q', binary = true): string {
  const fields = [...spec.fields].sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
  const fingerprint = createHash('sha256').update(JSON.stringify({ fields: fields.map((f) => [f.field, f.column]), nulls: spec.nulls })).digest();
  const row = `row(${fields.map((f) => `${alias}.${quoteIdent(f.column)}`).join(', ')})`;
  const hashable = binary && !spec.fields.some((f) => /^json$/i.test(spec.types?.[f.column]?.trim() ?? ''));
  if (hashable) return `hash_record_extended(${row}, ${fingerprint.readBigInt64BE(0).toString()})::text`;
  return `md5(${quoteLiteral(fingerprint.toString('hex').slice(0, 16))} || ${row}::text)`;
}

/**
 * The statement freezing a run's plan. Parameters after the served query's own: run id, env, product, target, batch
 * size. Each operation, by mode: a new record is inserted / updated / upserted; a changed one (or one rejected last
 * time, unless `retryRejected: 'on-change'` and it did not change) is updated or upserted — never by `insert`; a
 * record lastmile synced that left the result is deleted by `mirror` only, carrying the values last synced.
 * The comparison reads only key and hash on both sides; the jsonb record is built for the rows sent, after it.
 */
export function freezeStatement(spec: SyncSpec, query: CompiledQuery, options: { binaryHash?: boolean } = {}): CompiledQuery {
  const n = query.values.length;
  const p = (i: number) => `$${n + i}`;
  const columns = [...new Set(spec.fields.map((f) => f.column))];
  const alias = (column: string) => quoteIdent(`lm_${columns.indexOf(column)}`);
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
  const state = (column: string) => `s2.${column}`;
  const text = `
    insert into lastmile.sync_ops (run_id, seq, batch, key, op, record, hash, remote_id, status, reason)
    select ${p(1)}, d.n, ((d.n - 1) / ${p(5)})::int, d.key, d.op,
           case when d.op = 'delete'
                then (select ${state('record')} from lastmile.sync_state s2 where s2.env = ${p(2)} and s2.product = ${p(3)} and s2.target = ${p(4)} and s2.key = d.key)
                else ${recordSql(spec, 'd', (column) => `d.${alias(column)}`)} end,
           d.hash, d.remote_id,
           case when d.key is null then 'rejected' else 'pending' end,
           case when d.key is null then 'the key is null, so the destination could not identify the record' end
    from (
      select row_number() over (order by j.key nulls last) as n, j.*
      from (
        select coalesce(c.key, s.key) as key, ${op} as op, c.hash, s.remote_id, ${columns.map((column) => `c.${alias(column)}`).join(', ')}
        from (
          select ${keySql(spec)} as key, ${hashSql(spec, 'q', options.binaryHash ?? true)} as hash, true as present, ${columns.map((column) => `q.${quoteIdent(column)} as ${alias(column)}`).join(', ')}
          from (${query.text}) as q
        ) as c
        full join (
          select key, hash, remote_id, status, rejected_hash
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

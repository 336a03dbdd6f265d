/**
 * A PostgreSQL table in an operational database. Each batch is one transaction: the rows are staged with COPY into a
 * temporary table, then applied set-based (`INSERT … ON CONFLICT`, `UPDATE … FROM`, `DELETE … USING`), and the
 * batch's idempotency key is recorded with its outcomes in `<schema>.lastmile_sync_batches` in the same transaction —
 * so a batch sent again (a timeout, a worker that died after the commit) is answered from that record, never applied
 * twice. A batch whose set-based statement fails (a constraint, a bad value) is applied row by row under savepoints,
 * so each bad row is rejected with PostgreSQL's reason and the others still land.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteIdent, quoteQualified } from '../../warehouse/quote.js';
import { SyncError } from '../errors.js';
import type { DestinationAdapter, JsonValue, OutgoingRow, RowOutcome, SendBatch, SyncOp } from './types.js';

export interface PostgresAdapterOptions {
  pool: pg.Pool;
  /** close the pool with the adapter (a destination of its own, not the warehouse's pool) */
  ownsPool: boolean;
  table: { schema: string; name: string };
  /** destination fields (columns) of the key, and every field sent (key fields included) */
  keyFields: readonly string[];
  fields: readonly string[];
  nulls: 'send' | 'skip';
  /** a stand-in: create the schema and the table (these column types, the key as primary key) when missing */
  create?: { types: Readonly<Record<string, string>> };
  /** ops the plan may carry: upserts and inserts need a unique index on the key */
  needsUnique: boolean;
  label: string;
}

/** SQLSTATE classes of a row's own fault: integrity (23) and data (22) — that row is rejected, not the batch. */
const ROW_FAULT = /^2[23]/;
const BOOK = 'lastmile_sync_batches';

export function postgresDestination(options: PostgresAdapterOptions): DestinationAdapter {
  const table = quoteQualified(options.table.schema, options.table.name);
  const book = quoteQualified(options.table.schema, BOOK);
  const shown = `${options.table.schema}.${options.table.name}`;
  let types: Map<string, string> | undefined;

  const fail = (message: string, retryable: boolean) => new SyncError(`${options.label}: ${message}`, { retryable });

  return {
    label: options.label,
    maxBatch: 10_000,

    async prepare() {
      try {
        if (options.create) await createStandIn(options, table, options.create.types);
        types = await columnTypes(options.pool, shown);
      } catch (error) {
        throw asSyncError(error, options.label);
      }
      if (types.size === 0) throw fail(`the table ${shown} does not exist at the destination. Create it with a column per mapped field, or correct destination.table.`, false);
      const missing = options.fields.filter((field) => !types!.has(field));
      if (missing.length > 0) {
        throw fail(`the table ${shown} has no column ${missing.map((m) => JSON.stringify(m)).join(', ')}. Add the column(s) or change the mapping.`, false);
      }
      if (options.needsUnique && !(await hasUniqueKey(options.pool, shown, options.keyFields))) {
        throw fail(
          `the table ${shown} has no primary key or unique index on (${options.keyFields.join(', ')}), which inserts and upserts need to find each record. Add one, e.g. alter table ${shown} add primary key (${options.keyFields.map(quoteIdent).join(', ')}).`,
          false,
        );
      }
      await options.pool
        .query(`create table if not exists ${book} (idempotency_key text primary key, outcomes jsonb not null, applied_at timestamptz not null default now())`)
        .catch((error: unknown) => {
          throw fail(`lastmile could not create its bookkeeping table ${options.table.schema}.${BOOK} (${messageOf(error)}). Create it once: create table ${options.table.schema}.${BOOK} (idempotency_key text primary key, outcomes jsonb not null, applied_at timestamptz not null default now()), and grant insert and select on it.`, false);
        });
    },

    async send(batch: SendBatch): Promise<RowOutcome[]> {
      const columnTypesOf = types;
      if (!columnTypesOf) throw new Error('prepare() the PostgreSQL destination before sending');
      await batch.pace.take(batch.rows.length);
      batch.stats.requests += 1;
      const client = await options.pool.connect().catch((error: unknown) => {
        throw asSyncError(error, options.label);
      });
      try {
        await client.query('begin');
        await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [batch.idempotencyKey]);
        const prior = await client.query<{ outcomes: RowOutcome[] }>(`select outcomes from ${book} where idempotency_key = $1`, [batch.idempotencyKey]);
        if (prior.rows[0]) {
          await client.query('commit');
          return prior.rows[0].outcomes;
        }
        const stage = await stageRows(client, options.fields, batch.rows);
        const statements = applyStatements(options, table, stage, columnTypesOf);
        let outcomes: RowOutcome[];
        await client.query('savepoint whole_batch');
        try {
          outcomes = await applySetBased(client, statements, batch.rows);
        } catch (error) {
          if (!ROW_FAULT.test(sqlState(error))) throw error;
          await client.query('rollback to savepoint whole_batch');
          outcomes = await applyRowByRow(client, statements, batch.rows);
        }
        await client.query(`insert into ${book} (idempotency_key, outcomes) values ($1, $2)`, [batch.idempotencyKey, JSON.stringify(outcomes)]);
        await client.query('commit');
        return outcomes;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw asSyncError(error, options.label);
      } finally {
        client.release();
      }
    },

    async close() {
      if (options.ownsPool) await options.pool.end();
    },
  };
}

/** The stage's name and the ops it holds. */
interface Stage {
  name: string;
}

type Statements = Record<SyncOp, (only: string) => string>;

/** One statement per op, each returning the `seq` of the rows it applied; `only` narrows to one row (`and s.seq = $1`). */
function applyStatements(options: PostgresAdapterOptions, table: string, stage: Stage, types: ReadonlyMap<string, string>): Statements {
  const cast = (field: string) => `s.${quoteIdent(field)}::${types.get(field)}`;
  const cols = options.fields.map(quoteIdent).join(', ');
  const values = options.fields.map(cast).join(', ');
  const keys = options.keyFields.map(quoteIdent).join(', ');
  const match = options.keyFields.map((field) => `t.${quoteIdent(field)} = ${cast(field)}`).join(' and ');
  const others = options.fields.filter((field) => !options.keyFields.includes(field));
  const keep = (field: string, incoming: string) => (options.nulls === 'skip' ? `coalesce(${incoming}, t.${quoteIdent(field)})` : incoming);
  const setFromExcluded = others.map((field) => `${quoteIdent(field)} = ${keep(field, `excluded.${quoteIdent(field)}`)}`).join(', ');
  const setFromStage = others.map((field) => `${quoteIdent(field)} = ${keep(field, cast(field))}`).join(', ');
  const from = (op: SyncOp, only: string) => `from ${stage.name} s where s.op = '${op}'${only}`;
  return {
    insert: (only) => `insert into ${table} (${cols}) select ${values} ${from('insert', only)} returning 0 as seq`,
    upsert: (only) =>
      options.nulls === 'skip' && others.length > 0
        ? // a record without some fields: update what exists first (a NOT NULL column keeps its value), insert the rest
          `with updated as (update ${table} t set ${setFromStage} ${from('upsert', only)} and ${match} returning s.seq),
                inserted as (insert into ${table} as t (${cols}) select ${values} ${from('upsert', only)} and s.seq not in (select seq from updated)
                             on conflict (${keys}) do update set ${setFromExcluded} returning 0 as seq)
           select (select count(*) from updated)::int + (select count(*) from inserted)::int as seq`
        : `with done as (insert into ${table} as t (${cols}) select ${values} ${from('upsert', only)} on conflict (${keys}) do ${others.length > 0 ? `update set ${setFromExcluded}` : 'nothing'} returning 0 as seq) select count(*)::int as seq from done`,
    update: (only) =>
      others.length > 0
        ? `update ${table} t set ${setFromStage} ${from('update', only)} and ${match} returning s.seq`
        : `select s.seq from ${stage.name} s join ${table} t on ${match} where s.op = 'update'${only}`,
    delete: (only) => `delete from ${table} t using ${stage.name} s where s.op = 'delete'${only} and ${match} returning s.seq`,
  };
}

const OPS: readonly SyncOp[] = ['delete', 'update', 'upsert', 'insert'];

async function applySetBased(client: pg.PoolClient, statements: Statements, rows: readonly OutgoingRow[]): Promise<RowOutcome[]> {
  const present = new Set(rows.map((row) => row.op));
  const touched = new Set<number>();
  for (const op of OPS) {
    if (!present.has(op)) continue;
    const result = await client.query<{ seq: number }>(statements[op](''));
    if (op === 'update' || op === 'delete') for (const row of result.rows) touched.add(row.seq);
  }
  return rows.map((row) => outcomeOf(row, touched.has(row.seq)));
}

async function applyRowByRow(client: pg.PoolClient, statements: Statements, rows: readonly OutgoingRow[]): Promise<RowOutcome[]> {
  const outcomes: RowOutcome[] = [];
  for (const row of rows) {
    await client.query('savepoint one_row');
    try {
      const result = await client.query(statements[row.op](` and s.seq = ${Number(row.seq)}`));
      await client.query('release savepoint one_row');
      outcomes.push(outcomeOf(row, (result.rowCount ?? 0) > 0));
    } catch (error) {
      if (!ROW_FAULT.test(sqlState(error))) throw error;
      await client.query('rollback to savepoint one_row');
      outcomes.push({ seq: row.seq, status: 'rejected', reason: rowReason(error) });
    }
  }
  return outcomes;
}

/** An insert or upsert that did not raise is applied; an update finds its record or is rejected; a delete of a missing record is unchanged. */
function outcomeOf(row: OutgoingRow, touched: boolean): RowOutcome {
  if (row.op === 'update' && !touched) return { seq: row.seq, status: 'rejected', reason: 'no record with this key at the destination' };
  if (row.op === 'delete' && !touched) return { seq: row.seq, status: 'unchanged', reason: 'already gone' };
  return { seq: row.seq, status: 'applied' };
}

/** COPYs the rows into a temporary table of text columns, dropped at commit. */
async function stageRows(client: pg.PoolClient, fields: readonly string[], rows: readonly OutgoingRow[]): Promise<Stage> {
  const name = 'lastmile_sync_stage';
  await client.query(`create temporary table ${name} (seq integer, op text, ${fields.map((f) => `${quoteIdent(f)} text`).join(', ')}) on commit drop`);
  // a thousand lines per chunk: one socket write each, not one per row
  const lines = function* () {
    let chunk: string[] = [];
    for (const row of rows) {
      const cells = [String(row.seq), row.op, ...fields.map((field) => copyCell(field in row.key ? row.key[field] : row.record?.[field]))];
      chunk.push(`${cells.join('\t')}\n`);
      if (chunk.length === 1000) {
        yield chunk.join('');
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk.join('');
  };
  await pipeline(Readable.from(lines()), client.query(copyFrom(`copy ${name} (seq, op, ${fields.map(quoteIdent).join(', ')}) from stdin`)));
  return { name };
}

/** A JSON value as one cell of COPY's text format: `\N` for NULL, backslash, tab and line breaks escaped. */
export function copyCell(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '\\N';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (text.includes('\u0000')) throw new SyncError('a value contains a NUL character, which PostgreSQL text cannot hold', { retryable: false });
  return text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

async function columnTypes(pool: pg.Pool, table: string): Promise<Map<string, string>> {
  const result = await pool.query<{ name: string; type: string }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped`,
    [quoteQualifiedText(table)],
  );
  return new Map(result.rows.map((row) => [row.name, row.type]));
}

async function hasUniqueKey(pool: pg.Pool, table: string, keyFields: readonly string[]): Promise<boolean> {
  const result = await pool.query<{ columns: string[] }>(
    `select array(select a.attname from unnest(i.indkey) k join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k)::text[] as columns
       from pg_index i where i.indrelid = to_regclass($1) and i.indisunique and i.indpred is null`,
    [quoteQualifiedText(table)],
  );
  const wanted = [...keyFields].sort().join('\u0000');
  return result.rows.some((row) => [...row.columns].sort().join('\u0000') === wanted);
}

/** `schema.table` as text for `to_regclass`, each part quoted. */
function quoteQualifiedText(table: string): string {
  const dot = table.indexOf('.');
  return quoteQualified(table.slice(0, dot), table.slice(dot + 1));
}

async function createStandIn(options: PostgresAdapterOptions, table: string, types: Readonly<Record<string, string>>): Promise<void> {
  const columns = options.fields.map((field) => `${quoteIdent(field)} ${types[field] ?? 'text'}`);
  await options.pool.query(`create schema if not exists ${quoteIdent(options.table.schema)}`);
  await options.pool.query(
    `create table if not exists ${table} (${columns.join(', ')}, synced_at timestamptz not null default now(), primary key (${options.keyFields.map(quoteIdent).join(', ')}))`,
  );
}

function sqlState(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** PostgreSQL's words for a rejected row: the message, and its detail (which names the offending value). */
function rowReason(error: unknown): string {
  const detail = (error as { detail?: unknown }).detail;
  return `${messageOf(error)}${typeof detail === 'string' ? ` (${detail})` : ''}`.slice(0, 1000);
}

/** Connection trouble and conflicts are retryable; a missing table or privilege is not. */
function asSyncError(error: unknown, label: string): Error {
  if (error instanceof SyncError) return error;
  const state = sqlState(error);
  const retryable = state === '' || /^(08|40|53|57)/.test(state);
  return new SyncError(`${label}: ${messageOf(error)}${state ? ` (SQLSTATE ${state})` : ''}`, { retryable });
}

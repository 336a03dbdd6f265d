/**
 * Reverse ETL: what change detection in the warehouse costs on a large synced table, how a full upsert into a
 * PostgreSQL destination compares with a plain COPY, and whether the HTTP destination reaches its rate limit.
 *
 * Setup: a throwaway embedded Postgres (default settings; the log shows shared_buffers, work_mem and the parallel
 * workers). Each part gets databases of its own so the parts cannot disturb each other's catalog or statistics: a
 * warehouse `<part>_wh` with lastmile's metadata schema migrated (src/meta/migrate.ts), and for the PostgreSQL parts a
 * destination `<part>_dest` on the same server. The source is `bench.accounts`, six columns — `id` bigint (primary
 * key), `name` text (2 % NULL, some non-ASCII), `amount` numeric(12,2) (1 % NULL), `updated_at` timestamptz,
 * `visits` integer, `active` boolean — written by one generator in Node as COPY text (the same text the COPY baseline
 * sends), then VACUUM ANALYZE. Products are built as a product module writes them (`defineProduct` + `reverseEtl`,
 * validated by `toProduct`): the source is `select … from ${table('bench.accounts')}`, every target maps all six
 * columns (key `id`), mode upsert, nulls sent. Specs come from `syncSpec(product, target)`, the served query is
 * `{ text: resolveSource(product), values: [] }`, and the runs go through `freezePlan` and `applyPlan` exactly as the
 * serving activity calls them (env `bench`). The PostgreSQL destination is `postgresDestination` over a pool of its
 * own (max concurrency + 1, as src/reverse-etl/destination.ts opens it) into a table created beforehand with the
 * same column types and the key as primary key. Before every timed step: VACUUM ANALYZE of the tables it reads and a
 * CHECKPOINT (not timed), so autovacuum and checkpoints do not land in one figure and not in another.
 *
 * What is timed (wall clock; each step also logs the CPU Node and the Postgres server spent, which moves far less
 * than wall time when another process competes for the cores, and a profile of every statement it sent by kind —
 * count, client-side time, rows returned to Node — on the warehouse and the destination):
 *   (a) `diff` — target batch size 10,000. First sync of `--rows` rows: `freezePlan` (`diff.first_freeze_ms`) and
 *       `applyPlan` into `diff_dest.crm.accounts` (`diff.first_apply_ms`); the destination must then hold exactly the
 *       source (count and an md5 over every row, checked). Then 1 % of the rows change (`visits + 1` where
 *       id % 100 = 0), VACUUM ANALYZE, CHECKPOINT, and the incremental sync: `freezePlan` alone
 *       (`diff.incremental_ms`) and its `applyPlan` (`diff.incremental_apply_ms`); the destination is checked again.
 *       `diff.rows_read_out` is the size of the incremental plan (rows of lastmile.sync_ops for the run); the bench
 *       also counts the rows the apply step actually fetched from the plan and fails if the two differ. Before the
 *       apply, not timed (`--explain=false` skips it), all rolled back: EXPLAIN (ANALYZE, BUFFERS, VERBOSE) of the
 *       plan's INSERT … SELECT under a throwaway run id, at the server's work_mem and at 256MB, and the time of each
 *       per-row expression of the diff (key, record, md5 of the record) over the served rows on one core.
 *   (b) `postgres` — a plain `COPY … FROM STDIN` of the `--rows` generated rows (the COPY text made beforehand, in
 *       memory) into an empty table like the destination's (`postgres.copy_rows_per_s`); then, for each batch size of
 *       `--batch-sizes` (default 10000,1000), a first sync (everything upserted) into an empty destination table of
 *       its own: `freezePlan` timed apart (`postgres.freeze_ms`) and `applyPlan` (`postgres.sync_rows_per_s`: rows /
 *       apply time, which includes lastmile's bookkeeping and the fold into sync_state), freeze + apply
 *       (`postgres.total_rows_per_s`); each table is checked against the COPY table (count and md5).
 *   (c) `http` — `startSyncServer({ rateLimit: --rps })` (test/support/sync-server.ts: a sliding one-second limit,
 *       429 beyond it), `--http-rows` rows at batch size 100 (so rows/100 requests), the target's
 *       `rateLimit: { requestsPerSecond: --rps }`, concurrency 4, `httpDestination` (POST, bearer token, 30 s
 *       timeout). The apply is timed; the server's records are compared with the source keys afterwards.
 *
 * Results (`--json`, one line each):
 *   diff.first_freeze_ms, diff.first_apply_ms, diff.incremental_ms (baseline 3000, lower is better: ratio =
 *   3000 / value, ≥ 1 means the goal of < 3 s is met), diff.incremental_apply_ms, diff.changed_rows,
 *   diff.rows_read_out (baseline = the changed rows; ratio 1 when equal, smaller/larger otherwise), diff.rows;
 *   postgres.copy_rows_per_s, postgres.sync_rows_per_s, postgres.sync_over_copy (baseline 0.5, ratio = value / 0.5),
 *   postgres.freeze_ms, postgres.total_rows_per_s (batch size 10,000, or the first of --batch-sizes), and for any
 *   other batch size B: postgres.bB.sync_rows_per_s, postgres.bB.sync_over_copy, postgres.bB.freeze_ms,
 *   postgres.bB.total_rows_per_s (no baselines); postgres.rows;
 *   http.requests_per_s (requests the server applied / wall time of the apply), http.of_limit (achieved / --rps,
 *   baseline 0.95), http.lost_rows (source rows missing at the server, baseline 0), http.throttled (429 answers),
 *   http.requests (applied by the server).
 *
 * Flags: --rows=N (default 1,000,000; --quick 100,000), --only=diff,postgres,http (a subset of the parts),
 * --batch-sizes=10000,1000, --pg-concurrency=N (batches in flight into PostgreSQL, default 1: the target default),
 * --rps=N (default 20), --http-rows=N (default 60,000: 600 requests, half a minute at 20/s, so the apply's fixed start and end weigh little), --explain=false, --data-dir=DIR (parent folder of the
 * throwaway cluster), --verbose (server log).
 */
import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { defineProduct, resolveSource, reverseEtl, secret, sql, table, toProduct, type ColumnType, type Product } from '../src/index.js';
import { migrate } from '../src/meta/migrate.js';
import type { ReverseEtlTarget } from '../src/product/targets.js';
import { applyPlan, type SyncOutcome } from '../src/reverse-etl/apply.js';
import { httpDestination } from '../src/reverse-etl/destinations/http.js';
import { postgresDestination } from '../src/reverse-etl/destinations/postgres.js';
import type { DestinationAdapter } from '../src/reverse-etl/destinations/types.js';
import { freezeStatement, keySql, recordSql } from '../src/reverse-etl/diff-sql.js';
import { freezePlan, type FrozenPlan } from '../src/reverse-etl/freeze.js';
import { syncSpec, type SyncSpec } from '../src/reverse-etl/spec.js';
import { startEmbeddedPostgres } from '../src/warehouse/embedded.js';
import { startSyncServer } from '../test/support/sync-server.js';
import { treeCpuMs } from './lib/proc-cpu.js';
import { numberFlag, stringFlag, type BenchOptions, type BenchResult } from './lib/types.js';

export const description = 'reverse ETL: incremental diff of 1M synced rows (1 % changed), PostgreSQL upsert vs COPY, HTTP at its rate limit';

const TARGET_INCREMENTAL_MS = 3000;
const TARGET_SYNC_OVER_COPY = 0.5;
const TARGET_OF_LIMIT = 0.95;
const ENV = 'bench';
const HTTP_BATCH = 100;
const HTTP_CONCURRENCY = 4;

type Log = (line: string) => void;
type Column = 'id' | 'name' | 'amount' | 'updated_at' | 'visits' | 'active';

const COLUMNS: readonly { name: Column; type: ColumnType }[] = [
  { name: 'id', type: 'bigint' },
  { name: 'name', type: 'text' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'updated_at', type: 'timestamptz' },
  { name: 'visits', type: 'integer' },
  { name: 'active', type: 'boolean' },
];
const COLUMN_LIST = COLUMNS.map((c) => c.name).join(', ');
const MAPPING: Record<string, Column> = Object.fromEntries(COLUMNS.map((c) => [c.name, c.name]));

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (value: number): string => `${value >= 100 ? fmt(value) : value.toFixed(1)} ms`;

// ---------------------------------------------------------------------------------------------------------------
// The rows: one generator, as COPY text

const BASE_MS = Date.UTC(2025, 0, 1);

/** Row `i` (1-based) of bench.accounts as one line of COPY's text format. */
function accountLine(i: number): string {
  const name = i % 50 === 0 ? '\\N' : i % 7 === 0 ? `Müller & Söhne ${i}` : `Account ${i}`;
  const cents = (i * 37) % 2_000_000;
  const amount = i % 97 === 0 ? '\\N' : `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  const updated = new Date(BASE_MS + (i % 31_536_000) * 1000 + (i % 1000)).toISOString();
  return `${i}\t${name}\t${amount}\t${updated}\t${i % 1000}\t${i % 3 === 0 ? 'f' : 't'}\n`;
}

/** Rows 1..rows as COPY text, in chunks of 2,000 lines. */
function* copyChunks(rows: number): Generator<string> {
  for (let start = 1; start <= rows; start += 2000) {
    let chunk = '';
    for (let i = start; i < start + 2000 && i <= rows; i++) chunk += accountLine(i);
    yield chunk;
  }
}

const tableDdl = (qualified: string): string =>
  `create table ${qualified} (id bigint primary key, name text, amount numeric(12,2), updated_at timestamptz, visits integer, active boolean)`;

async function copyInto(pool: pg.Pool, qualified: string, chunks: Iterable<string | Buffer>): Promise<void> {
  const client = await pool.connect();
  try {
    await pipeline(Readable.from(chunks), client.query(copyFrom(`copy ${qualified} (${COLUMN_LIST}) from stdin`)));
  } finally {
    client.release();
  }
}

/** bench.accounts with `rows` rows in the warehouse, vacuumed and analyzed. */
async function makeSource(pool: pg.Pool, rows: number, log: Log): Promise<void> {
  const started = performance.now();
  await pool.query('create schema if not exists bench');
  await pool.query(
    'create table bench.accounts (id bigint not null, name text, amount numeric(12,2), updated_at timestamptz, visits integer, active boolean)',
  );
  await copyInto(pool, 'bench.accounts', copyChunks(rows));
  await pool.query('alter table bench.accounts add primary key (id)');
  await pool.query('vacuum (analyze) bench.accounts');
  const size = await pool.query<{ size: string }>(`select pg_size_pretty(pg_table_size('bench.accounts')) as size`);
  log(`source bench.accounts: ${fmt(rows)} rows, ${size.rows[0]!.size}, made in ${ms(performance.now() - started)}`);
}

/** Count and md5 over every row (times in UTC), to compare a destination table with the source. */
async function digest(pool: pg.Pool, qualified: string): Promise<{ n: number; md5: string }> {
  const result = await pool.query<{ n: string; md5: string | null }>(
    `select count(*) as n, md5(string_agg(concat_ws('|', id, coalesce(name, '<null>'), coalesce(amount::text, '<null>'),
            to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), visits, active), E'\\n' order by id)) as md5
       from ${qualified}`,
  );
  return { n: Number(result.rows[0]!.n), md5: result.rows[0]!.md5 ?? '' };
}

async function expectSame(label: string, source: pg.Pool, sourceTable: string, dest: pg.Pool, destTable: string, log: Log): Promise<void> {
  const [a, b] = await Promise.all([digest(source, sourceTable), digest(dest, destTable)]);
  if (a.n !== b.n || a.md5 !== b.md5) {
    throw new Error(`${label}: ${destTable} holds ${fmt(b.n)} rows (md5 ${b.md5}), the source ${sourceTable} ${fmt(a.n)} (md5 ${a.md5})`);
  }
  log(`${label}: ${destTable} holds exactly the source (${fmt(a.n)} rows, md5 ${a.md5.slice(0, 12)}…)`);
}

// ---------------------------------------------------------------------------------------------------------------
// Products, as product modules write them

function accountsProduct(name: string, targets: ReverseEtlTarget<Column>[]): Product {
  const definition = defineProduct({
    name,
    version: '1.0.0',
    owner: { team: 'bench', email: 'bench@example.com' },
    domain: 'bench',
    description: 'Accounts pushed into an operational system, for the reverse ETL benchmark.',
    audience: 'internal',
    users: [{ who: 'account managers', action: 'see each account in the CRM' }],
    source: sql`select id, name, amount, updated_at, visits, active from ${table('bench.accounts')}`,
    contract: { key: ['id'], columns: COLUMNS.map((c) => ({ ...c })) },
    serve: targets,
  });
  return toProduct(definition);
}

function postgresTarget(name: string, destTable: string, batchSize: number, concurrency: number): ReverseEtlTarget<Column> {
  return reverseEtl<Column>({
    name,
    destination: { type: 'postgres', url: secret('BENCH_CRM_URL'), table: destTable },
    key: 'id',
    mapping: MAPPING,
    batchSize,
    concurrency,
  });
}

function pgAdapter(pool: pg.Pool, spec: SyncSpec, schema: string, name: string): DestinationAdapter {
  return postgresDestination({
    pool,
    ownsPool: false,
    table: { schema, name },
    keyFields: spec.keyFields,
    fields: spec.fields.map((f) => f.field),
    nulls: spec.nulls,
    needsUnique: spec.mode !== 'update',
    label: `postgres ${schema}.${name} (bench)`,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Profiling: every statement on the traced pools, per phase; CPU of Node and of the Postgres server

interface Tally {
  n: number;
  ms: number;
  rows: number;
}

const KINDS: [RegExp, string][] = [
  [/^insert into lastmile\.sync_ops/, 'freeze: INSERT … SELECT (the diff)'],
  [/^select count\(\*\)::bigint as rows from/, 'freeze: count of the served rows'],
  [/^analyze lastmile\.sync_ops/, 'freeze: analyze sync_ops'],
  [/^select count\(\*\) as synced from lastmile\.sync_state/, 'freeze: count of the synced state'],
  [/^select op, status, count/, 'freeze: ops by status'],
  [/^select coalesce\(max\(batch\)/, 'freeze: number of batches'],
  [/^insert into lastmile\.sync_batches/, 'freeze: insert batches'],
  [/^select \(select count\(\*\) from lastmile\.sync_ops/, 'freeze: plan figures (guardrails)'],
  [/^insert into lastmile\.sync_runs/, 'freeze: insert run'],
  [/^delete from lastmile\.sync_runs/, 'freeze: prune the log'],
  [/^select seq, key, op, record, remote_id from lastmile\.sync_ops/, 'apply: read a batch of the plan'],
  [/^update lastmile\.sync_ops (o|set status = 'applied')/, 'apply: record the outcomes'],
  [/^update lastmile\.sync_batches/, 'apply: mark a batch sent/acked'],
  [/^update lastmile\.sync_runs set touched_at/, 'apply: touch the run'],
  [/^insert into lastmile\.sync_state .* 'applied', null, null/, 'fold: applied ops into sync_state'],
  [/^insert into lastmile\.sync_state .* 'rejected'/, 'fold: rejected ops into sync_state'],
  [/^delete from lastmile\.sync_state/, 'fold: deletes'],
  [/^analyze lastmile\.sync_state/, 'fold: analyze sync_state'],
  [/^select status, count\(\*\) as n from lastmile\.sync_ops/, 'apply: tally'],
  [/^create temporary table lastmile_sync_stage/, 'dest: create the stage'],
  [/^copy lastmile_sync_stage/, 'dest: COPY into the stage'],
  [/^with done as \(insert into/, 'dest: INSERT … ON CONFLICT'],
  [/^insert into .*lastmile_sync_batches/, 'dest: record the batch outcomes'],
  [/^select outcomes from /, 'dest: look up the idempotency key'],
  [/pg_advisory_xact_lock/, 'advisory lock'],
  [/^(begin|commit|rollback|savepoint|release)/, 'begin/commit/savepoint'],
];

function statementKind(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim().toLowerCase();
  for (const [pattern, kind] of KINDS) if (pattern.test(flat)) return kind;
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

const rowsOf = (result: unknown): number => {
  const rows = (result as { rows?: unknown } | null | undefined)?.rows;
  return Array.isArray(rows) ? rows.length : 0;
};

/** Client-side time, count and rows returned of every statement the traced pools send, by phase and kind. */
class QueryTrace {
  phase: string | undefined;
  private tallies = new Map<string, Map<string, Tally>>();

  attach(pool: pg.Pool, side: string): void {
    pool.on('connect', (client) => this.wrap(client, side));
  }

  private wrap(client: pg.ClientBase, side: string): void {
    type QueryFn = (...args: unknown[]) => unknown;
    const target = client as unknown as { query: QueryFn };
    const original = target.query.bind(client) as QueryFn;
    target.query = (...args: unknown[]): unknown => {
      const phase = this.phase;
      if (phase === undefined) return original(...args);
      const first = args[0];
      const started = performance.now();
      const text = typeof first === 'string' ? first : typeof (first as { text?: unknown } | null)?.text === 'string' ? (first as { text: string }).text : '(query)';
      const add = (rows: number) => this.add(phase, side, text, performance.now() - started, rows);
      if (typeof first === 'object' && first !== null && 'submit' in first) {
        // a COPY stream (or a cursor): timed until it finishes
        const submitted = original(...args) as EventEmitter | undefined;
        submitted?.once?.('finish', () => add(0));
        return submitted;
      }
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        const callback = last as (error: unknown, result: unknown) => void;
        args[args.length - 1] = (error: unknown, result: unknown) => {
          add(rowsOf(result));
          callback(error, result);
        };
        return original(...args);
      }
      return (original(...args) as Promise<unknown>).then(
        (result) => {
          add(rowsOf(result));
          return result;
        },
        (error: unknown) => {
          add(0);
          throw error;
        },
      );
    };
  }

  private add(phase: string, side: string, text: string, took: number, rows: number): void {
    const byKind = this.tallies.get(phase) ?? new Map<string, Tally>();
    this.tallies.set(phase, byKind);
    const kind = `${side}: ${statementKind(text)}`;
    const tally = byKind.get(kind) ?? { n: 0, ms: 0, rows: 0 };
    tally.n += 1;
    tally.ms += took;
    tally.rows += rows;
    byKind.set(kind, tally);
  }

  /** Rows returned to Node in `phase` by statements of this kind (e.g. `warehouse: apply: read a batch of the plan`). */
  rows(phase: string, kind: string): number {
    return this.tallies.get(phase)?.get(kind)?.rows ?? 0;
  }

  log(phase: string, wallMs: number, log: Log, top = 14): void {
    const byKind = [...(this.tallies.get(phase) ?? new Map<string, Tally>()).entries()].sort((a, b) => b[1].ms - a[1].ms);
    const total = byKind.reduce((sum, [, t]) => ({ n: sum.n + t.n, ms: sum.ms + t.ms, rows: sum.rows + t.rows }), { n: 0, ms: 0, rows: 0 });
    log(
      `  ${phase}: ${fmt(total.n)} statements, ${ms(total.ms)} awaited (client side; they overlap with concurrency > 1), ` +
        `${ms(Math.max(0, wallMs - total.ms))} of wall not awaiting a statement (Node work, pace), ${fmt(total.rows)} rows returned to Node`,
    );
    for (const [kind, t] of byKind.slice(0, top)) {
      log(`      ${kind.padEnd(52)} ${fmt(t.n).padStart(6)} × ${(t.ms / t.n).toFixed(2).padStart(9)} ms = ${ms(t.ms).padStart(10)} (${((100 * t.ms) / wallMs).toFixed(1).padStart(5)} % of wall), ${fmt(t.rows)} rows`);
    }
  }
}

interface Timed<T> {
  ms: number;
  value: T;
}

/** Times `fn` as phase `phase` of the trace and logs its wall time, CPU (Node, Postgres) and statement profile. */
async function step<T>(trace: QueryTrace, pgPid: number | undefined, phase: string, log: Log, fn: () => Promise<T>): Promise<Timed<T>> {
  const cpu0 = process.cpuUsage();
  const pg0 = pgPid === undefined ? undefined : treeCpuMs(pgPid);
  trace.phase = phase;
  const started = performance.now();
  let value: T;
  try {
    value = await fn();
  } finally {
    trace.phase = undefined;
  }
  const took = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const pg1 = pgPid === undefined ? undefined : treeCpuMs(pgPid);
  const pgCpu = pg0 !== undefined && pg1 !== undefined ? ` + Postgres ${ms(pg1 - pg0)}` : '';
  log(`${phase}: ${ms(took)} wall; CPU: Node ${ms((cpu.user + cpu.system) / 1000)}${pgCpu}`);
  trace.log(phase, took, log);
  return { ms: took, value };
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The quiet between two steps: fresh statistics, no dead tuples left for autovacuum, a checkpoint done. */
async function settle(pool: pg.Pool, tables: readonly string[]): Promise<void> {
  for (const t of tables) await pool.query(`vacuum (analyze) ${t}`);
  await pool.query('checkpoint');
}

const LASTMILE_TABLES = ['lastmile.sync_state', 'lastmile.sync_ops', 'lastmile.sync_batches', 'lastmile.sync_runs'];

function planLine(plan: FrozenPlan): string {
  const c = plan.counts;
  return `state ${plan.state}, ${fmt(c.rows)} served rows: upsert ${fmt(c.upsert)}, insert ${fmt(c.insert)}, update ${fmt(c.update)}, delete ${fmt(c.delete)}, unchanged ${fmt(c.unchanged)}, null keys ${fmt(c.nullKeys)}, synced before ${fmt(c.synced)}; ${fmt(plan.batches)} batches of ≤ ${fmt(plan.batchSize)}`;
}

function outcomeLine(o: SyncOutcome): string {
  return `applied ${fmt(o.applied)}, unchanged ${fmt(o.unchanged)}, rejected ${fmt(o.rejected)}, transient ${fmt(o.transient)}; ${fmt(o.requests)} requests, ${fmt(o.throttled)} throttled, ${fmt(o.retries)} retries, ${fmt(o.batches)} batches`;
}

async function opsOfRun(pool: pg.Pool, runId: string): Promise<number> {
  return Number((await pool.query<{ n: string }>('select count(*) as n from lastmile.sync_ops where run_id = $1', [runId])).rows[0]!.n);
}

interface Cluster {
  urlFor(database: string): string;
  ensureDatabase(database: string): Promise<void>;
  pid: number | undefined;
}

/** The part's pools, traced from their first connection on. */
async function openPart(
  cluster: Cluster,
  name: string,
  withDest: boolean,
  concurrency: number,
): Promise<{ wh: pg.Pool; dest: pg.Pool | undefined; trace: QueryTrace; close(): Promise<void> }> {
  await cluster.ensureDatabase(`${name}_wh`);
  if (withDest) await cluster.ensureDatabase(`${name}_dest`);
  const trace = new QueryTrace();
  const wh = new pg.Pool({ connectionString: cluster.urlFor(`${name}_wh`), max: 6 });
  wh.on('error', () => undefined);
  trace.attach(wh, 'warehouse');
  const dest = withDest ? new pg.Pool({ connectionString: cluster.urlFor(`${name}_dest`), max: concurrency + 1, application_name: 'lastmile-sync' }) : undefined;
  dest?.on('error', () => undefined);
  if (dest) trace.attach(dest, 'dest');
  await migrate(wh);
  return {
    wh,
    dest,
    trace,
    async close() {
      await wh.end().catch(() => undefined);
      await dest?.end().catch(() => undefined);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// (a) diff

async function diffPart(cluster: Cluster, rows: number, explain: boolean, log: Log): Promise<BenchResult[]> {
  log(`--- diff: ${fmt(rows)} rows, first sync then 1 % changed`);
  const part = await openPart(cluster, 'diff', true, 1);
  const { wh, trace } = part;
  const dest = part.dest!;
  try {
    await makeSource(wh, rows, log);
    await dest.query('create schema crm');
    await dest.query(tableDdl('crm.accounts'));
    const product = accountsProduct('accounts_diff', [postgresTarget('crm', 'crm.accounts', 10_000, 1)]);
    const spec = syncSpec(product, 'crm');
    const query = { text: resolveSource(product, {}), values: [] };
    const adapter = pgAdapter(dest, spec, 'crm', 'accounts');
    const freeze = (runId: string) => freezePlan(wh, spec, { env: ENV, runId, destination: adapter.label, query });

    await settle(wh, ['bench.accounts']);
    const firstFreeze = await step(trace, cluster.pid, 'first freeze', log, () => freeze('diff-1'));
    log(`first plan: ${planLine(firstFreeze.value)}`);
    if (firstFreeze.value.counts.upsert !== rows) throw new Error(`the first plan upserts ${firstFreeze.value.counts.upsert} rows, expected ${rows}`);
    const firstApply = await step(trace, cluster.pid, 'first apply', log, () => applyPlan(wh, spec, 'diff-1', adapter));
    log(`first outcome: ${outcomeLine(firstApply.value)}`);
    if (firstApply.value.applied !== rows) throw new Error(`the first sync applied ${firstApply.value.applied} rows, expected ${rows}`);
    await expectSame('after the first sync', wh, 'bench.accounts', dest, 'crm.accounts', log);

    const changed = (await wh.query('update bench.accounts set visits = visits + 1 where id % 100 = 0')).rowCount ?? 0;
    log(`changed ${fmt(changed)} rows of ${fmt(rows)} (visits + 1 where id % 100 = 0)`);
    const sizes = await wh.query<{ t: string; rows: string; size: string }>(
      `select t, (select count(*) from lastmile.sync_ops)::text as rows, pg_size_pretty(pg_total_relation_size(t::regclass)) as size
         from unnest(array['lastmile.sync_state', 'lastmile.sync_ops']) as t`,
    );
    await settle(wh, ['bench.accounts', ...LASTMILE_TABLES]);
    log(`before the incremental sync: ${sizes.rows.map((r) => `${r.t} ${r.size}`).join(', ')} (sync_ops holds ${fmt(Number(sizes.rows[0]!.rows))} operations of the first run)`);

    const incremental = await step(trace, cluster.pid, 'incremental freeze', log, () => freeze('diff-2'));
    log(`incremental plan: ${planLine(incremental.value)}`);
    const planned = await opsOfRun(wh, 'diff-2');
    if (incremental.value.counts.upsert !== changed || planned !== changed) {
      throw new Error(`the incremental plan holds ${planned} operations (${incremental.value.counts.upsert} upserts), expected the ${changed} changed rows`);
    }
    const freezeRowsToNode = trace.rows('incremental freeze', 'warehouse: freeze: INSERT … SELECT (the diff)');
    log(`the diff statement returned ${fmt(freezeRowsToNode)} rows to Node: the ${fmt(rows - changed)} unchanged rows never left the warehouse`);

    if (explain) {
      // a diagnostic: its failure must not cost the figures
      await explainFreeze(wh, spec, query, log).catch((error: unknown) => log(`the EXPLAIN diagnostic failed: ${error instanceof Error ? error.message : String(error)}`));
    }

    const incApply = await step(trace, cluster.pid, 'incremental apply', log, () => applyPlan(wh, spec, 'diff-2', adapter));
    log(`incremental outcome: ${outcomeLine(incApply.value)}`);
    const fetched = trace.rows('incremental apply', 'warehouse: apply: read a batch of the plan');
    log(`the apply step fetched ${fmt(fetched)} rows of the plan from the warehouse (plan: ${fmt(planned)} operations)`);
    if (fetched !== planned) throw new Error(`the apply step fetched ${fetched} plan rows, the plan holds ${planned}`);
    if (incApply.value.applied !== changed) throw new Error(`the incremental sync applied ${incApply.value.applied} rows, expected ${changed}`);
    await expectSame('after the incremental sync', wh, 'bench.accounts', dest, 'crm.accounts', log);
    log(`incremental freeze ${ms(incremental.ms)} (goal < ${fmt(TARGET_INCREMENTAL_MS)} ms): ${incremental.ms < TARGET_INCREMENTAL_MS ? 'met' : 'MISSED'}`);

    return [
      { metric: 'diff.first_freeze_ms', value: firstFreeze.ms, unit: 'ms' },
      { metric: 'diff.first_apply_ms', value: firstApply.ms, unit: 'ms' },
      { metric: 'diff.incremental_ms', value: incremental.ms, unit: 'ms', baseline: TARGET_INCREMENTAL_MS, better: 'lower' },
      { metric: 'diff.incremental_apply_ms', value: incApply.ms, unit: 'ms' },
      { metric: 'diff.changed_rows', value: changed, unit: 'rows' },
      { metric: 'diff.rows_read_out', value: planned, unit: 'rows', baseline: changed, ratio: planned === changed ? 1 : Math.min(planned, changed) / Math.max(planned, changed) },
      { metric: 'diff.rows', value: rows, unit: 'rows' },
    ];
  } finally {
    await part.close();
  }
}

/**
 * Where the incremental freeze's time goes, all rolled back: EXPLAIN (ANALYZE, BUFFERS, VERBOSE) of the plan's
 * INSERT … SELECT under a throwaway run id at the server's work_mem and again at 256MB (only its summary), then what
 * each per-row expression of the diff costs over the served rows on one core (count(expr) over the served query).
 */
async function explainFreeze(pool: pg.Pool, spec: SyncSpec, query: { text: string; values: unknown[] }, log: Log): Promise<void> {
  const client = await pool.connect();
  const session = async (workMem?: string) => {
    await client.query('begin isolation level repeatable read');
    await client.query(`set local timezone = 'UTC'`);
    await client.query(`set local datestyle = 'ISO, YMD'`);
    if (workMem) await client.query(`set local work_mem = '${workMem}'`);
  };
  try {
    const explainOnce = async (workMem?: string): Promise<string[]> => {
      await session(workMem);
      await client.query(
        `insert into lastmile.sync_runs (run_id, env, product, target, mode, destination, state, counts, verdicts, batches, batch_size)
         values ('explain', $1, $2, $3, $4, 'explain', 'planned', '{}', '[]', 0, $5)`,
        [ENV, spec.product, spec.target, spec.mode, spec.batchSize],
      );
      const statement = freezeStatement(spec, { text: query.text, values: [] });
      const plan = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, verbose, costs off) ${statement.text}`, [
        ...statement.values,
        'explain',
        ENV,
        spec.product,
        spec.target,
        spec.batchSize,
      ]);
      await client.query('rollback');
      return plan.rows.map((r) => r['QUERY PLAN']);
    };
    const workMem = (await client.query<{ w: string }>(`select current_setting('work_mem') as w`)).rows[0]!.w;
    const plain = await explainOnce();
    log(`EXPLAIN (ANALYZE, BUFFERS, VERBOSE) of the incremental diff statement, work_mem ${workMem}:`);
    log(plain.map((line) => `    ${line}`).join('\n'));
    const large = await explainOnce('256MB');
    const summary = (lines: string[]) => lines.filter((line) => /Batches:|temp read|Execution Time/.test(line)).map((line) => line.trim()).join('; ');
    log(`the same at work_mem 256MB: ${summary(large)}`);
    log(`                 at ${workMem}: ${summary(plain)}`);

    await session();
    await client.query('set local max_parallel_workers_per_gather = 0');
    const record = recordSql(spec);
    const probes: [string, string][] = [
      ['scan of the served rows only', 'count(*)'],
      ['+ the key (keySql)', `count(${keySql(spec)})`],
      ['+ the record (recordSql: jsonb_build_object)', `count(${record})`],
      ['+ md5(record::text) (the hash)', `count(md5((${record})::text))`],
      ['  for comparison: md5 of the row as text', 'count(md5(q::text))'],
    ];
    const timesOf: string[] = [];
    for (const [label, expr] of probes) {
      const started = performance.now();
      await client.query(`select ${expr} from (${query.text}) as q`);
      timesOf.push(`    ${label.padEnd(48)} ${ms(performance.now() - started)}`);
    }
    await client.query('rollback');
    log(`per-row expressions of the diff over the served rows (one core, each evaluated once per row):\n${timesOf.join('\n')}`);
  } finally {
    await client.query('rollback').catch(() => undefined);
    client.release();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (b) postgres

async function postgresPart(cluster: Cluster, rows: number, batchSizes: readonly number[], concurrency: number, log: Log): Promise<BenchResult[]> {
  log(`--- postgres: ${fmt(rows)} rows, COPY vs a full upsert at batch sizes ${batchSizes.join(', ')}, concurrency ${concurrency}`);
  const part = await openPart(cluster, 'pg', true, concurrency);
  const { wh, trace } = part;
  const dest = part.dest!;
  try {
    await makeSource(wh, rows, log);
    await dest.query('create schema crm');
    await dest.query(tableDdl('crm.accounts_copy'));
    for (const b of batchSizes) await dest.query(tableDdl(`crm.accounts_b${b}`));

    const chunks = [...copyChunks(rows)].map((chunk) => Buffer.from(chunk));
    const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
    await dest.query('checkpoint');
    const copy = await step(trace, cluster.pid, 'COPY baseline', log, () => copyInto(dest, 'crm.accounts_copy', chunks));
    const copyRate = (rows / copy.ms) * 1000;
    log(`COPY: ${fmt(rows)} rows (${(bytes / 1024 / 1024).toFixed(1)} MB of COPY text) in ${ms(copy.ms)}: ${fmt(copyRate)} rows/s`);
    await expectSame('COPY', wh, 'bench.accounts', dest, 'crm.accounts_copy', log);

    const product = accountsProduct(
      'accounts_pg',
      batchSizes.map((b) => postgresTarget(`crm_b${b}`, `crm.accounts_b${b}`, b, concurrency)),
    );
    const query = { text: resolveSource(product, {}), values: [] };
    const results: BenchResult[] = [];
    for (const [index, b] of batchSizes.entries()) {
      const declared = syncSpec(product, `crm_b${b}`);
      const spec: SyncSpec = { ...declared, batchSize: b };
      const adapter = pgAdapter(dest, spec, 'crm', `accounts_b${b}`);
      await settle(wh, ['bench.accounts', ...LASTMILE_TABLES]);
      const freeze = await step(trace, cluster.pid, `freeze (batch ${fmt(b)})`, log, () =>
        freezePlan(wh, spec, { env: ENV, runId: `pg-b${b}`, destination: adapter.label, query }),
      );
      log(`plan: ${planLine(freeze.value)}`);
      if (freeze.value.counts.upsert !== rows) throw new Error(`the plan upserts ${freeze.value.counts.upsert} rows, expected ${rows}`);
      await wh.query('checkpoint');
      const apply = await step(trace, cluster.pid, `apply (batch ${fmt(b)})`, log, () => applyPlan(wh, spec, `pg-b${b}`, adapter));
      log(`outcome: ${outcomeLine(apply.value)}`);
      if (apply.value.applied !== rows) throw new Error(`the sync applied ${apply.value.applied} rows, expected ${rows}`);
      await expectSame(`sync at batch ${b}`, wh, 'bench.accounts', dest, `crm.accounts_b${b}`, log);
      const syncRate = (rows / apply.ms) * 1000;
      const totalRate = (rows / (freeze.ms + apply.ms)) * 1000;
      log(
        `batch ${fmt(b)}: apply ${fmt(syncRate)} rows/s (${(syncRate / copyRate).toFixed(3)}× COPY; goal ≥ ${TARGET_SYNC_OVER_COPY}×), ` +
          `freeze ${ms(freeze.ms)}, freeze + apply ${fmt(totalRate)} rows/s (${(totalRate / copyRate).toFixed(3)}× COPY)`,
      );
      const prefix = index === 0 ? 'postgres' : `postgres.b${b}`;
      results.push(
        { metric: `${prefix}.sync_rows_per_s`, value: syncRate, unit: 'rows/s' },
        index === 0
          ? { metric: `${prefix}.sync_over_copy`, value: syncRate / copyRate, unit: 'x', baseline: TARGET_SYNC_OVER_COPY }
          : { metric: `${prefix}.sync_over_copy`, value: syncRate / copyRate, unit: 'x' },
        { metric: `${prefix}.freeze_ms`, value: freeze.ms, unit: 'ms' },
        { metric: `${prefix}.total_rows_per_s`, value: totalRate, unit: 'rows/s' },
      );
    }
    return [{ metric: 'postgres.copy_rows_per_s', value: copyRate, unit: 'rows/s' }, ...results, { metric: 'postgres.rows', value: rows, unit: 'rows' }];
  } finally {
    await part.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (c) http

async function httpPart(cluster: Cluster, rows: number, rps: number, log: Log): Promise<BenchResult[]> {
  const requests = Math.ceil(rows / HTTP_BATCH);
  log(`--- http: ${fmt(rows)} rows at batch ${HTTP_BATCH} (${fmt(requests)} requests), ${rps} requests/s, concurrency ${HTTP_CONCURRENCY}`);
  const part = await openPart(cluster, 'http', false, HTTP_CONCURRENCY);
  const { wh, trace } = part;
  const server = await startSyncServer({ rateLimit: rps });
  try {
    await makeSource(wh, rows, log);
    const product = accountsProduct('accounts_http', [
      reverseEtl<Column>({
        name: 'api',
        // declared for production; here the adapter points at the stand-in server, as an environment's mapping would
        destination: { type: 'http', url: 'https://crm.example.com/api/accounts', auth: secret('BENCH_SYNC_TOKEN') },
        key: 'id',
        mapping: MAPPING,
        batchSize: HTTP_BATCH,
        concurrency: HTTP_CONCURRENCY,
        rateLimit: { requestsPerSecond: rps },
      }),
    ]);
    const spec = syncSpec(product, 'api');
    const query = { text: resolveSource(product, {}), values: [] };
    const adapter = httpDestination({ url: server.url, method: 'POST', token: server.token, timeoutMs: 30_000 });
    await settle(wh, ['bench.accounts']);
    const freeze = await step(trace, cluster.pid, 'http freeze', log, () => freezePlan(wh, spec, { env: ENV, runId: 'http-1', destination: adapter.label, query }));
    log(`plan: ${planLine(freeze.value)}`);
    server.resetCounts();
    const apply = await step(trace, cluster.pid, 'http apply', log, () => applyPlan(wh, spec, 'http-1', adapter));
    log(`outcome: ${outcomeLine(apply.value)}`);

    const applied = [...server.applications().values()].reduce((sum, n) => sum + n, 0);
    const throttled = server.counts.byStatus[429] ?? 0;
    const held = new Set(server.records().map((r) => Number(r.key.id)));
    let lost = 0;
    for (let i = 1; i <= rows; i++) if (!held.has(i)) lost += 1;
    const achieved = (applied / apply.ms) * 1000;
    const ideal = ((requests - 1) / rps) * 1000;
    log(
      `server: ${fmt(server.counts.requests)} requests received, ${fmt(applied)} applied, ${fmt(throttled)} answered 429, ${fmt(server.counts.duplicates)} duplicates, ` +
        `at most ${server.counts.maxPerSecond} in a sliding second (${server.maxWithin(950)} within 950 ms); ${fmt(held.size)} records held, ${fmt(lost)} source rows missing`,
    );
    log(
      `apply ${ms(apply.ms)} for ${fmt(applied)} requests: ${achieved.toFixed(2)} requests/s (${(achieved / rps).toFixed(3)} of the limit; ` +
        `the pace alone needs ${ms(ideal)} for ${fmt(requests)} requests at ${rps}/s, the rest: waits after 429s, prepare, bookkeeping, the fold)`,
    );
    return [
      { metric: 'http.requests_per_s', value: achieved, unit: 'requests/s' },
      { metric: 'http.of_limit', value: achieved / rps, unit: 'x', baseline: TARGET_OF_LIMIT },
      { metric: 'http.lost_rows', value: lost, unit: 'rows', baseline: 0, ratio: lost === 0 ? 1 : 0 },
      { metric: 'http.throttled', value: throttled, unit: 'responses' },
      { metric: 'http.requests', value: applied, unit: 'requests' },
    ];
  } finally {
    await server.close();
    await part.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const { log } = options;
  const rows = numberFlag(options, 'rows', options.quick ? 100_000 : 1_000_000);
  const httpRows = numberFlag(options, 'http-rows', 60_000);
  const rps = numberFlag(options, 'rps', 20);
  const concurrency = numberFlag(options, 'pg-concurrency', 1);
  const batchSizes = stringFlag(options, 'batch-sizes', '10000,1000').split(',').map((b) => Number(b.trim()));
  const explain = stringFlag(options, 'explain', 'true') !== 'false';
  const parts = new Set(stringFlag(options, 'only', 'diff,postgres,http').split(',').map((p) => p.trim()));
  for (const [name, value] of [['rows', rows], ['http-rows', httpRows], ['pg-concurrency', concurrency]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive integer`);
  }
  if (rows < 100) throw new Error('--rows takes at least 100 (1 % of them change)');
  if (concurrency > 32) throw new Error('--pg-concurrency takes at most 32');
  if (!(rps > 0)) throw new Error('--rps takes a positive number');
  for (const b of batchSizes) if (!Number.isInteger(b) || b < 1 || b > 10_000) throw new Error('--batch-sizes takes whole numbers from 1 to 10000');
  for (const part of parts) if (!['diff', 'postgres', 'http'].includes(part)) throw new Error(`--only takes diff, postgres and/or http, not ${part}`);

  const dir = await mkdtemp(path.join(stringFlag(options, 'data-dir', os.tmpdir()), 'lastmile-bench-reverse-etl-'));
  let server: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  try {
    server = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      ephemeral: true,
      ...(options.flags.verbose === true && { onLog: (line: string) => log(`  pg: ${line.trim()}`) }),
    });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    const s = (
      await admin.query<Record<string, string>>(
        `select version() as version, current_setting('shared_buffers') as shared_buffers, current_setting('work_mem') as work_mem,
                current_setting('maintenance_work_mem') as maintenance_work_mem, current_setting('max_parallel_workers_per_gather') as parallel_workers,
                current_setting('synchronous_commit') as synchronous_commit, current_setting('max_wal_size') as max_wal_size`,
      )
    ).rows[0]!;
    await admin.end();
    log(
      `postgres: ${s.version!.split(' on ')[0]}; shared_buffers ${s.shared_buffers}, work_mem ${s.work_mem}, maintenance_work_mem ${s.maintenance_work_mem}, ` +
        `parallel workers per gather ${s.parallel_workers}, synchronous_commit ${s.synchronous_commit}, max_wal_size ${s.max_wal_size}`,
    );
    const handle = server;
    const cluster: Cluster = { urlFor: (db) => handle.urlFor(db), ensureDatabase: (db) => handle.ensureDatabase(db), pid: postmasterPid(handle.dataDir) };
    if (cluster.pid === undefined) log('the server pid is unknown: no Postgres CPU figures');

    const results: BenchResult[] = [];
    if (parts.has('diff')) results.push(...(await diffPart(cluster, rows, explain, log)));
    if (parts.has('postgres')) results.push(...(await postgresPart(cluster, rows, batchSizes, concurrency, log)));
    if (parts.has('http')) results.push(...(await httpPart(cluster, httpRows, rps, log)));
    return results;
  } finally {
    await server?.stop().catch((error: unknown) => log(`stopping the throwaway cluster failed: ${String(error)}`));
    await rm(dir, { recursive: true, force: true });
  }
}

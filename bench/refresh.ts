/**
 * Dashboard object refresh: `refreshObject` (src/dashboards/refresh.ts) of an aggregate over a 10-million-row fact
 * table with each strategy — how long a refresh takes, and what readers of the object see while it runs.
 *
 * Setup: an embedded Postgres (default settings) whose cluster is KEPT between runs in
 * `<data-dir>/lastmile-bench-refresh` (default the OS temp folder), so that the fact table, which takes minutes to
 * make, is made once: it is reused when its comment names this generator and the row count asked for and it holds
 * that many rows (`--fresh` starts from an empty cluster, `--clean` removes the cluster after the run).
 * The fact table `bench_refresh.order_lines` holds order lines (≈4 per order) over 52 weeks: product (20,000, each of
 * one supplier), supplier (1,000, skewed: the largest has ≈3 % of the lines, the smallest ≈0.05 %), order date,
 * quantity, unit price, discount, amount, status (≈3 % returned, 1 % cancelled) and channel; a 1,000-row supplier
 * dimension gives names and regions. Made with generate_series and hashint8 (deterministic), then
 * VACUUM (FREEZE, ANALYZE).
 *
 * The object: supplier × week (Monday) of the lines joined to the supplier dimension — lines, units, revenue, returned
 * lines and revenue, average unit price — ≈52,000 groups at 10M rows, unique key (supplier_id, week). One object per
 * strategy (`bench_dash.supplier_weekly_concurrently`, `…_swap`), dropped at the start of a run; the first
 * `refreshObject` creates it (`createMs`). The definition hash stays the same, so `concurrently` refreshes in place
 * (REFRESH MATERIALIZED VIEW CONCURRENTLY) and `swap` builds a new table and renames it in; the bench fails when an
 * outcome is anything else or the object's row count is not the number of groups.
 *
 * Each of `--refreshes` rounds (default 3) runs, for each strategy in turn (so both see the same cache and background
 * load): a change to the source — `--change-pct` (default 1) % of all rows, taken from the last 4 weeks of order dates
 * (late corrections and returns: quantity +1, amount + unit price, some become returned; no line is added or
 * removed, so the number of lines of every group stays what it was), then VACUUM ANALYZE of the source and a
 * CHECKPOINT (neither timed, so autovacuum and checkpoints do not land in a timed refresh); then the baseline — the
 * readers for `--baseline-s` seconds (default 3) with no refresh running; then the timed refresh with the readers
 * running throughout.
 *
 * Readers: `--readers` (default 4) connections of their own, each looping without pause (`--think-ms` adds a pause
 * between queries) over two dashboard queries, taking turns: the top 20 suppliers by revenue over the last 12 weeks
 * (which aggregates ≈12,000 rows of the object) and a lookup of one (supplier, week) by its key. Every query's
 * latency is recorded by the phase it started in; percentiles are nearest-rank over both queries of all readers
 * (`byQuery` splits them). Every result is checked against figures taken from the source before the run and that no
 * change alters: the top-20 query must return min(20, suppliers) rows and report the right number of suppliers and
 * lines in the window, the lookup exactly one row with the group's number of lines. Anything else counts as an
 * incomplete read; a query that fails counts as an error (both must be 0; counted over baseline and refresh phases).
 *
 * Results (`--json`, one line each, per strategy `concurrently.` / `swap.`): `create_ms`, `refresh_ms` (median),
 * `refresh_min_ms`, `readers.p50_ms`, `readers.p95_ms`, `readers.p99_ms`, `readers.max_ms`, `readers.queries`
 * (during the refreshes), `readers.baseline_p95_ms`, `readers.errors` and `readers.incomplete_reads` (baseline 0:
 * any is a miss); then `rows` and `groups`. The same figures as one object (`{bench: 'refresh', machine, date, rows,
 * groups, strategies: {concurrently: {createMs, refreshMs: {median, min, all}, readers: {during, baseline, errors,
 * incompleteReads}}, swap: …}}`) go to stderr as the line `summary: {…}`, and to `--summary=FILE` when given.
 *
 * Flags: --rows=N (default 10,000,000; --quick 1,000,000), --refreshes=N (default 3), --readers=N (default 4),
 * --baseline-s=S (default 3), --change-pct=P (default 1), --think-ms=N (default 0), --data-dir=DIR, --fresh,
 * --clean, --summary=FILE, --verbose (server log).
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { CompiledObject } from '../src/dashboards/objects.js';
import { refreshObject, type RefreshOutcome } from '../src/dashboards/refresh.js';
import { quoteQualified } from '../src/warehouse/quote.js';
import { startEmbeddedPostgres } from '../src/warehouse/embedded.js';
import { percentile } from './lib/stats.js';
import { numberFlag, stringFlag, type BenchOptions, type BenchResult } from './lib/types.js';

export const description = 'refresh of a supplier × week aggregate over a 10M-row table, concurrently vs swap: refresh time, reader latency during it';

/** Bumped whenever the generated table changes, so an older table is made again rather than reused. */
const GENERATOR = 'lastmile bench refresh order_lines v1';
const SOURCE_SCHEMA = 'bench_refresh';
const SOURCE = `${SOURCE_SCHEMA}.order_lines`;
const SUPPLIERS_TABLE = `${SOURCE_SCHEMA}.suppliers`;
const DASH_SCHEMA = 'bench_dash';
const OWNER = 'bench refresh';
const STRATEGIES = ['concurrently', 'swap'] as const;
type Strategy = (typeof STRATEGIES)[number];

const FIRST_MONDAY = '2025-01-06';
const DAYS = 364;
const SUPPLIERS = 1000;
const PRODUCTS = 20_000;
/** weeks of the top-20 query, and of order dates the changes fall in (days) */
const WINDOW_WEEKS = 12;
const CHANGE_DAYS = 28;

/**
 * Order lines: ≈4 per order, every line of an order on the order's date. Product popularity is uniform; each product
 * belongs to one supplier, suppliers skewed (supplier = 1000·x² for x uniform over the products).
 */
function sourceSql(rows: number): string {
  return `
    create table ${SOURCE} as
    with s as (
      select i,
        (i + 3) / 4 as order_id,
        (hashint8(i) & 2147483647) as h1,
        (hashint8((i + 3) / 4 + 1000000000000) & 2147483647) as h2,
        (hashint8(i + 2000000000000) & 2147483647) as h3
      from generate_series(1, ${rows}::bigint) as i
    ), l as (
      select i, order_id, h3,
        (h1 % ${PRODUCTS})::int as product_id,
        date '${FIRST_MONDAY}' + (h2 % ${DAYS})::int as order_date,
        (1 + h3 % 10)::int as quantity
      from s
    ), p as (
      select l.*, (2 + ((product_id * 37) % 9800) / 100.0)::numeric(10,2) as unit_price from l
    )
    select i as line_id,
      order_id,
      product_id,
      floor(${SUPPLIERS} * power(((product_id::bigint * 7919) % ${PRODUCTS}) / ${PRODUCTS}.0, 2))::int as supplier_id,
      order_date,
      quantity,
      unit_price,
      case when (h3 / 10) % 10 = 0 then round(quantity * unit_price * 0.1, 2) else 0 end::numeric(12,2) as discount,
      (quantity * unit_price - case when (h3 / 10) % 10 = 0 then round(quantity * unit_price * 0.1, 2) else 0 end)::numeric(12,2) as amount,
      case when (h3 / 100) % 100 < 3 then 'returned' when (h3 / 100) % 100 = 3 then 'cancelled' else 'shipped' end as status,
      (array['web','app','marketplace','b2b'])[1 + (h3 / 10000) % 4] as channel
    from p`;
}

const suppliersSql = `
  create table ${SUPPLIERS_TABLE} as
  select i as supplier_id, 'Supplier ' || lpad(i::text, 4, '0') as supplier_name,
    (array['DACH','Nordics','Benelux','Iberia','UK','France','Italy','CEE'])[1 + i % 8] as region
  from generate_series(0, ${SUPPLIERS - 1}) as i`;

const WEEK = `(o.order_date - (extract(isodow from o.order_date)::int - 1))`;

/** The object's definition: supplier × week. */
const objectSql = `select s.supplier_id, s.supplier_name, s.region, ${WEEK} as week,
  count(*)::bigint as lines,
  sum(o.quantity)::bigint as units,
  sum(o.amount) as revenue,
  count(*) filter (where o.status = 'returned')::bigint as returned_lines,
  coalesce(sum(o.amount) filter (where o.status = 'returned'), 0) as returned_revenue,
  round(avg(o.unit_price), 4) as avg_unit_price
from ${SOURCE} o join ${SUPPLIERS_TABLE} s on s.supplier_id = o.supplier_id
group by s.supplier_id, s.supplier_name, s.region, ${WEEK}`;

function objectOf(strategy: Strategy): CompiledObject {
  const uniqueKey = ['supplier_id', 'week'];
  // Changes with the definition, stable across the run's refreshes (so `concurrently` refreshes in place).
  const hash = createHash('sha256').update(JSON.stringify({ strategy, sql: objectSql, uniqueKey })).digest('hex').slice(0, 16);
  return { name: `supplier_weekly_${strategy}`, schema: DASH_SCHEMA, strategy, sql: objectSql, uniqueKey, indexes: [], dependsOn: [], hash };
}

/** What every read must show, from the source (no change alters it). */
interface Expected {
  groups: number;
  /** (supplier, week) → lines */
  lines: Map<string, number>;
  keys: { supplier: number; week: string }[];
  windowFrom: string;
  windowSuppliers: number;
  windowLines: number;
  /** first order date the changes fall on */
  changeFrom: string;
  changeRows: number;
}

async function expectedOf(client: pg.Client): Promise<Expected> {
  const { rows } = await client.query<{ supplier_id: number; week: string; lines: string }>(
    `select o.supplier_id, to_char(${WEEK}, 'YYYY-MM-DD') as week, count(*) as lines
       from ${SOURCE} o join ${SUPPLIERS_TABLE} s on s.supplier_id = o.supplier_id group by 1, 2`,
  );
  const lines = new Map<string, number>();
  const keys: Expected['keys'] = [];
  let lastWeek = '';
  for (const row of rows) {
    lines.set(`${row.supplier_id}|${row.week}`, Number(row.lines));
    keys.push({ supplier: row.supplier_id, week: row.week });
    if (row.week > lastWeek) lastWeek = row.week;
  }
  const windowFrom = new Date(Date.parse(`${lastWeek}T00:00:00Z`) - (WINDOW_WEEKS - 1) * 7 * 86_400_000).toISOString().slice(0, 10);
  const windowSuppliers = new Set<number>();
  let windowLines = 0;
  for (const row of rows) {
    if (row.week < windowFrom) continue;
    windowSuppliers.add(row.supplier_id);
    windowLines += Number(row.lines);
  }
  const change = await client.query<{ from: string; n: string }>(
    `with m as (select max(order_date) - ${CHANGE_DAYS - 1} as d from ${SOURCE})
     select to_char(m.d, 'YYYY-MM-DD') as from, (select count(*) from ${SOURCE} where order_date >= m.d) as n from m`,
  );
  return {
    groups: rows.length,
    lines,
    keys,
    windowFrom,
    windowSuppliers: windowSuppliers.size,
    windowLines,
    changeFrom: change.rows[0]!.from,
    changeRows: Number(change.rows[0]!.n),
  };
}

/** Makes the source unless the one there is this generator's with `rows` rows. Returns whether it made it. */
async function ensureSource(client: pg.Client, rows: number, log: (line: string) => void): Promise<void> {
  const marker = `${GENERATOR}: ${rows} rows`;
  const found = await client.query<{ comment: string | null }>(
    `select obj_description(c.oid, 'pg_class') as comment from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = 'order_lines'`,
    [SOURCE_SCHEMA],
  );
  if (found.rows[0]?.comment === marker) {
    const counted = await client.query<{ n: string }>(`select count(*) as n from ${SOURCE}`);
    if (Number(counted.rows[0]!.n) === rows) {
      await client.query(`vacuum (analyze) ${SOURCE}`);
      log(`source: reusing ${SOURCE} (${rows.toLocaleString('en-US')} rows, ${await sizeOf(client, SOURCE)}; --fresh makes it again)`);
      return;
    }
    log(`source: ${SOURCE} holds ${Number(counted.rows[0]!.n).toLocaleString('en-US')} rows, not ${rows.toLocaleString('en-US')}: making it again`);
  }
  log(`source: making ${SOURCE} with ${rows.toLocaleString('en-US')} rows…`);
  const started = performance.now();
  await client.query(`drop schema if exists ${SOURCE_SCHEMA} cascade`);
  await client.query(`create schema ${SOURCE_SCHEMA}`);
  await client.query(suppliersSql);
  await client.query(`alter table ${SUPPLIERS_TABLE} add primary key (supplier_id)`);
  await client.query(sourceSql(rows));
  await client.query(`vacuum (freeze, analyze) ${SUPPLIERS_TABLE}`);
  await client.query(`vacuum (freeze, analyze) ${SOURCE}`);
  await client.query(`comment on table ${SOURCE} is '${marker}'`);
  log(`source: made in ${ms(performance.now() - started)}, ${await sizeOf(client, SOURCE)}`);
}

async function sizeOf(client: pg.Client, relation: string): Promise<string> {
  const { rows } = await client.query<{ size: string }>(`select pg_size_pretty(pg_table_size($1::regclass)) as size`, [relation]);
  return rows[0]!.size;
}

/** Change number `n`: `share` of all rows from the last CHANGE_DAYS days; returns how many rows changed. */
async function change(client: pg.Client, expected: Expected, rows: number, pct: number, n: number): Promise<number> {
  const every = Math.max(1, Math.round(expected.changeRows / ((rows * pct) / 100)));
  const result = await client.query(
    `update ${SOURCE}
        set quantity = quantity + 1,
            amount = amount + unit_price,
            status = case when (line_id / $2::int) % 5 = 0 then 'returned' else status end
      where order_date >= $1::date and (line_id + $3::int) % $2::int = 0`,
    [expected.changeFrom, every, n],
  );
  await client.query(`vacuum (analyze) ${SOURCE}`);
  await client.query('checkpoint');
  return result.rowCount ?? 0;
}

type QueryKind = 'top20' | 'lookup';

interface Phase {
  latencies: Record<QueryKind, number[]>;
  errors: number;
  incomplete: number;
  samples: string[];
}

function newPhase(): Phase {
  return { latencies: { top20: [], lookup: [] }, errors: 0, incomplete: 0, samples: [] };
}

function topQuery(object: CompiledObject): string {
  return `select supplier_id, supplier_name, sum(revenue) as revenue, sum(lines)::bigint as lines,
    (sum(sum(lines)) over ())::bigint as window_lines, (count(*) over ())::int as suppliers
  from ${quoteQualified(object.schema, object.name)}
  where week >= $1::date
  group by supplier_id, supplier_name
  order by revenue desc, supplier_id
  limit 20`;
}

function lookupQuery(object: CompiledObject): string {
  return `select lines, units, revenue, returned_lines from ${quoteQualified(object.schema, object.name)} where supplier_id = $1 and week = $2::date`;
}

/**
 * The readers, on their own connections for the whole run. `start` sets them looping against an object, recording
 * into `phase`; the returned function stops them and waits for the queries in flight (which count in the phase they
 * started in).
 */
class Readers {
  private constructor(private readonly clients: pg.Client[], private readonly expected: Expected, private readonly thinkMs: number) {}

  static async open(url: string, count: number, expected: Expected, thinkMs: number): Promise<Readers> {
    const clients: pg.Client[] = [];
    for (let i = 0; i < count; i++) {
      const client = new pg.Client({ connectionString: url, application_name: `bench-refresh-reader-${i + 1}` });
      await client.connect();
      clients.push(client);
    }
    return new Readers(clients, expected, thinkMs);
  }

  start(object: CompiledObject, phase: Phase): () => Promise<void> {
    let stopping = false;
    const top = topQuery(object);
    const lookup = lookupQuery(object);
    const expected = this.expected;
    const loops = this.clients.map(async (client, index) => {
      let seed = (index + 1) * 2654435761;
      const next = (): number => {
        // xorshift32
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 4294967296;
      };
      for (let i = index; !stopping; i++) {
        const kind: QueryKind = i % 2 === 0 ? 'top20' : 'lookup';
        const key = expected.keys[Math.floor(next() * expected.keys.length)]!;
        const started = performance.now();
        try {
          const result =
            kind === 'top20'
              ? await client.query<{ window_lines: string; suppliers: number }>(top, [expected.windowFrom])
              : await client.query<{ lines: string }>(lookup, [key.supplier, key.week]);
          phase.latencies[kind].push(performance.now() - started);
          const problem = kind === 'top20' ? checkTop(result.rows as { window_lines: string; suppliers: number }[], expected) : checkLookup(result.rows as { lines: string }[], key, expected);
          if (problem) {
            phase.incomplete += 1;
            if (phase.samples.length < 5) phase.samples.push(`${kind}: ${problem}`);
          }
        } catch (error) {
          phase.latencies[kind].push(performance.now() - started);
          phase.errors += 1;
          if (phase.samples.length < 5) phase.samples.push(`${kind}: ${(error as Error).message}`);
        }
        if (this.thinkMs > 0) await sleep(this.thinkMs);
      }
    });
    return async () => {
      stopping = true;
      await Promise.all(loops);
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.end().catch(() => undefined)));
  }
}

function checkTop(rows: { window_lines: string; suppliers: number }[], expected: Expected): string | undefined {
  const want = Math.min(20, expected.windowSuppliers);
  if (rows.length !== want) return `${rows.length} rows, expected ${want}`;
  const first = rows[0];
  if (!first) return undefined;
  if (first.suppliers !== expected.windowSuppliers) return `${first.suppliers} suppliers in the window, expected ${expected.windowSuppliers}`;
  if (Number(first.window_lines) !== expected.windowLines) return `${first.window_lines} lines in the window, expected ${expected.windowLines}`;
  return undefined;
}

function checkLookup(rows: { lines: string }[], key: { supplier: number; week: string }, expected: Expected): string | undefined {
  if (rows.length !== 1) return `${rows.length} rows for (${key.supplier}, ${key.week}), expected 1`;
  const want = expected.lines.get(`${key.supplier}|${key.week}`);
  if (Number(rows[0]!.lines) !== want) return `${rows[0]!.lines} lines for (${key.supplier}, ${key.week}), expected ${want}`;
  return undefined;
}

interface Latency {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  queries: number;
}

function latency(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50Ms: round1(percentile(sorted, 50)),
    p95Ms: round1(percentile(sorted, 95)),
    p99Ms: round1(percentile(sorted, 99)),
    maxMs: round1(sorted.length === 0 ? NaN : sorted[sorted.length - 1]!),
    queries: sorted.length,
  };
}

function merge(phases: Phase[]): Phase {
  const all = newPhase();
  for (const p of phases) {
    all.latencies.top20.push(...p.latencies.top20);
    all.latencies.lookup.push(...p.latencies.lookup);
    all.errors += p.errors;
    all.incomplete += p.incomplete;
    all.samples.push(...p.samples);
  }
  return all;
}

const both = (p: Phase): number[] => [...p.latencies.top20, ...p.latencies.lookup];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
const ms = (value: number): string => `${Math.round(value).toLocaleString('en-US')} ms`;
const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() || 'unknown cpu'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, ${os.platform()} ${os.release()} ${os.arch()}, node ${process.version}`;
}

interface StrategyRun {
  createMs: number;
  refreshMs: number[];
  baseline: Phase[];
  during: Phase[];
  changed: number[];
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const { log } = options;
  const rows = numberFlag(options, 'rows', options.quick ? 1_000_000 : 10_000_000);
  const refreshes = numberFlag(options, 'refreshes', 3);
  const readerCount = numberFlag(options, 'readers', 4);
  const baselineS = numberFlag(options, 'baseline-s', 3);
  const changePct = numberFlag(options, 'change-pct', 1);
  const thinkMs = numberFlag(options, 'think-ms', 0);
  if (!Number.isInteger(rows) || rows < 1000) throw new Error('--rows takes an integer of at least 1000');
  if (!Number.isInteger(refreshes) || refreshes < 1) throw new Error('--refreshes takes a positive integer');
  if (!Number.isInteger(readerCount) || readerCount < 1) throw new Error('--readers takes a positive integer');
  if (!(baselineS > 0)) throw new Error('--baseline-s takes a positive number of seconds');
  if (!(changePct > 0 && changePct <= 100)) throw new Error('--change-pct takes a percentage above 0');
  if (!(thinkMs >= 0)) throw new Error('--think-ms takes a non-negative number');

  const dir = path.join(stringFlag(options, 'data-dir', os.tmpdir()), 'lastmile-bench-refresh');
  if (options.flags.fresh === true) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    ...(options.flags.verbose === true && { onLog: (line: string) => log(`  pg: ${line.trim()}`) }),
  });
  log(`cluster: ${server.dataDir} (${server.owned ? 'started' : 'already running'}; kept for the next run unless --clean)`);
  const admin = new pg.Client({ connectionString: server.url, application_name: 'bench-refresh-admin' });
  const pool = new pg.Pool({ connectionString: server.url, max: 2, application_name: 'bench-refresh-refresher' });
  pool.on('error', () => undefined);
  let readers: Readers | undefined;
  try {
    await admin.connect();
    const settings = await admin.query<Record<string, string>>(
      `select version() as version, current_setting('shared_buffers') as shared_buffers, current_setting('work_mem') as work_mem,
        current_setting('maintenance_work_mem') as maintenance_work_mem, current_setting('max_parallel_workers_per_gather') as parallel_workers`,
    );
    const s = settings.rows[0]!;
    log(
      `postgres: ${s.version.split(' on ')[0]}; shared_buffers ${s.shared_buffers}, work_mem ${s.work_mem}, ` +
        `maintenance_work_mem ${s.maintenance_work_mem}, parallel workers per gather ${s.parallel_workers}`,
    );

    await ensureSource(admin, rows, log);
    const expected = await expectedOf(admin);
    const perChange = Math.round(expected.changeRows / Math.max(1, Math.round(expected.changeRows / ((rows * changePct) / 100))));
    log(
      `object: supplier × week, ${expected.groups.toLocaleString('en-US')} groups; top-20 window from ${expected.windowFrom} ` +
        `(${expected.windowSuppliers} suppliers, ${expected.windowLines.toLocaleString('en-US')} lines); each change: ≈${perChange.toLocaleString('en-US')} rows ` +
        `of the ${expected.changeRows.toLocaleString('en-US')} dated from ${expected.changeFrom}`,
    );

    await admin.query(`drop schema if exists ${DASH_SCHEMA} cascade`);
    readers = await Readers.open(server.url, readerCount, expected, thinkMs);
    const runs = {} as Record<Strategy, StrategyRun>;
    const objects = {} as Record<Strategy, CompiledObject>;
    const refresh = async (strategy: Strategy): Promise<{ wallMs: number; outcome: RefreshOutcome }> => {
      const started = performance.now();
      const outcome = await refreshObject(pool, objects[strategy], { owner: OWNER });
      const wallMs = performance.now() - started;
      if (outcome.rows !== expected.groups) throw new Error(`${strategy}: the object holds ${outcome.rows} rows, expected ${expected.groups} groups`);
      return { wallMs, outcome };
    };

    for (const strategy of STRATEGIES) {
      objects[strategy] = objectOf(strategy);
      const { wallMs, outcome } = await refresh(strategy);
      if (outcome.action !== 'created') throw new Error(`${strategy}: the first refresh ${outcome.action} the object, expected created`);
      runs[strategy] = { createMs: wallMs, refreshMs: [], baseline: [], during: [], changed: [] };
      log(`${strategy}: created ${objects[strategy].schema}.${objects[strategy].name} in ${ms(wallMs)}`);
      // Warm-up: the readers once over the new object, not recorded.
      const stop = readers.start(objects[strategy], newPhase());
      await sleep(1000);
      await stop();
    }

    let changeNumber = 0;
    for (let round = 1; round <= refreshes; round++) {
      for (const strategy of STRATEGIES) {
        const r = runs[strategy];
        const changed = await change(admin, expected, rows, changePct, changeNumber++);
        r.changed.push(changed);

        const baseline = newPhase();
        const stopBaseline = readers.start(objects[strategy], baseline);
        await sleep(baselineS * 1000);
        await stopBaseline();
        r.baseline.push(baseline);

        const during = newPhase();
        const stopDuring = readers.start(objects[strategy], during);
        let result: Awaited<ReturnType<typeof refresh>>;
        try {
          result = await refresh(strategy);
        } finally {
          await stopDuring();
        }
        const expectedAction = strategy === 'concurrently' ? 'refreshed' : 'rebuilt';
        if (result.outcome.action !== expectedAction) {
          throw new Error(`${strategy}: the refresh ${result.outcome.action} the object (${result.outcome.reason ?? 'no reason'}), expected ${expectedAction}`);
        }
        r.refreshMs.push(result.wallMs);
        r.during.push(during);
        const d = latency(both(during));
        const b = latency(both(baseline));
        log(
          `round ${round} ${strategy}: ${changed.toLocaleString('en-US')} rows changed; refresh ${ms(result.wallMs)}; readers during: ` +
            `${d.queries} queries, p50 ${d.p50Ms} ms, p95 ${d.p95Ms} ms, max ${d.maxMs} ms; baseline p95 ${b.p95Ms} ms (${b.queries} queries); ` +
            `errors ${during.errors + baseline.errors}, incomplete ${during.incomplete + baseline.incomplete}` +
            (during.samples.length + baseline.samples.length > 0 ? ` — ${[...baseline.samples, ...during.samples].join(' | ')}` : ''),
        );
      }
    }

    const summary = {
      bench: 'refresh',
      machine: machine(),
      date: new Date().toISOString(),
      rows,
      groups: expected.groups,
      settings: { refreshes, readers: readerCount, baselineS, changePct, thinkMs, changedRowsPerRefresh: perChange },
      strategies: {} as Record<Strategy, unknown>,
    };
    const results: BenchResult[] = [];
    for (const strategy of STRATEGIES) {
      const r = runs[strategy];
      const during = merge(r.during);
      const baseline = merge(r.baseline);
      const d = latency(both(during));
      const b = latency(both(baseline));
      const errors = during.errors + baseline.errors;
      const incomplete = during.incomplete + baseline.incomplete;
      summary.strategies[strategy] = {
        createMs: round1(r.createMs),
        refreshMs: { median: round1(median(r.refreshMs)), min: round1(Math.min(...r.refreshMs)), all: r.refreshMs.map(round1) },
        readers: {
          during: { ...d, byQuery: { top20: latency(during.latencies.top20), lookup: latency(during.latencies.lookup) } },
          baseline: { p50Ms: b.p50Ms, p95Ms: b.p95Ms, queries: b.queries, byQuery: { top20: latency(baseline.latencies.top20), lookup: latency(baseline.latencies.lookup) } },
          errors,
          incompleteReads: incomplete,
        },
      };
      results.push(
        { metric: `${strategy}.create_ms`, value: r.createMs, unit: 'ms' },
        { metric: `${strategy}.refresh_ms`, value: median(r.refreshMs), unit: 'ms' },
        { metric: `${strategy}.refresh_min_ms`, value: Math.min(...r.refreshMs), unit: 'ms' },
        { metric: `${strategy}.readers.p50_ms`, value: d.p50Ms, unit: 'ms' },
        { metric: `${strategy}.readers.p95_ms`, value: d.p95Ms, unit: 'ms' },
        { metric: `${strategy}.readers.p99_ms`, value: d.p99Ms, unit: 'ms' },
        { metric: `${strategy}.readers.max_ms`, value: d.maxMs, unit: 'ms' },
        { metric: `${strategy}.readers.queries`, value: d.queries, unit: 'queries' },
        { metric: `${strategy}.readers.baseline_p95_ms`, value: b.p95Ms, unit: 'ms' },
        { metric: `${strategy}.readers.errors`, value: errors, unit: 'errors', baseline: 0, better: 'lower' },
        { metric: `${strategy}.readers.incomplete_reads`, value: incomplete, unit: 'reads', baseline: 0, better: 'lower' },
      );
    }
    results.push({ metric: 'rows', value: rows, unit: 'rows' }, { metric: 'groups', value: expected.groups, unit: 'groups' });
    log(`summary: ${JSON.stringify(summary)}`);
    const summaryFile = stringFlag(options, 'summary', '');
    if (summaryFile) {
      await writeFile(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
      log(`summary written to ${summaryFile}`);
    }
    return results;
  } finally {
    await readers?.close();
    await pool.end().catch(() => undefined);
    await admin.end().catch(() => undefined);
    await server.stop();
    if (options.flags.clean === true) {
      await rm(dir, { recursive: true, force: true });
      log(`cluster removed (${dir})`);
    }
  }
}

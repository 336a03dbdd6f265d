/**
 * Validation checks: lastmile's single scan against one query per check (how dbt tests and most validation tools
 * run them), for 10 row-level checks over a 10-million-row table.
 *
 * Setup: a throwaway embedded Postgres (default settings: shared_buffers 128MB, 2 parallel workers per gather; the
 * `jit` setting is on but this build has no JIT provider, `pg_jit_available()` is false, which the log shows), one
 * table made with generate_series (≈1 % of the rows carry a defect for some check, so samples are fetched), then
 * VACUUM FREEZE ANALYZE so that no run pays for setting hint bits. The table is UNLOGGED only to make it faster;
 * reading it is the same as reading a logged table.
 *
 * What is timed, best of `--runs` (default 3) after one warm-up of each, all variants taking turns in each run so
 * they see the same cache and the same background load:
 *   - lastmile's scan: the statement `compileScan()` sends — every check's failing count, the row count and the
 *     defect count (rows failing any check), one pass. The table is analyzed, so its pattern check matches the sku
 *     column's 37 listed values once each instead of every row (see `patternLookup` in src/checks/compile.ts).
 *   - per check: `compileCheckQuery()` for each check, one after the other — `select count(*) from (source) s where
 *     <fails>`, the predicate of `failureCondition()`, matched on every row as a dbt test does. It computes less than
 *     the scan: no row count and no defect count.
 *   - runChecks end to end: the scan plus the statement fetching up to 5 keys per failing check (every one of the
 *     10 fails on ≈0.1 % of the rows here, so it runs; in a clean run it does not).
 *   - one bare pass, `select count(*)` of the source: what a pass costs without any predicate. From it, what a single
 *     pass that still evaluates every predicate on every row can expect: the per-check time minus the 9 passes it
 *     saves (`passes_saved_speedup`, an estimate).
 *   - other forms of the scan: one FILTER aggregate per check (the textbook form), without the pattern check, and
 *     matching the pattern on every row (`valueLookups: false`: the scan as it was before the lookup).
 *   - the floors: `select count(*) from <the scan's FROM> where f0 or … or f9` — every failure condition on every
 *     passing row once, nothing counted per check, no grouping: the least work of any exact single pass that tests
 *     rows this way, so per-check time ÷ floor time bounds what it can gain (`speedup_ceiling`); once with the
 *     scan's conditions, once matching the pattern on every row.
 * Both sides read the same table through the same connection, and their failing counts must agree (so must the
 * row-by-row scan's and the floors' defect counts).
 *
 * Results (`--json`, one line each): `scan_ms` (baseline = per-check time, ratio = speedup), `per_check_ms`,
 * `speedup` (baseline 5, the issue's target: ratio ≥ 1 means met), `run_checks_ms` (end to end, ratio = speedup),
 * `pass_ms`, `passes_saved_speedup` (x), `filter_form_scan_ms`, `no_pattern.scan_ms` (baseline = per-check time of the
 * other nine checks), `row_by_row.scan_ms` (baseline = per-check time), `floor_ms`, `speedup_ceiling` (x, baseline
 * 5), `row_by_row.floor_ms`, `row_by_row.speedup_ceiling` (x), `rows`. With `--source=join` the metrics are prefixed
 * `join.`, with `--columns` other than 10 `wide.`.
 *
 * Flags: --rows=N (default 10,000,000; --quick: 1,000,000), --runs=N (default 3), --source=table|join|products
 * (default table; join: the source is a query joining the table to a customer dimension; products: the example
 * products over the example data, `--scale=N`, see exampleProducts), --columns=N (default 10: the 10 checked
 * columns; more adds filler columns after them — ids, amounts, codes, labels, timestamps, flags — the width of a
 * usual fact table, e.g. 30), --workers=N (max_parallel_workers_per_gather for both sides, default the server's 2),
 * --data-dir=DIR (parent folder of the throwaway cluster), --verbose (server log).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import {
  compileCheckQuery,
  compileScan,
  Params,
  rowLevelChecks,
  runChecks,
  scanSource,
  type CompiledQuery,
  type FreshnessPlan,
  type RowLevelCheck,
} from '../src/checks/index.js';
import { check, defineProduct, files, loadProducts, sql, table, toProduct, type Product } from '../src/index.js';
import { startEmbeddedPostgres } from '../src/warehouse/embedded.js';
import { seedWarehouse } from '../seed/retailer/index.js';
import { numberFlag, stringFlag, type BenchOptions, type BenchResult } from './lib/types.js';

export const description = '10 row-level checks over a 10M-row table: one lastmile scan vs one query per check (dbt-style)';

const TARGET_SPEEDUP = 5;
/** Reference time of the synthetic table's checks (none of them is a freshness check). */
const NOW = new Date('2026-01-05T06:00:00Z');

/**
 * Filler columns of a wide table (`--columns`), after the 10 checked ones: the kinds of columns a fact table carries,
 * deterministic in `i`. No check reads them; they make every row, and so every pass, longer.
 */
const FILLERS: readonly ((i: string, k: number) => string)[] = [
  (i, k) => `((${i} * ${k}) % 1000000)::bigint`,
  (i, k) => `(((${i} * ${k}) % 100000) / 100.0)::numeric(12,2)`,
  (i, k) => `(array['EUR','USD','GBP','CHF'])[1 + (${i} * ${k}) % 4]`,
  (i, k) => `timestamptz '2025-01-01' + ((${i} * ${k}) % 31536000) * interval '1 second'`,
  (i, k) => `((${i} * ${k}) % 1000)::integer`,
  (i, k) => `'campaign-' || ((${i} * ${k}) % 250) || '-' || (array['spring','summer','autumn','winter'])[1 + ${i} % 4]`,
  (i, k) => `(((${i} * ${k}) % 1000) / 1000.0)::float8`,
  (i, k) => `((${i} * ${k}) % 11 = 0)`,
];

/** ≈1 % of rows fail some check; every check fails on a few rows (prime moduli, so defects rarely coincide). */
function tableSql(rows: number, columns: number): string {
  const fillers = Array.from({ length: Math.max(0, columns - 10) }, (_, n) => `,\n      ${FILLERS[n % FILLERS.length]!('i', 101 + 2 * n)} as extra_${n + 1}`);
  return `
    create unlogged table bench.orders as
    select i::bigint as order_id,
      case when i % 1009 = 1 then null else (i * 7) % 50000 end::bigint as customer_id,
      case when i % 1013 = 3 then 'unknown' else (array['placed','shipped','delivered','cancelled'])[1 + i % 4] end as status,
      case when i % 1019 = 5 then 'fax' else (array['web','app','marketplace'])[1 + i % 3] end as channel,
      case when i % 1021 = 7 then -1.00 else ((i * 37) % 20000) / 100.0 end::numeric(10,2) as amount,
      case when i % 1031 = 11 then 0 else 1 + i % 5 end::integer as quantity,
      case when i % 1033 = 13 then null else 'c' || (i % 50000) || '@example.com' end as email,
      case when i % 1039 = 17 then 'bad sku' else 'RS-TEMPO' || (i % 9) || '-' || (array['S','M','L','XL'])[1 + i % 4] || '-BLK' end as sku,
      case when i % 1049 = 19 then timestamptz '1999-01-01' else timestamptz '2025-01-01' + (i % 31536000) * interval '1 second' end as created_at,
      case when i % 1051 = 23 then 1000000 else ((i * 37) % 20000) / 1000.0 end::numeric(10,2) as discount${fillers.join('')}
    from generate_series(1, ${rows}) as i`;
}

/**
 * `table`: the table itself. `join`: a query joining it to a 50,000-row customer dimension, the way products declare
 * their sources. Every pass repeats the join — but Postgres pushes each per-check predicate below the join, so the
 * per-check queries join only their few failing rows, while the scan, which counts every row, joins them all.
 */
type SourceKind = 'table' | 'join';

function benchProduct(withPattern: boolean, kind: SourceKind): Product {
  const definition = defineProduct({
    name: 'bench_orders',
    version: '1.0.0',
    owner: { team: 'bench', email: 'bench@example.com' },
    domain: 'bench',
    description: 'Benchmark table.',
    audience: 'internal',
    users: [{ who: 'the benchmark', action: 'time the checks' }],
    source:
      kind === 'table'
        ? table('bench.orders')
        : sql`select o.*, c.segment from ${table('bench.orders')} o join ${table('bench.customers')} c on c.customer_id = o.customer_id`,
    contract: {
      key: ['order_id'],
      columns: [
        { name: 'order_id', type: 'bigint' },
        { name: 'customer_id', type: 'bigint' },
        { name: 'status', type: 'text' },
        { name: 'channel', type: 'text' },
        { name: 'amount', type: 'numeric(10,2)' },
        { name: 'quantity', type: 'integer' },
        { name: 'email', type: 'text' },
        { name: 'sku', type: 'text' },
        { name: 'created_at', type: 'timestamptz' },
        { name: 'discount', type: 'numeric(10,2)' },
      ],
    },
    checks: [
      check.notNull('customer_id'),
      check.notNull('email'),
      check.acceptedValues('status', ['placed', 'shipped', 'delivered', 'cancelled']),
      check.acceptedValues('channel', ['web', 'app', 'marketplace']),
      check.range('amount', { min: 0, max: 10_000 }),
      check.range('quantity', { min: 1, max: 100 }),
      check.range('created_at', { min: '2020-01-01' }),
      check.range('discount', { min: 0, max: 10_000 }),
      check.rowPredicate('discount <= amount', { name: 'discount_within_amount' }),
      ...(withPattern ? [check.pattern('sku', '^RS-[A-Z0-9]+-[A-Z]+-[A-Z]{3}$')] : []),
    ],
    serve: [files({ name: 'out', format: 'csv', to: './out' })],
  });
  return toProduct(definition);
}

/**
 * `--source=products`: the example products (products/*.ts) over the example data (seedWarehouse, `--scale`,
 * default 1): per product, its scan (row-level checks and freshness) against one query per check. Their sources are
 * marts views that join and aggregate, so every pass recomputes them — the usual shape of a data product.
 */
async function exampleProducts(client: pg.Client, url: string, runs: number, options: BenchOptions): Promise<BenchResult[]> {
  const scale = numberFlag(options, 'scale', 1);
  const seeded = await timed(() => seedWarehouse(url, { scale }));
  options.log(`example data: scale ${scale}, seeded in ${ms(seeded.ms)}`);
  const products = await loadProducts({ dir: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'products') });
  // The real clock: the marts show the example data moved to the present (docs/seed-data.md, "The clock").
  const now = new Date();
  const results: BenchResult[] = [];
  for (const product of products) {
    const rowChecks = rowLevelChecks(product);
    const freshness = product.checks.filter((c): c is FreshnessPlan => c.type === 'freshness');
    const scan = compileScan(product, rowChecks, freshness, { now });
    const perCheck = [...rowChecks, ...freshness].map((c) => compileCheckQuery(product, c, { now }));
    const once = () => client.query({ text: scan.text, values: scan.values as unknown[] });
    const each = async () => {
      for (const query of perCheck) await client.query({ text: query.text, values: query.values as unknown[] });
    };
    await once();
    await each();
    let bestScan = Infinity;
    let bestEach = Infinity;
    for (let round = 0; round < runs; round++) {
      bestScan = Math.min(bestScan, (await timed(once)).ms);
      bestEach = Math.min(bestEach, (await timed(each)).ms);
    }
    options.log(`${product.name}: ${perCheck.length} checks in the scan; scan ${ms(bestScan)}, per check ${ms(bestEach)}, ${(bestEach / bestScan).toFixed(2)}×`);
    results.push({ metric: `products.${product.name}.scan_ms`, value: bestScan, unit: 'ms', baseline: bestEach, ratio: bestEach / bestScan });
  }
  return results;
}

/**
 * The floor: the least work of any exact single pass that tests each row with the scan's own failure conditions —
 * every condition on every row that fails none of them (a row passes only when all are false), nothing counted per
 * check, no grouping: `select count(*) as defects from <the scan's FROM> where f0 or … or f9`. Its time bounds what
 * such a scan can gain: per-check time ÷ floor time (`speedup_ceiling`). `valueLookups: false` gives the floor of
 * matching every row against the pattern.
 */
function anyFailureCount(product: Product, valueLookups: boolean): CompiledQuery {
  const params = new Params();
  const { from, failures } = scanSource(product, rowLevelChecks(product), params, { valueLookups });
  return { text: `select count(*) as defects from ${from}\nwhere ${failures.join(' or ')}`, values: params.values };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

const ms = (value: number): string => `${Math.round(value).toLocaleString('en-US')} ms`;

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const { log } = options;
  const rows = numberFlag(options, 'rows', options.quick ? 1_000_000 : 10_000_000);
  const runs = numberFlag(options, 'runs', 3);
  const kind = stringFlag(options, 'source', 'table');
  const columns = numberFlag(options, 'columns', 10);
  const workers = options.flags.workers === undefined ? undefined : numberFlag(options, 'workers', 2);
  if (kind !== 'table' && kind !== 'join' && kind !== 'products') throw new Error('--source takes table, join or products');
  const prefix = `${kind === 'table' ? '' : `${kind}.`}${columns === 10 ? '' : 'wide.'}`;
  if (!Number.isInteger(rows) || rows < 1) throw new Error('--rows takes a positive integer');
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  if (!Number.isInteger(columns) || columns < 10) throw new Error('--columns takes an integer of at least 10 (the checked columns)');
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) throw new Error('--workers takes a non-negative integer');

  const dir = await mkdtemp(path.join(stringFlag(options, 'data-dir', os.tmpdir()), 'lastmile-bench-checks-'));
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    ephemeral: true,
    ...(options.flags.verbose === true && { onLog: (line: string) => log(`  pg: ${line.trim()}`) }),
  });
  const client = new pg.Client({ connectionString: server.url });
  try {
    await client.connect();
    if (workers !== undefined) await client.query(`set max_parallel_workers_per_gather = ${workers}`);
    if (kind === 'products') return await exampleProducts(client, server.url, runs, options);
    const settings = await client.query<Record<string, string>>(
      `select version() as version, current_setting('shared_buffers') as shared_buffers, current_setting('work_mem') as work_mem,
        current_setting('jit') as jit, pg_jit_available()::text as jit_available,
        current_setting('max_parallel_workers_per_gather') as parallel_workers`,
    );
    const s = settings.rows[0]!;
    log(
      `postgres: ${s.version.split(' on ')[0]}; shared_buffers ${s.shared_buffers}, work_mem ${s.work_mem}, ` +
        `jit ${s.jit} (available: ${s.jit_available}), parallel workers per gather ${s.parallel_workers}`,
    );

    const made = await timed(async () => {
      await client.query('create schema bench');
      await client.query(tableSql(rows, columns));
      await client.query('vacuum (freeze, analyze) bench.orders');
      await client.query(`create table bench.customers as
        select i::bigint as customer_id, (array['new','regular','vip'])[1 + i % 3] as segment from generate_series(0, 49999) as i`);
      await client.query('alter table bench.customers add primary key (customer_id)');
      await client.query('vacuum (freeze, analyze) bench.customers');
    });
    const size = await client.query<{ size: string }>(`select pg_size_pretty(pg_table_size('bench.orders')) as size`);
    log(`table: ${rows.toLocaleString('en-US')} rows × ${columns} columns, ${size.rows[0]!.size}, made in ${ms(made.ms)}`);

    log(`source: ${kind === 'table' ? 'the table' : 'the table joined to a 50,000-row customer dimension (an inner join Postgres cannot remove; rows without a customer drop out)'}`);
    const product = benchProduct(true, kind);
    const cheap = benchProduct(false, kind);
    const perCheck = product.checks.map((c) => ({ check: c, query: compileCheckQuery(product, c, { now: NOW }) }));
    const scanOf = (p: Product, strategy: 'grouped' | 'filters', valueLookups = true) =>
      compileScan(p, p.checks as RowLevelCheck[], [], { now: NOW, strategy, valueLookups });

    const lastmile = () => runChecks(client, product, { now: NOW });
    const oneByOne = async () => {
      const out: { name: string; failing: number; ms: number }[] = [];
      for (const { check: c, query } of perCheck) {
        const { ms: took, value } = await timed(() => client.query({ text: query.text, values: query.values as unknown[] }));
        out.push({ name: c.name, failing: Number(value.rows[0]!.failing), ms: took });
      }
      return out;
    };
    const scanOnly = (p: Product, strategy: 'grouped' | 'filters', valueLookups = true) => {
      const plan = scanOf(p, strategy, valueLookups);
      return () => client.query({ text: plan.text, values: plan.values as unknown[] });
    };
    const send = (query: CompiledQuery) => () => client.query({ text: query.text, values: query.values as unknown[] });
    // One bare pass: the scan with no checks, `select count(*) … from (source) s`, unfenced like the per-check queries.
    const pass = send(compileScan(product, [], [], { now: NOW, fence: false }));
    const floor = send(anyFailureCount(product, true));
    const rowByRowFloor = send(anyFailureCount(product, false));
    const rowByRow = scanOnly(product, 'grouped', false);

    // Warm-up: every statement once, so both sides start from the same page cache and shared buffers.
    log('warm-up…');
    const first = await lastmile();
    const firstPer = await oneByOne();
    for (const [i, result] of first.results.entries()) {
      if (result.failing !== firstPer[i]!.failing) {
        throw new Error(`check ${result.name}: lastmile counted ${result.failing} failing rows, the per-check query ${firstPer[i]!.failing}`);
      }
    }
    const [byRow] = (await rowByRow()).rows as Record<string, string>[];
    first.results.forEach((result, i) => {
      if (Number(byRow![`c${i}`]) !== result.failing) throw new Error(`check ${result.name}: the row-by-row scan counted ${byRow![`c${i}`]}, lastmile ${result.failing}`);
    });
    if (Number(byRow!.defects) !== first.defects) throw new Error(`the row-by-row scan counted ${byRow!.defects} defects, lastmile ${first.defects}`);
    await pass();
    log(`checks: ${first.results.map((r) => `${r.name} ${r.failing.toLocaleString('en-US')}`).join(', ')}`);
    log(`defects: ${first.defects.toLocaleString('en-US')} of ${first.rows.toLocaleString('en-US')} rows; lastmile sent ${first.statements} statements`);

    for (const statement of [floor, rowByRowFloor]) {
      const [floorRow] = (await statement()).rows as Record<string, string>[];
      if (Number(floorRow!.defects) !== first.defects) throw new Error(`a floor statement counted ${floorRow!.defects} defects, lastmile ${first.defects}`);
    }

    const best = {
      lastmile: Infinity, perCheck: Infinity, scan: Infinity, filters: Infinity, scanCheap: Infinity, pass: Infinity,
      rowByRow: Infinity, floor: Infinity, rowByRowFloor: Infinity,
    };
    let bestPer: { name: string; ms: number }[] = firstPer;
    for (let round = 1; round <= runs; round++) {
      const a = await timed(lastmile);
      const b = await timed(oneByOne);
      const c = await timed(scanOnly(product, 'grouped'));
      const d = await timed(scanOnly(product, 'filters'));
      const e = await timed(scanOnly(cheap, 'grouped'));
      const f = await timed(pass);
      const g = await timed(rowByRow);
      const h = await timed(floor);
      const k = await timed(rowByRowFloor);
      log(
        `run ${round}: lastmile ${ms(a.ms)} (${a.value.statements} statements) · per check ${ms(b.ms)} · ` +
          `scan alone ${ms(c.ms)} · FILTER-form scan ${ms(d.ms)} · scan without the pattern check ${ms(e.ms)} · ` +
          `bare pass ${ms(f.ms)} · scan matching the pattern on every row ${ms(g.ms)} · ` +
          `floor (rows failing any check, nothing per check) ${ms(h.ms)}, matching every row ${ms(k.ms)}`,
      );
      best.floor = Math.min(best.floor, h.ms);
      best.rowByRowFloor = Math.min(best.rowByRowFloor, k.ms);
      best.pass = Math.min(best.pass, f.ms);
      best.rowByRow = Math.min(best.rowByRow, g.ms);
      best.lastmile = Math.min(best.lastmile, a.ms);
      if (b.ms < best.perCheck) bestPer = b.value;
      best.perCheck = Math.min(best.perCheck, b.ms);
      best.scan = Math.min(best.scan, c.ms);
      best.filters = Math.min(best.filters, d.ms);
      best.scanCheap = Math.min(best.scanCheap, e.ms);
    }
    log(`per-check times (fastest run): ${bestPer.map((p) => `${p.name} ${ms(p.ms)}`).join(', ')}`);
    const patternMs = bestPer.find((p) => p.name.startsWith('pattern_'))?.ms ?? 0;
    const perCheckCheap = best.perCheck - patternMs;
    const scanSpeedup = best.perCheck / best.scan;
    // The per-check side pays a pass per check. A single pass that still evaluates every predicate on every row
    // saves the other passes and nothing else: ≈ per-check − (checks − 1) × bare pass. An estimate (each per-check
    // query also reads the columns up to its own once more, and the figures are bests of different runs).
    const passesSaved = best.perCheck / Math.max(best.perCheck - (perCheck.length - 1) * best.pass, best.pass);
    log(
      `scan vs per check: ${scanSpeedup.toFixed(2)}× (target ${TARGET_SPEEDUP}×); runChecks with samples vs per check: ` +
        `${(best.perCheck / best.lastmile).toFixed(2)}×; without the pattern check: scan ${ms(best.scanCheap)} vs ${ms(perCheckCheap)}, ` +
        `${(perCheckCheap / best.scanCheap).toFixed(2)}×`,
    );
    log(
      `bare pass ${ms(best.pass)}: the ${perCheck.length} per-check queries spend ≈${ms(perCheck.length * best.pass)} passing over the rows and ` +
        `≈${ms(best.perCheck - perCheck.length * best.pass)} evaluating predicates; saving ${perCheck.length - 1} of the passes while ` +
        `still evaluating every predicate per row is worth ≈${passesSaved.toFixed(2)}×. The scan matching the pattern on every row: ` +
        `${ms(best.rowByRow)}, ${(best.perCheck / best.rowByRow).toFixed(2)}×`,
    );
    log(
      `floor: one statement that only tests every row with the scan's conditions (where f0 or … or f9, one count) takes ` +
        `${ms(best.floor)}, so no single pass testing rows this way can be more than ${(best.perCheck / best.floor).toFixed(2)}× ` +
        `faster than the per-check queries here (matching the pattern on every row: ${ms(best.rowByRowFloor)}, ` +
        `${(best.perCheck / best.rowByRowFloor).toFixed(2)}×)`,
    );

    const results: BenchResult[] = [
      { metric: 'scan_ms', value: best.scan, unit: 'ms', baseline: best.perCheck, ratio: scanSpeedup },
      { metric: 'per_check_ms', value: best.perCheck, unit: 'ms' },
      { metric: 'speedup', value: scanSpeedup, unit: 'x', baseline: TARGET_SPEEDUP, better: 'higher' },
      { metric: 'run_checks_ms', value: best.lastmile, unit: 'ms', baseline: best.perCheck, ratio: best.perCheck / best.lastmile },
      { metric: 'pass_ms', value: best.pass, unit: 'ms' },
      { metric: 'passes_saved_speedup', value: passesSaved, unit: 'x' },
      { metric: 'filter_form_scan_ms', value: best.filters, unit: 'ms' },
      { metric: 'no_pattern.scan_ms', value: best.scanCheap, unit: 'ms', baseline: perCheckCheap, ratio: perCheckCheap / best.scanCheap },
      { metric: 'row_by_row.scan_ms', value: best.rowByRow, unit: 'ms', baseline: best.perCheck, ratio: best.perCheck / best.rowByRow },
      { metric: 'floor_ms', value: best.floor, unit: 'ms' },
      { metric: 'speedup_ceiling', value: best.perCheck / best.floor, unit: 'x', baseline: TARGET_SPEEDUP, better: 'higher' },
      { metric: 'row_by_row.floor_ms', value: best.rowByRowFloor, unit: 'ms' },
      { metric: 'row_by_row.speedup_ceiling', value: best.perCheck / best.rowByRowFloor, unit: 'x' },
      { metric: 'rows', value: rows, unit: 'rows' },
    ];
    return results.map((r) => ({ ...r, metric: `${prefix}${r.metric}` }));
  } finally {
    await client.end().catch(() => undefined);
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Pattern checks over a table source match the regular expression once per most common value of the column (from
 * pg_stats, inside the scan statement) instead of once per row. These tests hold that to the row-by-row answer on a
 * real (embedded) Postgres: fresh and stale statistics, values that need quoting in an array, a non-text column, a
 * column with another collation, a view (no statistics), environment schema names — and that the short cut is
 * really taken where it applies, and the statement count does not change.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCheckQuery, compileSamples, compileScan, runChecks, SAMPLE_SORT_LIMIT, type CheckReport, type RowLevelCheck } from '../../src/checks/index.js';
import { table, type CheckSpec, type Source } from '../../src/index.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';
import { check, countingPool, testProduct } from './support.js';

const CODES = ['A-01', 'A-02', 'B-10', 'B-11', 'C-20', 'C-21', 'D-30', 'D-31', 'E-40', 'E-41', 'F-50', 'G-60'];
// Valid codes above, and listed values that fail the pattern — several need quoting inside an array literal.
const ODD = ["it's", '{x,y}', 'a\\b', '"quoted"', ' spaced ', '', 'NULL', 'b-12'];
const CODE_PATTERN = '^[A-Z]-[0-9]{2}$';
const ROWS = 3000;

interface Item {
  id: number;
  code: string | null;
  size: number;
  label: string;
}

/** Deterministic rows: every code and odd value many times (so ANALYZE lists them), NULLs, and one-off values. */
function items(): Item[] {
  const listed = [...CODES, ...ODD];
  return Array.from({ length: ROWS }, (_, n) => {
    const id = n + 1;
    const code = id % 250 === 0 ? null : id % 997 === 0 ? `Z-${id}` : id % 499 === 0 ? `one-off ${id}` : listed[id % listed.length]!;
    return { id, code, size: 1 + (id % 12), label: id % 3 === 0 ? 'été' : 'summer' };
  });
}

const COLUMNS = [
  { name: 'id', type: 'integer' },
  { name: 'code', type: 'text' },
  { name: 'size', type: 'integer' },
  { name: 'label', type: 'text' },
] as const;

const CHECKS: CheckSpec[] = [
  check.notNull('code', { severity: 'warn' }),
  check.pattern('code', CODE_PATTERN, { severity: 'warn' }),
  check.pattern('size', '^[0-9]$', { name: 'one_digit_size', severity: 'warn' }),
  check.pattern('label', '^[[:alpha:]]+$', { name: 'alpha_label', severity: 'warn' }),
];

const product = (source: Source = table('v.items')) => testProduct({ name: 'items', source, columns: COLUMNS, key: ['id'], checks: CHECKS });

const failing = (report: CheckReport) => Object.fromEntries(report.results.map((r) => [r.name, r.failing]));

let server: TestPostgres;
let pool: pg.Pool;
let data: Item[];

beforeAll(async () => {
  server = await startTestPostgres();
  pool = server.pool(await server.freshDatabase('value_lookup'));
  data = items();
  await pool.query(`
    create schema v;
    create table v.items (id integer primary key, code text, size integer, label text collate "C");
    create view v.items_view as select * from v.items;
  `);
  await pool.query(
    `insert into v.items select * from unnest($1::int[], $2::text[], $3::int[], $4::text[])`,
    [data.map((r) => r.id), data.map((r) => r.code), data.map((r) => r.size), data.map((r) => r.label)],
  );
  await pool.query('analyze v.items');
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

/** The rows of the function scan over the statistics list: how many listed values the scan matched up front. */
async function listedValues(scanText: string, values: unknown[]): Promise<number[]> {
  const { rows } = await pool.query({ text: `explain (analyze, format json) ${scanText}`, values });
  const found: number[] = [];
  const walk = (node: Record<string, unknown>) => {
    if (node['Node Type'] === 'Function Scan' && node['Function Name'] === 'unnest') found.push(Number(node['Actual Rows']));
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk((rows[0]['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
  return found;
}

/** Failing counts of one query per check, row by row (the reproduction SQL of each result). */
async function perCheck(source: Source = table('v.items')): Promise<Record<string, number>> {
  const p = product(source);
  const out: Record<string, number> = {};
  for (const c of p.checks) {
    const query = compileCheckQuery(p, c);
    const { rows } = await pool.query({ text: query.text, values: query.values as unknown[] });
    out[c.name] = Number(rows[0].failing);
  }
  return out;
}

describe('pattern checks over a table: once per listed value', () => {
  it('counts exactly what the row-by-row form counts, with the same samples and defects', async () => {
    const expected = {
      not_null_code: data.filter((r) => r.code === null).length,
      pattern_code: data.filter((r) => r.code !== null && !new RegExp(CODE_PATTERN).test(r.code)).length,
      one_digit_size: data.filter((r) => r.size >= 10).length,
    };
    const counting = countingPool(pool);
    const fast = await runChecks(counting.db, product());
    const slow = await runChecks(pool, product(), { valueLookups: false });
    expect(failing(fast)).toMatchObject(expected);
    expect(failing(fast)).toEqual(failing(slow));
    expect(failing(fast)).toEqual(await perCheck());
    expect(fast.defects).toBe(slow.defects);
    expect(fast.results.map((r) => r.sampleKeys)).toEqual(slow.results.map((r) => r.sampleKeys));
    // Still the scan plus the sample statement: the statistics are read inside them.
    expect(fast.statements).toBe(2);
    expect(counting.sent[0]!.text).toContain('pg_stats');
    expect(counting.sent[1]!.text).toContain('pg_stats');
  });

  it('samples the same keys with one branch per check (the form for very many failures)', async () => {
    const p = product();
    const checks = p.checks.filter((c): c is RowLevelCheck => c.type === 'pattern');
    const keys = async (failing: number[]) => {
      const query = compileSamples(p, checks, {}, { failing });
      expect(query.text).toContain('pg_stats');
      const { rows } = await pool.query({ text: query.text, values: query.values as unknown[] });
      return rows.map((r: { c: number; key: { id: number } }) => [r.c, r.key.id]);
    };
    const onePass = await keys([1, 1, 1]);
    expect(onePass.length).toBeGreaterThan(5);
    expect(await keys(checks.map(() => SAMPLE_SORT_LIMIT))).toEqual(onePass);
  });

  it('matches the listed values up front, and only where the column allows it', async () => {
    const p = product();
    const scan = compileScan(p, p.checks as RowLevelCheck[], []);
    const { rows } = await pool.query(`select attname, array_length(most_common_vals::text::text[], 1) as n from pg_stats where schemaname = 'v' and tablename = 'items'`);
    const listed = Object.fromEntries(rows.map((r: { attname: string; n: number | null }) => [r.attname, r.n ?? 0]));
    // ANALYZE read every row: every repeated code and every size is listed; the label column is listed too.
    expect(listed.code).toBe(CODES.length + ODD.length);
    expect(listed.size).toBe(12);
    expect(listed.label).toBe(2);
    // code and size take the list; label has collation "C" (not the database default), so it is matched row by row.
    expect(await listedValues(scan.text, scan.values as unknown[])).toEqual([CODES.length + ODD.length, 12, 0]);
  });

  it('stays exact when the statistics are stale', async () => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      // A listed value disappears, a new failing value and a new passing value appear, a NULL becomes a value.
      await client.query(`update v.items set code = 'A-02' where code = 'A-01'`);
      await client.query(`update v.items set code = 'new bad' where id % 7 = 0`);
      await client.query(`update v.items set code = 'H-70' where id % 11 = 0`);
      await client.query(`update v.items set code = 'b-12' where code is null and id % 500 = 0`);
      const p = product();
      const fast = await runChecks(client, p);
      const slow = await runChecks(client, p, { valueLookups: false });
      const { rows } = await client.query(`select count(*) filter (where code !~ '${CODE_PATTERN}')::int as bad, count(*) filter (where code is null)::int as nulls from v.items`);
      expect(failing(fast).pattern_code).toBe(rows[0].bad);
      expect(failing(fast).not_null_code).toBe(rows[0].nulls);
      expect(failing(fast)).toEqual(failing(slow));
      expect(fast.defects).toBe(slow.defects);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });

  it('matches row by row over a view (no statistics) and finds the table under its environment schema', async () => {
    const view = product(table('v.items_view'));
    const viewScan = compileScan(view, view.checks as RowLevelCheck[], []);
    expect(await listedValues(viewScan.text, viewScan.values as unknown[])).toEqual([0, 0, 0]);
    expect(failing(await runChecks(pool, view))).toEqual(await perCheck(table('v.items_view')));

    const logical = product(table('catalog.items'));
    const mapped = compileScan(logical, logical.checks as RowLevelCheck[], [], { schemas: { catalog: 'v' } });
    expect(await listedValues(mapped.text, mapped.values as unknown[])).toEqual([CODES.length + ODD.length, 12, 0]);
    expect(failing(await runChecks(pool, logical, { schemas: { catalog: 'v' } }))).toEqual(await perCheck());
  });

  it("reports a regular expression Postgres rejects as that check's error, the others exact", async () => {
    const p = testProduct({
      name: 'items',
      source: table('v.items'),
      columns: COLUMNS,
      key: ['id'],
      checks: [...CHECKS, check.pattern('code', '(?<name>A)', { name: 'named_group', severity: 'warn' })],
    });
    const report = await runChecks(pool, p);
    expect(report.results.find((r) => r.name === 'named_group')).toMatchObject({ status: 'error', error: expect.stringContaining('invalid regular expression') });
    const { named_group: _broken, ...others } = failing(report);
    expect(others).toEqual(await perCheck());
  });

  it('writes the plain row-by-row scan when asked, and for a query source', async () => {
    const p = product();
    expect(compileScan(p, p.checks as RowLevelCheck[], [], { valueLookups: false }).text).not.toContain('pg_stats');
    const query = testProduct({ name: 'items', source: { kind: 'sql', parts: ['select * from ', ''], tables: [{ kind: 'table', schema: 'v', name: 'items' }] }, columns: COLUMNS, key: ['id'], checks: CHECKS });
    expect(compileScan(query, query.checks as RowLevelCheck[], []).text).not.toContain('pg_stats');
  });
});

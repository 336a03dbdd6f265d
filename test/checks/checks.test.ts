/**
 * Every check type against a small table seeded with known defects, on a real (embedded, throwaway) Postgres:
 * exact failing counts and sample keys, NULL handling, values as data (never SQL), the one-scan property counted at
 * the connection, the defect count, blocking, and broken checks.
 */
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runChecks, compileScan, compileSamples, SAMPLE_SORT_LIMIT, quarantineInsert, quarantineQuery, validRowsQuery, toCheckResultInputs, failureCondition, Params } from '../../src/checks/index.js';
import type { CheckReport, CheckResult } from '../../src/checks/index.js';
import { createMetaStore } from '../../src/meta/index.js';
import { sql, table, type Check, type CheckSpec } from '../../src/index.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';
import { check, countingPool, testProduct } from './support.js';

const NOW = new Date('2026-01-05T12:00:00Z');
const INJECTION = "'); drop table t.orders; --";

/*
 * 12 orders; the defects each row carries (row-level checks of `ROW_CHECKS` below):
 *   1  clean                         7  amount 100.01, quantity 11, returned 12 > 11, sku 'rs-7' (4 checks)
 *   2  clean (inclusive maxima)      8  quantity 0, sku 'RS-8x'
 *   3  customer_id NULL              9  amount -5, returned 6 > 5
 *   4  email NULL, amount 0          10 clean (shares email with 1)
 *   5  status 'lost'                 11 clean (customer 99 does not exist)
 *   6  email NULL, returned NULL     12 created_at before 2025 (shares customer 1 + 'placed' with row 1)
 * Row 6 has NULL status, amount and sku: those pass acceptedValues, range and pattern.
 * Rows are inserted out of key order, so sample ordering is the query's doing.
 */
const ROWS: [number, number | null, string | null, string | null, string | null, number | null, number | null, string | null, string][] = [
  // order_id, customer_id, email, status, amount, quantity, returned, sku, created_at
  [12, 1, 'l@example.com', 'placed', '10.00', 1, 0, 'RS-12', '2024-12-31T23:00:00Z'],
  [7, 7, 'g@example.com', INJECTION, '100.01', 11, 12, 'rs-7', '2025-06-01T00:00:00Z'],
  [3, null, 'c@example.com', 'delivered', '20.00', 2, 0, 'RS-3', '2025-06-01T00:00:00Z'],
  [9, 9, 'i@example.com', 'placed', '-5.00', 5, 6, 'RS-9', '2025-06-01T00:00:00Z'],
  [1, 1, 'a@example.com', 'placed', '10.00', 1, 0, 'RS-1', '2026-01-04T10:00:00Z'],
  [5, 5, 'e@example.com', 'lost', '30.00', 3, 0, 'RS-5', '2025-06-01T00:00:00Z'],
  [11, 99, 'k@example.com', 'placed', '10.00', 1, 0, 'RS-11', '2025-06-01T00:00:00Z'],
  [2, 2, 'b@example.com', 'shipped', '100.00', 10, 1, 'RS-22', '2026-01-03T00:00:00Z'],
  [8, 8, 'h@example.com', "it's", '50.00', 0, 0, 'RS-8x', '2025-06-01T00:00:00Z'],
  [4, 4, null, 'placed', '0.00', 1, 0, 'RS-4', '2025-06-01T00:00:00Z'],
  [10, 10, 'a@example.com', 'placed', '10.00', 1, 0, 'RS-10', '2025-06-01T00:00:00Z'],
  [6, 6, null, null, null, 2, null, null, '2025-06-01T00:00:00Z'],
];

const COLUMNS = [
  { name: 'order_id', type: 'integer' },
  { name: 'customer_id', type: 'integer' },
  { name: 'email', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'amount', type: 'numeric(10,2)' },
  { name: 'quantity', type: 'integer' },
  { name: 'returned', type: 'integer' },
  { name: 'sku', type: 'text' },
  { name: 'created_at', type: 'timestamptz' },
] as const;

const ROW_CHECKS: CheckSpec[] = [
  check.notNull(['customer_id', 'email']),
  check.acceptedValues('status', ['placed', 'shipped', 'delivered', "it's", INJECTION]),
  check.range('amount', { min: 0, max: 100, exclusiveMin: true }),
  check.range('quantity', { min: 1, max: 10 }),
  check.pattern('sku', '^RS-[0-9]+$'),
  check.rowPredicate('returned <= quantity', { name: 'returned_le_quantity' }),
  check.range('created_at', { min: '2025-01-01', max: '2026-01-05T00:00:00Z', name: 'created_in_range' }),
];

const orders = (checks: readonly CheckSpec[], extra: { slo?: { defectFree: number; window: '28d' }; name?: string } = {}) =>
  testProduct({ columns: COLUMNS, key: ['order_id'], checks, ...extra });

const byName = (report: CheckReport, name: string): CheckResult => {
  const found = report.results.find((result) => result.name === name);
  if (!found) throw new Error(`no result ${name} in ${report.results.map((r) => r.name).join(', ')}`);
  return found;
};
const ids = (result: CheckResult) => result.sampleKeys.map((key) => key.order_id);

let server: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  server = await startTestPostgres();
  const url = await server.freshDatabase('checks');
  pool = server.pool(url);
  await pool.query(`
    create schema t;
    create table t.customers (customer_id integer primary key);
    insert into t.customers select generate_series(1, 10);
    create table t.orders (
      order_id integer primary key, customer_id integer, email text, status text, amount numeric(10,2),
      quantity integer, returned integer, sku text, created_at timestamptz
    );
    create table t."odd""table" ("odd""col" text, id integer);
    insert into t."odd""table" values (null, 1), ('x', 2);
  `);
  for (const row of ROWS) {
    await pool.query('insert into t.orders values ($1, $2, $3, $4, $5, $6, $7, $8, $9)', row);
  }
});

afterAll(async () => {
  await server?.stop();
});

describe('row-level checks in one scan', () => {
  let report: CheckReport;
  let sent: { text: string; values: unknown[] }[];

  beforeAll(async () => {
    const counting = countingPool(pool);
    report = await runChecks(counting.db, orders(ROW_CHECKS), { now: NOW });
    sent = counting.sent;
  });

  it('counts the failing rows of each check exactly', () => {
    expect(report.rows).toBe(12);
    expect(report.results.map((r) => [r.name, r.status, r.failing])).toEqual([
      ['not_null_customer_id_email', 'failed', 3],
      ['accepted_values_status', 'failed', 1],
      ['range_amount', 'failed', 3],
      ['range_quantity', 'failed', 2],
      ['pattern_sku', 'failed', 2],
      ['returned_le_quantity', 'failed', 3],
      ['created_in_range', 'failed', 1],
    ]);
  });

  it('samples the keys of failing rows, ordered by the contract key', () => {
    expect(ids(byName(report, 'not_null_customer_id_email'))).toEqual([3, 4, 6]);
    expect(ids(byName(report, 'accepted_values_status'))).toEqual([5]);
    expect(ids(byName(report, 'range_amount'))).toEqual([4, 7, 9]);
    expect(ids(byName(report, 'range_quantity'))).toEqual([7, 8]);
    expect(ids(byName(report, 'pattern_sku'))).toEqual([7, 8]);
    expect(ids(byName(report, 'returned_le_quantity'))).toEqual([6, 7, 9]);
    expect(byName(report, 'created_in_range').sampleKeys).toEqual([{ order_id: 12 }]);
  });

  it('counts a row failing several checks once in the defects', () => {
    // Rows 3, 4, 5, 6, 7, 8, 9, 12 — 15 failures in all, but 8 rows.
    expect(report.results.reduce((sum, r) => sum + r.failing, 0)).toBe(15);
    expect(report.defects).toBe(8);
    expect(report.defectFreeFraction).toBeCloseTo(1 - 8 / 12, 12);
  });

  it('sends exactly one scan statement and one sample statement', () => {
    expect(report.statements).toBe(2);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.text).toContain('count(*) as n');
    expect(sent[0]!.text.match(/from \(\nselect \* from "t"\."orders"\n\) as s/g)).toHaveLength(1);
    expect(sent[1]!.text).toContain('row_number() over (partition by v.c order by d."order_id")');
  });

  it('sends only the scan when nothing fails', async () => {
    const counting = countingPool(pool);
    const clean = await runChecks(counting.db, orders([check.notNull('order_id'), check.range('quantity', { min: 0, max: 11 })]), { now: NOW });
    expect(clean.results.map((r) => r.status)).toEqual(['passed', 'passed']);
    expect(clean.statements).toBe(1);
    expect(counting.sent).toHaveLength(1);
    expect(clean.defects).toBe(0);
    expect(clean.defectFreeFraction).toBe(1);
  });

  it('agrees with the textbook FILTER form of the scan', async () => {
    const product = orders(ROW_CHECKS);
    const grouped = compileScan(product, product.checks as never, [], { strategy: 'grouped' });
    const filters = compileScan(product, product.checks as never, [], { strategy: 'filters' });
    const [a] = (await pool.query(grouped.text, grouped.values)).rows;
    const [b] = (await pool.query(filters.text, filters.values)).rows;
    expect(a).toEqual(b);
    expect(b).toMatchObject({ rows: '12', defects: '8', c0: '3', c5: '3' });
  });

  it('samples the same keys in one pass as with one branch per check (the form for very many failures)', async () => {
    const product = orders(ROW_CHECKS);
    const checks = product.checks as never[];
    const onePass = compileSamples(product, checks, {}, { failing: [3, 1, 3, 2, 2, 3, 1] });
    const perBranch = compileSamples(product, checks, {}, { failing: [SAMPLE_SORT_LIMIT, 1, 1, 1, 1, 1, 1] });
    expect(onePass.text).not.toContain('union all');
    expect(perBranch.text.match(/union all/g)).toHaveLength(6);
    const a = (await pool.query(onePass.text, onePass.values)).rows;
    const b = (await pool.query(perBranch.text, perBranch.values)).rows;
    expect(a).toEqual(b);
    expect(a.filter((row) => row.c === 5).map((row) => row.key.order_id)).toEqual([6, 7, 9]);
  });

  it('fences a query source (computed once per row), not a table', async () => {
    const table_ = orders(ROW_CHECKS);
    const query = testProduct({ columns: COLUMNS, key: ['order_id'], checks: ROW_CHECKS, source: sql`select * from ${table('t.orders')}` });
    const a = compileScan(table_, table_.checks as never, []);
    const b = compileScan(query, query.checks as never, []);
    expect(a.text).not.toContain('lastmile_fence');
    expect(b.text).toContain('unnest(array[1]) as lastmile_fence');
    expect((await pool.query(b.text, b.values)).rows).toEqual((await pool.query(a.text, a.values)).rows);
  });

  it('caps samples at 5 keys, the lowest ones', async () => {
    const report = await runChecks(pool, orders([check.rowPredicate('order_id > 6', { name: 'late_ids' })]), { now: NOW });
    expect(byName(report, 'late_ids').failing).toBe(6);
    expect(ids(byName(report, 'late_ids'))).toEqual([1, 2, 3, 4, 5]);
  });

  it('uses every contract column as the key when the contract has none', async () => {
    const product = testProduct({
      columns: [
        { name: 'order_id', type: 'integer' },
        { name: 'status', type: 'text' },
      ],
      source: sql`select order_id, status from ${table('t.orders')}`,
      checks: [check.acceptedValues('status', ['placed'], { name: 'placed_only' })],
    });
    const report = await runChecks(pool, product, { now: NOW });
    expect(byName(report, 'placed_only').failing).toBe(5);
    expect(byName(report, 'placed_only').sampleKeys).toEqual([
      { order_id: 2, status: 'shipped' },
      { order_id: 3, status: 'delivered' },
      { order_id: 5, status: 'lost' },
      { order_id: 7, status: INJECTION },
      { order_id: 8, status: "it's" },
    ]);
  });
});

describe('NULL semantics', () => {
  it('lets NULL pass acceptedValues, range and pattern; only notNull catches it', async () => {
    const report = await runChecks(
      pool,
      orders([
        check.acceptedValues('status', ['placed', 'shipped', 'delivered', 'lost', "it's", INJECTION]),
        check.range('amount', { min: -1000, max: 1000 }),
        check.pattern('sku', '^[A-Za-z]{2}-'),
        check.notNull('sku'),
      ]),
      { now: NOW },
    );
    expect(report.results.map((r) => r.failing)).toEqual([0, 0, 0, 1]);
    expect(ids(byName(report, 'not_null_sku'))).toEqual([6]);
  });

  it('fails a rowPredicate that is NULL (not TRUE), and passes one that allows NULL explicitly', async () => {
    const report = await runChecks(
      pool,
      orders([
        check.rowPredicate('returned <= quantity', { name: 'strict' }),
        check.rowPredicate('returned is null or returned <= quantity', { name: 'lenient' }),
      ]),
      { now: NOW },
    );
    expect(ids(byName(report, 'strict'))).toEqual([6, 7, 9]);
    expect(ids(byName(report, 'lenient'))).toEqual([7, 9]);
  });

  it('ignores keys with a NULL in unique and values that are NULL in references', async () => {
    // Two rows have a NULL email (4, 6) and one a NULL customer (3): none of them is a duplicate or a dangling reference.
    const report = await runChecks(
      pool,
      orders([check.unique('email'), check.references('customer_id', { table: table('t.customers'), column: 'customer_id' })]),
      { now: NOW },
    );
    expect(byName(report, 'unique_email')).toMatchObject({ failing: 2, sampleKeys: [{ email: 'a@example.com' }], detail: { duplicateKeys: 1 } });
    expect(byName(report, 'references_customer_id')).toMatchObject({ failing: 1, sampleKeys: [{ order_id: 11, customer_id: 99 }] });
  });
});

describe('range bounds', () => {
  it('includes bounds by default and leaves them out when exclusive', async () => {
    const report = await runChecks(
      pool,
      orders([
        check.range('quantity', { min: 1, max: 10, name: 'inclusive' }),
        check.range('quantity', { min: 1, max: 10, exclusiveMin: true, name: 'exclusive_min' }),
        check.range('quantity', { min: 1, max: 10, exclusiveMax: true, name: 'exclusive_max' }),
        check.range('amount', { max: 100, name: 'max_only' }),
        check.range('created_at', { min: '2026-01-01', name: 'since_2026' }),
      ]),
      { now: NOW },
    );
    // quantity: 0 (row 8), 1 (rows 1, 4, 10, 11, 12), 10 (row 2), 11 (row 7)
    expect(ids(byName(report, 'inclusive'))).toEqual([7, 8]);
    expect(byName(report, 'exclusive_min').failing).toBe(7);
    expect(ids(byName(report, 'exclusive_min'))).toEqual([1, 4, 7, 8, 10]);
    expect(ids(byName(report, 'exclusive_max'))).toEqual([2, 7, 8]);
    expect(ids(byName(report, 'max_only'))).toEqual([7]);
    expect(byName(report, 'since_2026').failing).toBe(10);
  });
});

describe('values are data, never SQL', () => {
  it('passes accepted values, bounds and patterns as parameters', async () => {
    const product = orders([
      check.acceptedValues('status', ['placed', 'shipped', 'delivered', "it's", INJECTION]),
      check.pattern('email', "^[^']*@example\\.com$"),
      // A bound that tries to end the literal: Postgres reads it as a (bad) timestamp, and the check errors.
      check.range('created_at', { min: "2025-01-01'); drop table t.orders; --", severity: 'warn' }),
    ]);
    const counting = countingPool(pool);
    const report = await runChecks(counting.db, product, { now: NOW });
    // The row whose status IS the injection text passes: it is one of the accepted values.
    expect(byName(report, 'accepted_values_status').failing).toBe(1);
    expect(ids(byName(report, 'accepted_values_status'))).toEqual([5]);
    expect(byName(report, 'pattern_email').failing).toBe(0);
    expect(byName(report, 'range_created_at')).toMatchObject({ status: 'error', error: expect.stringContaining('invalid input syntax for type timestamp') });
    for (const statement of counting.sent) {
      expect(statement.text).not.toContain('drop table');
      expect(statement.text).not.toContain("it's");
    }
    expect(counting.sent[0]!.values).toContainEqual(['placed', 'shipped', 'delivered', "it's", INJECTION]);
    expect(byName(report, 'accepted_values_status').params).toContainEqual(['placed', 'shipped', 'delivered', "it's", INJECTION]);
    const { rows } = await pool.query('select count(*)::int as n from t.orders');
    expect(rows[0].n).toBe(12);
  });

  it('quotes column names through quoteIdent', async () => {
    const hand: Check = { kind: 'check', type: 'notNull', columns: ['odd"col'], name: 'odd', severity: 'block' };
    const params = new Params();
    const condition = failureCondition(hand as never, params);
    expect(condition).toBe('(s."odd""col" is null)');
    const { rows } = await pool.query(`select count(*)::int as n from t."odd""table" as s where ${condition}`);
    expect(rows[0].n).toBe(1);
  });
});

describe('checks that cannot share the scan', () => {
  const SET_CHECKS: CheckSpec[] = [
    check.unique('email'),
    check.unique(['customer_id', 'status']),
    check.references('customer_id', { table: table('t.customers'), column: 'customer_id' }),
    check.assertion(sql`select status, count(*)::int as n from source group by status having count(*) > 3`, { name: 'no_crowded_status' }),
    check.assertion(sql`select customer_id from ${table('t.customers')} where customer_id > 100`, { name: 'customers_in_range' }),
  ];

  it('measures unique, references and assertions exactly, in one extra statement', async () => {
    const counting = countingPool(pool);
    const report = await runChecks(counting.db, orders([...SET_CHECKS, check.notNull('order_id')]), { now: NOW });
    expect(report.results.map((r) => [r.name, r.status, r.failing])).toEqual([
      ['unique_email', 'failed', 2],
      ['unique_customer_id_status', 'failed', 2],
      ['references_customer_id', 'failed', 1],
      ['no_crowded_status', 'failed', 1],
      ['customers_in_range', 'passed', 0],
      ['not_null_order_id', 'passed', 0],
    ]);
    expect(byName(report, 'unique_customer_id_status')).toMatchObject({
      sampleKeys: [{ customer_id: 1, status: 'placed' }],
      detail: { duplicateKeys: 1 },
    });
    // 'placed': rows 1, 4, 9, 10, 11, 12
    expect(byName(report, 'no_crowded_status').sampleKeys).toEqual([{ status: 'placed', n: 6 }]);
    // The scan and the set-check statement; no samples (no row-level check failed).
    expect(report.statements).toBe(2);
    expect(counting.sent).toHaveLength(2);
    expect(counting.sent.filter((s) => s.text.startsWith('with\n'))).toHaveLength(1);
    // Set checks do not count as row defects.
    expect(report.defects).toBe(0);
  });

  it('samples up to 5 duplicated keys in key order', async () => {
    const report = await runChecks(pool, orders([check.unique('quantity')]), { now: NOW });
    // quantity 1: rows 1, 4, 10, 11, 12; quantity 2: rows 3, 6; 0, 3, 5, 10 and 11 once each
    expect(byName(report, 'unique_quantity')).toMatchObject({
      failing: 7,
      sampleKeys: [{ quantity: 1 }, { quantity: 2 }],
      detail: { duplicateKeys: 2 },
    });
  });
});

describe('rowCount and freshness (from the scan, no statement of their own)', () => {
  it('checks min/max and the change against the previous run', async () => {
    const product = orders([
      check.rowCount({ min: 1, max: 100, name: 'bounds' }),
      check.rowCount({ max: 11, name: 'too_many' }),
      check.rowCount({ maxChange: 0.5, name: 'stable' }),
    ]);
    const counting = countingPool(pool);
    const first = await runChecks(counting.db, product, { now: NOW, previousRowCount: 30 });
    expect(first.results.map((r) => [r.name, r.status])).toEqual([
      ['bounds', 'passed'],
      ['too_many', 'failed'],
      ['stable', 'failed'],
    ]);
    expect(byName(first, 'stable').detail).toMatchObject({ rows: 12, previousRowCount: 30, change: -0.6 });
    expect(byName(first, 'stable').message).toContain('-60.0%');
    expect(first.statements).toBe(1);
    const within = await runChecks(pool, product, { now: NOW, previousRowCount: 10 });
    expect(byName(within, 'stable').status).toBe('passed');
    const noHistory = await runChecks(pool, product, { now: NOW });
    expect(byName(noHistory, 'stable')).toMatchObject({ status: 'passed', detail: { previousRowCount: null, change: null } });
  });

  it('judges the newest value of the column against maxAge at `now`', async () => {
    const product = orders([
      check.freshness('created_at', { maxAge: '1d', name: 'day_old' }),
      check.freshness('created_at', { maxAge: '2d', name: 'two_days' }),
    ]);
    const counting = countingPool(pool);
    const report = await runChecks(counting.db, product, { now: NOW });
    // Newest: 2026-01-04 10:00 UTC, 26 h before NOW.
    expect(byName(report, 'day_old')).toMatchObject({ status: 'failed', failing: 1, detail: { ageSeconds: 26 * 3600, maxAgeSeconds: 86_400 } });
    expect(byName(report, 'two_days')).toMatchObject({ status: 'passed', failing: 0 });
    expect(report.statements).toBe(1);
  });

  it('is stale when the column has no values', async () => {
    const product = testProduct({
      columns: [{ name: 'created_at', type: 'timestamptz' }],
      source: sql`select created_at from ${table('t.orders')} where false`,
      checks: [check.freshness('created_at', { maxAge: '1d' }), check.rowCount({ min: 1 })],
    });
    const report = await runChecks(pool, product, { now: NOW });
    expect(report.rows).toBe(0);
    expect(report.defectFreeFraction).toBe(1);
    expect(report.results.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(report.results[0]!.message).toContain('no values');
  });
});

describe('blocking', () => {
  it('blocks when a block-severity check fails, not when a warn one does', async () => {
    const warnOnly = await runChecks(pool, orders([check.pattern('sku', '^RS-[0-9]+$', { severity: 'warn' })]), { now: NOW });
    expect(warnOnly.blocked).toBe(false);
    expect(warnOnly.reasons).toEqual([]);
    expect(warnOnly.warnings).toEqual(['check pattern_sku (pattern on sku) failed on 2 of 12 rows']);

    const block = await runChecks(pool, orders([check.pattern('sku', '^RS-[0-9]+$')]), { now: NOW });
    expect(block.blocked).toBe(true);
    expect(block.reasons).toEqual(['check pattern_sku (pattern on sku) failed on 2 of 12 rows']);
  });

  it('blocks when the defect-free share is below the SLO, even with warn-only checks', async () => {
    const warnings = ROW_CHECKS.map((spec) => ({ ...spec, severity: 'warn' as const }));
    const strict = await runChecks(pool, orders(warnings, { slo: { defectFree: 0.9, window: '28d' } }), { now: NOW });
    expect(strict.blocked).toBe(true);
    expect(strict.reasons).toEqual(['defect-free share 0.3333 is below the SLO of 0.9 (8 of 12 rows fail a row-level check)']);
    const lenient = await runChecks(pool, orders(warnings, { slo: { defectFree: 0.3, window: '28d' } }), { now: NOW });
    expect(lenient.blocked).toBe(false);
    expect(lenient.warnings).toHaveLength(7);
  });

  it('does not block on row defects when the product serves only valid rows', async () => {
    const product = orders([...ROW_CHECKS, check.unique('email')], { slo: { defectFree: 0.99, window: '28d' } });
    const report = await runChecks(pool, product, { now: NOW, onRowDefects: 'quarantine' });
    // The duplicate email is not a row defect: it still blocks.
    expect(report.reasons).toEqual([expect.stringMatching(/^check unique_email \(unique email\) failed: 2 rows share a key/)]);
    expect(report.warnings.filter((w) => w.endsWith('quarantined, not served'))).toHaveLength(8);
  });
});

describe('broken checks', () => {
  it('reports a check whose SQL does not plan as an error, keeps the other counts exact, and blocks', async () => {
    const product = orders([...ROW_CHECKS, check.rowPredicate('no_such_column > 0', { name: 'broken' })]);
    const report = await runChecks(pool, product, { now: NOW });
    expect(byName(report, 'broken')).toMatchObject({ status: 'error', failing: 0, error: expect.stringContaining('no_such_column') });
    expect(report.results.filter((r) => r.name !== 'broken').map((r) => r.failing)).toEqual([3, 1, 3, 2, 2, 3, 1]);
    expect(report.defects).toBe(8);
    expect(report.blocked).toBe(true);
    expect(report.reasons).toContainEqual(expect.stringMatching(/^check broken \(rowPredicate\) could not run: column "no_such_column" does not exist/));
  });

  it('finds errors that only show while running (division by zero, a regex Postgres rejects)', async () => {
    const product = orders([
      check.notNull('customer_id'),
      check.rowPredicate('100 / (quantity - quantity) > 0', { name: 'divides_by_zero', severity: 'warn' }),
      // Valid in JavaScript (so the loader accepts it), not for Postgres.
      check.pattern('sku', '(?<name>RS)', { name: 'named_group', severity: 'warn' }),
    ]);
    const report = await runChecks(pool, product, { now: NOW });
    expect(report.results.map((r) => [r.name, r.status, r.failing])).toEqual([
      ['not_null_customer_id', 'failed', 1],
      ['divides_by_zero', 'error', 0],
      ['named_group', 'error', 0],
    ]);
    expect(byName(report, 'divides_by_zero').error).toContain('division by zero');
    expect(byName(report, 'named_group').error).toContain('invalid regular expression');
    // Warn-severity errors do not block; the failing notNull does.
    expect(report.reasons).toEqual(['check not_null_customer_id (notNull customer_id) failed on 1 of 12 rows']);
    expect(report.warnings).toHaveLength(2);
  });

  it('isolates a broken assertion from the other set checks', async () => {
    const product = orders([check.unique('email'), check.assertion(sql`select nope from source`, { name: 'bad_assertion', severity: 'warn' })]);
    const report = await runChecks(pool, product, { now: NOW });
    expect(byName(report, 'unique_email')).toMatchObject({ status: 'failed', failing: 2 });
    expect(byName(report, 'bad_assertion')).toMatchObject({ status: 'error', error: expect.stringContaining('nope') });
  });

  it('throws when the source itself cannot be read', async () => {
    const product = testProduct({ columns: COLUMNS, source: table('t.missing'), checks: [check.notNull('order_id')] });
    await expect(runChecks(pool, product, { now: NOW })).rejects.toThrow(/source of product test_product cannot be read.*t\.missing/s);
  });
});

describe('quarantine and valid rows', () => {
  const product = () => orders(ROW_CHECKS);

  it('splits the source into valid rows and quarantined rows', async () => {
    const valid = validRowsQuery(product());
    const bad = quarantineQuery(product());
    const { rows: validRows } = await pool.query(valid.text, valid.values);
    const { rows: badRows } = await pool.query(bad.text, bad.values);
    expect(validRows.map((r) => r.order_id).sort((a, b) => a - b)).toEqual([1, 2, 10, 11]);
    expect(badRows.map((r) => r.key.order_id)).toEqual([3, 4, 5, 6, 7, 8, 9, 12]);
    const seven = badRows.find((r) => r.key.order_id === 7);
    expect(seven.failed_checks).toEqual(['range_amount', 'range_quantity', 'pattern_sku', 'returned_le_quantity']);
    expect(seven.row).toMatchObject({ order_id: 7, status: INJECTION, sku: 'rs-7' });
    expect(badRows.find((r) => r.key.order_id === 4).failed_checks).toEqual(['not_null_customer_id_email', 'range_amount']);
  });

  it('numbers its parameters after an offset, to be embedded in another statement', async () => {
    const valid = validRowsQuery(product(), {}, { paramOffset: 1 });
    expect(valid.text).toContain('$2');
    expect(valid.text).not.toMatch(/\$1\b/);
    const { rows } = await pool.query(`select count(*)::int as n from (${valid.text}) v where v.order_id <> $1`, [2, ...valid.values]);
    expect(rows[0].n).toBe(3);
  });

  it('writes one quarantine row per failing row and check, idempotently', async () => {
    await createMetaStore(pool).migrate();
    const insert = quarantineInsert(product(), 'run-1');
    await pool.query(insert.text, insert.values);
    const again = await pool.query(insert.text, insert.values);
    expect(again.rowCount).toBe(15);
    const { rows } = await pool.query(
      `select check_name, count(*)::int as n from lastmile.quarantine where run_id = 'run-1' group by 1 order by 1`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.check_name, r.n]))).toEqual({
      accepted_values_status: 1,
      created_in_range: 1,
      not_null_customer_id_email: 3,
      pattern_sku: 2,
      range_amount: 3,
      range_quantity: 2,
      returned_le_quantity: 3,
    });
  });
});

describe('recording', () => {
  it('maps a report to check_results rows the metadata store accepts', async () => {
    const store = createMetaStore(pool);
    await store.migrate();
    await store.startRun({ runId: 'run-record', product: 'test_product', env: 'test', trigger: 'manual' });
    const report = await runChecks(pool, orders([...ROW_CHECKS.slice(0, 2), check.unique('email'), check.freshness('created_at', { maxAge: '1d', severity: 'warn' })]), {
      now: NOW,
    });
    const recorded = await store.recordChecks('run-record', toCheckResultInputs(report));
    expect(recorded.map((r) => [r.checkName, r.kind, r.severity, r.status, r.failing])).toEqual(
      expect.arrayContaining([
        ['not_null_customer_id_email', 'not_null', 'block', 'failed', 3],
        ['accepted_values_status', 'accepted_values', 'block', 'failed', 1],
        ['unique_email', 'unique', 'block', 'failed', 2],
        ['freshness_created_at', 'freshness', 'warn', 'failed', 1],
      ]),
    );
    const accepted = recorded.find((r) => r.checkName === 'accepted_values_status')!;
    expect(accepted.sample).toMatchObject({ keys: [{ order_id: 5 }] });
    // The recorded SQL has its values written in (no $1 left), so it runs pasted as is and lists the failing rows.
    for (const result of recorded) expect(result.sql, result.checkName).not.toMatch(/\$\d/);
    expect(accepted.sql).toContain(`'{"placed",`);
    expect((await pool.query(accepted.sql!)).rows.map((r) => r.order_id)).toEqual([5]);
    const notNull = recorded.find((r) => r.checkName === 'not_null_customer_id_email')!;
    expect((await pool.query(notNull.sql!)).rows).toHaveLength(3);
    const unique = recorded.find((r) => r.checkName === 'unique_email')!;
    expect((await pool.query(unique.sql!)).rows).toEqual([expect.objectContaining({ rows: '2' })]);
  });
});

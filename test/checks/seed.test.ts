/**
 * The checks against the real example data (seedWarehouse, scale 1) and the example products in products/: the
 * seeded defects (docs/seed-data.md) are found, exactly, and clean products cost one or two statements.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, type CheckReport, type CheckResult } from '../../src/checks/index.js';
import { loadProducts, sql, table, type Product } from '../../src/index.js';
import { seedWarehouse } from '../../seed/retailer/index.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';
import { check, countingPool, testProduct } from './support.js';

/**
 * The real clock: the marts show the stored data moved to the present (docs/seed-data.md, "The clock"), so the
 * freshness checks of the example products hold on any day.
 */
const now = (): Date => new Date();

let server: TestPostgres;
let pool: pg.Pool;
let products: Map<string, Product>;

beforeAll(async () => {
  server = await startTestPostgres();
  const url = await server.freshDatabase('seeded');
  pool = server.pool(url);
  await seedWarehouse(pool, { scale: 1 });
  products = new Map((await loadProducts({ dir: 'products' })).map((product) => [product.name, product]));
});

afterAll(async () => {
  await server?.stop();
});

const byName = (report: CheckReport, name: string): CheckResult => {
  const found = report.results.find((result) => result.name === name);
  if (!found) throw new Error(`no result ${name}`);
  return found;
};

describe('the example products', () => {
  it('ad_bids: finds the runaway CMP-027 bids and the bids below the floor, and quarantines them instead of blocking', async () => {
    const counting = countingPool(pool);
    const adBids = products.get('ad_bids')!;
    expect(adBids.onDefects).toBe('quarantine');
    const report = await runChecks(counting.db, adBids, { now: now(), onRowDefects: adBids.onDefects });
    expect(report.rows).toBe(326);
    // 29 bids below 0.05 (zero-revenue keywords) and 11 above 5: CMP-027's 10 runaway bids and one of CMP-038.
    expect(byName(report, 'bid_within_limits')).toMatchObject({ status: 'failed', failing: 40 });
    const { rows } = await pool.query<{ campaign_id: string; n: number }>(`
      select r.campaign_id, count(*)::int as n from marts.ad_bid_recommendations r
      join shop.ad_campaigns c using (campaign_id) where c.active and r.bid > 5 group by 1 order by 1`);
    expect(rows).toEqual([
      { campaign_id: 'CMP-027', n: 10 },
      { campaign_id: 'CMP-038', n: 1 },
    ]);
    expect(byName(report, 'bid_within_limits').sampleKeys).toHaveLength(5);
    expect(byName(report, 'bid_within_limits').sampleKeys[0]).toEqual({ campaign_id: 'CMP-001', keyword: 'gym shorts best' });
    expect(byName(report, 'campaign_bid_total_capped')).toMatchObject({
      status: 'failed',
      failing: 1,
      sampleKeys: [{ campaign_id: 'CMP-027', total_bid: 11513.57 }],
    });
    // The bid model runs every 4 hours; its latest run is less than 4 hours old.
    expect(byName(report, 'freshness_computed_at')).toMatchObject({ status: 'passed', detail: { ageSeconds: expect.any(Number) } });
    expect(byName(report, 'freshness_computed_at').detail?.ageSeconds).toBeLessThanOrEqual(4 * 3600);
    for (const name of ['not_null_campaign_id_keyword_bid', 'unique_campaign_id_keyword', 'references_campaign_id']) {
      expect(byName(report, name).status).toBe('passed');
    }
    expect(report.defects).toBe(40);
    expect(report.blocked).toBe(false);
    expect(report.reasons).toEqual([]);
    expect(report.warnings).toEqual([
      'check bid_within_limits (range on bid) failed on 40 of 326 rows; the failing rows are quarantined, not served',
      'check campaign_bid_total_capped (assertion) failed: the query returned 1 offending row',
      'defect-free share 0.8773 is below the SLO of 0.99 (40 of 326 rows fail a row-level check); the failing rows are quarantined, not served',
    ]);
    // Without quarantine the same bids block the run.
    const blocking = await runChecks(pool, adBids, { now: now() });
    expect(blocking.blocked).toBe(true);
    expect(blocking.reasons).toEqual([
      'check bid_within_limits (range on bid) failed on 40 of 326 rows',
      'defect-free share 0.8773 is below the SLO of 0.99 (40 of 326 rows fail a row-level check)',
    ]);
    // Scan + unique/references/assertion + samples.
    expect(report.statements).toBe(3);
    expect(counting.sent).toHaveLength(3);
  });

  it('ad_bids: a bid run older than 6 h is stale', async () => {
    const { rows } = await pool.query<{ computed_at: Date; newest: string }>(
      `select max(computed_at) as computed_at, max(computed_at)::text as newest from marts.ad_bid_recommendations`,
    );
    const run = rows[0]!;
    const report = await runChecks(pool, products.get('ad_bids')!, { now: new Date(run.computed_at.getTime() + 7 * 3600_000) });
    expect(byName(report, 'freshness_computed_at')).toMatchObject({
      status: 'failed',
      detail: { newest: run.newest, ageSeconds: 7 * 3600, maxAgeSeconds: 6 * 3600 },
    });
  });

  // Rows of the marts that group by week or month depend on the day (they hold the data up to yesterday).
  it.each([
    ['lead_scores', 'select 59994 as n'], // 60,000 leads less the 6 without an email, which the source leaves out
    ['partner_invoices', 'select count(*) as n from marts.partner_invoices'],
    ['returns_by_supplier', 'select count(*) as n from marts.returns_weekly'],
    ['supplier_quality_share', 'select count(*) as n from marts.supplier_quality'],
  ])('%s passes its checks in two statements', async (name, count) => {
    const rows = Number((await pool.query<{ n: string }>(count)).rows[0]!.n);
    expect(rows).toBeGreaterThan(200);
    const counting = countingPool(pool);
    const report = await runChecks(counting.db, products.get(name)!, { now: now(), previousRowCount: rows });
    expect(report.results.filter((r) => r.status !== 'passed')).toEqual([]);
    expect(report.rows).toBe(rows);
    expect(report.defects).toBe(0);
    expect(report.blocked).toBe(false);
    // The scan, and the statement of the unique / references checks every one of them has.
    expect(report.statements).toBe(2);
    expect(counting.sent).toHaveLength(2);
  });
});

describe('the seeded wrinkles', () => {
  it('returns: 30 without a reason code, 6 over-returns', async () => {
    const product = testProduct({
      name: 'returns_checked',
      source: sql`
        select r.return_id, r.reason_code, r.quantity, l.quantity as line_quantity
        from ${table('shop.returns')} r join ${table('shop.order_lines')} l using (order_id, line_no)`,
      key: ['return_id'],
      columns: [
        { name: 'return_id', type: 'bigint' },
        { name: 'reason_code', type: 'text' },
        { name: 'quantity', type: 'integer' },
        { name: 'line_quantity', type: 'integer' },
      ],
      checks: [
        check.notNull('reason_code'),
        check.acceptedValues('reason_code', ['too_small', 'too_large', 'defect', 'color', 'changed_mind', 'late']),
        check.rowPredicate('quantity <= line_quantity', { name: 'no_over_returns' }),
        check.unique('return_id'),
        check.references('return_id', { table: table('shop.returns'), column: 'return_id' }),
      ],
    });
    const report = await runChecks(pool, product, { now: now() });
    expect(report.rows).toBe(30_864);
    const ids = (name: string) => byName(report, name).sampleKeys.map((key) => key.return_id);
    expect(byName(report, 'not_null_reason_code').failing).toBe(30);
    expect(ids('not_null_reason_code')).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(byName(report, 'accepted_values_reason_code').failing).toBe(0); // NULL is not an unknown value
    expect(byName(report, 'no_over_returns').failing).toBe(6);
    expect(ids('no_over_returns')).toEqual([2500, 7500, 12500, 17500, 22500]);
    expect(report.defects).toBe(36);
    expect(report.statements).toBe(3);
  });

  it('leads: 6 without an email, 6 messy emails, 5,101 emails shared by several leads', async () => {
    const product = testProduct({
      name: 'leads_checked',
      source: table('shop.crm_leads'),
      key: ['lead_id'],
      columns: [
        { name: 'lead_id', type: 'bigint' },
        { name: 'email', type: 'text' },
        { name: 'customer_id', type: 'bigint' },
      ],
      checks: [
        check.notNull('email'),
        check.pattern('email', '^[a-z0-9._%+-]+@[a-z0-9.-]+$', { name: 'clean_email' }),
        check.unique('email'),
        check.references('customer_id', { table: table('shop.customers'), column: 'customer_id' }),
      ],
    });
    const report = await runChecks(pool, product, { now: now() });
    expect(report.rows).toBe(60_000);
    expect(byName(report, 'not_null_email')).toMatchObject({
      failing: 6,
      sampleKeys: [{ lead_id: 10000 }, { lead_id: 20000 }, { lead_id: 30000 }, { lead_id: 40000 }, { lead_id: 50000 }],
    });
    expect(byName(report, 'clean_email')).toMatchObject({
      failing: 6,
      sampleKeys: [{ lead_id: 5000 }, { lead_id: 15000 }, { lead_id: 25000 }, { lead_id: 35000 }, { lead_id: 45000 }],
    });
    expect(byName(report, 'unique_email')).toMatchObject({ failing: 11_012, detail: { duplicateKeys: 5_101 } });
    expect(byName(report, 'unique_email').sampleKeys[0]).toEqual({ email: 'amelie.andersen10007@mail.example' });
    expect(byName(report, 'references_customer_id').failing).toBe(0);
    expect(report.defects).toBe(12);
    expect(report.defectFreeFraction).toBeCloseTo(1 - 12 / 60_000, 12);
  });

  it('suppliers: SUP-017 has no contact', async () => {
    const product = testProduct({
      name: 'suppliers_checked',
      source: table('shop.suppliers'),
      key: ['supplier_id'],
      columns: [
        { name: 'supplier_id', type: 'text' },
        { name: 'contact_email', type: 'text' },
      ],
      checks: [check.notNull('contact_email', { severity: 'warn' }), check.pattern('supplier_id', '^SUP-[0-9]{3}$')],
    });
    const report = await runChecks(pool, product, { now: now() });
    expect(byName(report, 'not_null_contact_email')).toMatchObject({ failing: 1, sampleKeys: [{ supplier_id: 'SUP-017' }] });
    expect(report.blocked).toBe(false);
    expect(report.warnings).toEqual(['check not_null_contact_email (notNull contact_email) failed on 1 of 20 rows']);
  });
});

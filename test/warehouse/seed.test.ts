import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedWarehouse, warehouseChecksum, type SeedProgress, type SeedResult } from '../../src/warehouse/seed/index.js';
import { startTestPostgres, type TestPostgres } from './support.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
});

const rowsOf = (result: SeedResult): Record<string, number> => Object.fromEntries(result.tables.map((t) => [t.name, t.rows]));

async function one<T extends pg.QueryResultRow>(pool: pg.Pool, sql: string): Promise<T> {
  const { rows } = await pool.query<T>(sql);
  if (!rows[0]) throw new Error(`no row from ${sql}`);
  return rows[0];
}

describe('seedWarehouse at scale 1', () => {
  let urlA: string;
  let first: SeedResult;
  const progress: SeedProgress[] = [];

  beforeAll(async () => {
    urlA = await server.freshDatabase('seed_a');
    const urlB = await server.freshDatabase('seed_b');
    const started = performance.now();
    first = await seedWarehouse(urlA, { scale: 1, onProgress: (p) => progress.push(p) });
    const seconds = (performance.now() - started) / 1000;
    console.log(`seed scale 1: ${seconds.toFixed(1)} s, checksum ${first.checksum}`);
    const second = await seedWarehouse(server.pool(urlB), { scale: 1 });
    expect(second.checksum).toBe(first.checksum);
    expect(second.tables).toEqual(first.tables);
  });

  it('is deterministic: two fresh databases get the same checksum and counts', () => {
    expect(first.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(first.reused).toBe(false);
    expect(first.version).toBe(1);
  });

  it('has the documented sizes', () => {
    const rows = rowsOf(first);
    expect(rows.suppliers).toBe(20);
    expect(rows.fabric_lots).toBe(300);
    expect(rows.ad_campaigns).toBe(40);
    expect(rows.orders).toBe(100_000);
    expect(rows.customers).toBe(40_000);
    expect(rows.crm_leads).toBe(60_000);
    expect(rows.order_lines! / rows.orders!).toBeGreaterThan(2.3);
    expect(rows.order_lines! / rows.orders!).toBeLessThan(2.8);
    expect(rows.returns! / rows.order_lines!).toBeGreaterThan(0.1);
    expect(rows.returns! / rows.order_lines!).toBeLessThan(0.14);
    expect(rows.defect_events).toBeGreaterThan(1500);
    expect(rows.defect_events).toBeLessThan(6000);
    expect(rows.ad_bids).toBeGreaterThan(80_000);
    expect(rows.ad_bids).toBeLessThan(150_000);
  });

  it('matches docs/seed-data.md (sizes and checksum at scale 1)', async () => {
    const doc = await readFile(new URL('../../docs/seed-data.md', import.meta.url), 'utf8');
    expect(doc).toContain(first.checksum);
    for (const { name, rows } of first.tables) {
      const line = doc.split('\n').find((l) => l.startsWith(`| ${name} |`) && /\| [\d,]+/.test(l));
      expect(line, `sizes row of ${name}`).toBeDefined();
      expect(line?.split('|')[2]?.trim().split(' ')[0]?.replace(/,/g, ''), name).toBe(String(rows));
    }
  });

  it('reports progress per table', () => {
    expect(progress.filter((p) => p.step === 'table').map((p) => p.table)).toEqual(
      expect.arrayContaining(['suppliers', 'orders', 'order_lines', 'ad_bids']),
    );
    expect(progress.at(-1)?.step).toBe('done');
  });

  it('re-seeding at the same scale is a fast no-op', async () => {
    const again = await seedWarehouse(urlA, { scale: 1 });
    expect(again.reused).toBe(true);
    expect(again.checksum).toBe(first.checksum);
    expect(again.tables).toEqual(first.tables);
    expect(again.durationMs).toBeLessThan(2000);
  });

  it('the checksum is recomputable and independent of the session time zone', async () => {
    const url = `${urlA}?options=${encodeURIComponent('-c TimeZone=America/New_York -c DateStyle=SQL,DMY')}`;
    const pool = server.pool(url, 1);
    expect((await one<{ tz: string }>(pool, "select current_setting('TimeZone') as tz")).tz).toBe('America/New_York');
    expect((await warehouseChecksum(pool)).checksum).toBe(first.checksum);
  });

  it('creates keys, foreign keys and the marts views', async () => {
    const pool = server.pool(urlA);
    const constraints = await one<{ pk: number; fk: number }>(
      pool,
      `select count(*) filter (where contype = 'p')::int as pk, count(*) filter (where contype = 'f')::int as fk
       from pg_constraint where connamespace = 'shop'::regnamespace`,
    );
    expect(constraints).toEqual({ pk: 10, fk: 8 });
    const views = await pool.query<{ table_name: string }>(
      `select table_name from information_schema.views where table_schema = 'marts' order by table_name`,
    );
    expect(views.rows.map((r) => r.table_name)).toEqual([
      'ad_bid_recommendations',
      'lead_scores',
      'partner_invoices',
      'returns_weekly',
      'supplier_quality',
    ]);
    const weekly = await one<{ weeks: number; mondays: boolean; over: number; suppliers: number }>(
      pool,
      `select count(distinct week)::int as weeks, bool_and(extract(isodow from week) = 1) as mondays,
              count(*) filter (where returns > units)::int as over, count(distinct supplier_id)::int as suppliers
       from marts.returns_weekly`,
    );
    expect(weekly).toEqual({ weeks: 52, mondays: true, over: 0, suppliers: 20 });
    const scores = await one<{ low: string; high: string }>(pool, `select min(score) as low, max(score) as high from marts.lead_scores`);
    expect(Number(scores.low)).toBeGreaterThanOrEqual(0);
    expect(Number(scores.high)).toBeLessThanOrEqual(1);
    // Every mart answers.
    for (const view of ['partner_invoices', 'supplier_quality', 'ad_bid_recommendations']) {
      expect(Number((await one<{ n: string }>(pool, `select count(*) as n from marts.${view}`)).n)).toBeGreaterThan(0);
    }
  });

  it('contains the documented data-quality wrinkles', async () => {
    const pool = server.pool(urlA);
    const w = await one<{
      null_reasons: number;
      returns: number;
      over_returns: number;
      null_lead_emails: number;
      messy_lead_emails: number;
      no_contact: string[];
      runaway_rows: number;
      other_conv_over_clicks: number;
      worst_supplier: string;
    }>(
      pool,
      `select
         (select count(*)::int from shop.returns where reason_code is null) as null_reasons,
         (select count(*)::int from shop.returns) as returns,
         (select count(*)::int from shop.returns r join shop.order_lines ol using (order_id, line_no) where r.quantity > ol.quantity) as over_returns,
         (select count(*)::int from shop.crm_leads where email is null) as null_lead_emails,
         (select count(*)::int from shop.crm_leads where email <> lower(trim(email))) as messy_lead_emails,
         (select array_agg(supplier_id) from shop.suppliers where contact_email is null) as no_contact,
         (select count(*)::int from shop.ad_bids where campaign_id = 'CMP-027' and conversions > clicks) as runaway_rows,
         (select count(*)::int from shop.ad_bids where campaign_id <> 'CMP-027' and conversions > clicks) as other_conv_over_clicks,
         (select supplier_id from marts.returns_weekly group by 1 order by sum(returns)::numeric / sum(units) desc limit 1) as worst_supplier`,
    );
    expect(w.null_reasons).toBe(Math.floor(w.returns / 1000));
    expect(w.over_returns).toBe(Math.floor((w.returns + 2500) / 5000));
    expect(w.null_lead_emails).toBe(6);
    expect(w.messy_lead_emails).toBe(6);
    expect(w.no_contact).toEqual(['SUP-017']);
    expect(w.runaway_rows).toBeGreaterThan(0);
    expect(w.other_conv_over_clicks).toBe(0);
    expect(w.worst_supplier).toBe('SUP-007');
    const bids = await one<{ runaway: string; typical: string }>(
      pool,
      `select max(bid) filter (where campaign_id = 'CMP-027') as runaway,
              percentile_cont(0.5) within group (order by bid) filter (where campaign_id <> 'CMP-027') as typical
       from marts.ad_bid_recommendations`,
    );
    expect(Number(bids.runaway)).toBeGreaterThan(50 * Number(bids.typical));
  });
});

describe('seedWarehouse at other scales', () => {
  it('reseeds when the scale changes, and scales the fact tables', async () => {
    const url = await server.freshDatabase('seed_small');
    const small = await seedWarehouse(url, { scale: 0.05 });
    expect(rowsOf(small).orders).toBe(5000);
    expect(rowsOf(small).suppliers).toBe(20);
    const bigger = await seedWarehouse(url, { scale: 0.1 });
    expect(bigger.reused).toBe(false);
    expect(rowsOf(bigger).orders).toBe(10_000);
    expect(bigger.checksum).not.toBe(small.checksum);
    const back = await seedWarehouse(url, { scale: 0.05 });
    expect(back.checksum).toBe(small.checksum);
  });

  it('concurrent seeders queue: one seeds, the other finds it done', async () => {
    const url = await server.freshDatabase('seed_race');
    const results = await Promise.all([seedWarehouse(url, { scale: 0.02 }), seedWarehouse(url, { scale: 0.02 })]);
    expect(results.map((r) => r.reused).sort()).toEqual([false, true]);
    expect(results[0]?.checksum).toBe(results[1]?.checksum);
  });

  it('with verify, rebuilds data that was changed after seeding', async () => {
    const url = await server.freshDatabase('seed_verify');
    const seeded = await seedWarehouse(url, { scale: 0.02 });
    const pool = server.pool(url);
    await pool.query(`update shop.orders set currency = 'XXX' where order_id = 1`);
    expect((await warehouseChecksum(pool)).checksum).not.toBe(seeded.checksum);
    expect((await seedWarehouse(url, { scale: 0.02 })).reused).toBe(true); // without verify: trusts shop._seed
    const verified = await seedWarehouse(url, { scale: 0.02, verify: true });
    expect(verified.reused).toBe(false);
    expect(verified.checksum).toBe(seeded.checksum);
  });

  it('refuses to replace a shop schema it did not create', async () => {
    const url = await server.freshDatabase('seed_foreign');
    const pool = server.pool(url);
    await pool.query('create schema shop; create table shop.precious (id int)');
    await expect(seedWarehouse(pool, { scale: 0.01 })).rejects.toThrow(/not created by the lastmile seeder.*force: true/);
    expect((await pool.query(`select to_regclass('shop.precious') as t`)).rows[0]).toEqual({ t: 'shop.precious' });
    const forced = await seedWarehouse(pool, { scale: 0.01, force: true });
    expect(forced.reused).toBe(false);
  });

  it('rejects a nonsensical scale', async () => {
    await expect(seedWarehouse(server.server.url, { scale: 0 })).rejects.toThrow(/scale must be a number above 0/);
    await expect(seedWarehouse(server.server.url, { scale: Number.NaN })).rejects.toThrow(/scale/);
  });
});

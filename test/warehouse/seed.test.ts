import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedWarehouse, warehouseChecksum } from '../../seed/retailer/index.js';
import type { SeedProgress, SeedResult } from '../../src/index.js';
import { startTestPostgres, type TestPostgres } from './support.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
});

const rowsOf = (result: SeedResult): Record<string, number> => Object.fromEntries(result.tables.map((t) => [t.name, t.rows]));

async function one<T extends pg.QueryResultRow>(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await pool.query<T>(sql, params);
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

  describe('the marts clock', () => {
    /** Checksum of the stored rows at scale 1 (docs/seed-data.md); the marts' clock must never change it. */
    const STORED_CHECKSUM = '27273e4f8516a0234c7a7ed7da1adacf09c9037bfa28abf749c706b6e243464e';
    const DAY_SECONDS = 86_400;
    const WEEK_SECONDS = 7 * DAY_SECONDS;

    it('the stored tables keep their checksum, whatever the marts show', async () => {
      const pool = server.pool(urlA);
      await pool.query('select count(*) from marts.returns_weekly');
      expect(first.checksum).toBe(STORED_CHECKSUM);
      expect((await warehouseChecksum(pool)).checksum).toBe(STORED_CHECKSUM);
    });

    it('the newest order week is this week or the last one, and the newest month this month or the last one', async () => {
      const pool = server.pool(urlA);
      const clock = await one<{ week_age: number; week_ahead: boolean; month_age: number; quality_age: number }>(
        pool,
        `select (select extract(epoch from now() - max(week)::timestamp at time zone 'UTC') from marts.returns_weekly)::float8 as week_age,
                (select max(week) > (now() at time zone 'UTC')::date from marts.returns_weekly) as week_ahead,
                (select extract(epoch from now() - max(invoice_month)::timestamp at time zone 'UTC') from marts.partner_invoices)::float8 as month_age,
                (select extract(epoch from now() - max(week)::timestamp at time zone 'UTC') from marts.supplier_quality)::float8 as quality_age`,
      );
      expect(clock.week_ahead).toBe(false);
      expect(clock.week_age).toBeGreaterThanOrEqual(0);
      expect(clock.week_age).toBeLessThan(14 * DAY_SECONDS);
      // Data up to yesterday: on a Monday the newest week is the last one, any other day it is this one.
      expect(clock.week_age).toBeLessThan(8 * DAY_SECONDS);
      expect(clock.quality_age).toBeLessThan(8 * DAY_SECONDS);
      expect(clock.month_age).toBeGreaterThanOrEqual(0);
      expect(clock.month_age).toBeLessThan(40 * DAY_SECONDS);
    });

    it('model stamps are the latest scheduled run: scores daily at 06:00 UTC, bids every 4 hours', async () => {
      const pool = server.pool(urlA);
      const stamps = await one<{ scores: number; scored_ok: boolean; bids: number; computed_ok: boolean; scored_hour: number; computed_hour: number }>(
        pool,
        `select (select count(distinct scored_at)::int from marts.lead_scores) as scores,
                (select bool_and(scored_at <= now() and scored_at > now() - interval '24 hours') from marts.lead_scores) as scored_ok,
                (select (extract(epoch from max(scored_at)) % 86400 / 3600)::float8 from marts.lead_scores) as scored_hour,
                (select count(distinct computed_at)::int from marts.ad_bid_recommendations) as bids,
                (select bool_and(computed_at <= now() and computed_at > now() - interval '4 hours') from marts.ad_bid_recommendations) as computed_ok,
                (select (extract(epoch from max(computed_at)) % 86400 / 3600)::float8 from marts.ad_bid_recommendations) as computed_hour`,
      );
      expect(stamps).toEqual({ scores: 1, scored_ok: true, scored_hour: 6, bids: 1, computed_ok: true, computed_hour: expect.any(Number) });
      expect(stamps.computed_hour % 4).toBe(0);
    });

    it('shifts by whole weeks: weekdays and times of day stay, weeks start on Monday, months on the 1st', async () => {
      const pool = server.pool(urlA);
      const shift = await one<{ offset_seconds: number; moved_weekday: number; moved_time: number; mondays: boolean; quality_mondays: boolean; firsts: boolean; first_week: boolean }>(
        pool,
        `select extract(epoch from marts.clock_offset())::float8 as offset_seconds,
                (select count(*)::int from shop.orders
                 where extract(isodow from (ordered_at + marts.clock_offset()) at time zone 'UTC') <> extract(isodow from ordered_at at time zone 'UTC')) as moved_weekday,
                (select count(*)::int from shop.orders
                 where ((ordered_at + marts.clock_offset()) at time zone 'UTC')::time <> (ordered_at at time zone 'UTC')::time) as moved_time,
                (select bool_and(extract(isodow from week) = 1) from marts.returns_weekly) as mondays,
                (select bool_and(extract(isodow from week) = 1) from marts.supplier_quality) as quality_mondays,
                (select bool_and(extract(day from invoice_month) = 1) from marts.partner_invoices) as firsts,
                -- The first order week (stored 2025-01-06) moved by the offset.
                (select min(week) = date '2025-01-06' + (extract(epoch from marts.clock_offset()) / 86400)::int from marts.returns_weekly) as first_week`,
      );
      expect(shift.offset_seconds % WEEK_SECONDS).toBe(0);
      expect(shift.offset_seconds).toBeGreaterThan(0); // the machine's clock is past the anchor
      expect(shift).toMatchObject({ moved_weekday: 0, moved_time: 0, mondays: true, quality_mondays: true, firsts: true, first_week: true });
    });

    it('shows the stored rows up to yesterday, moved, and nothing from the future', async () => {
      const pool = server.pool(urlA);
      const shown = await one<{ units: string; stored_units: string; invoiced: string; newest_order: number; newest_order_age: number }>(
        pool,
        `select (select sum(units)::text from marts.returns_weekly) as units,
                (select sum(ol.quantity)::text from shop.order_lines ol join shop.orders o using (order_id)
                 where o.status <> 'cancelled' and o.ordered_at < marts.clock_cutoff()) as stored_units,
                (select sum(units)::text from marts.partner_invoices) as invoiced,
                extract(epoch from (select max(ordered_at) from shop.orders where ordered_at < marts.clock_cutoff()) + marts.clock_offset()
                                   - date_trunc('day', now(), 'UTC'))::float8 as newest_order,
                extract(epoch from now() - ((select max(ordered_at) from shop.orders where ordered_at < marts.clock_cutoff()) + marts.clock_offset()))::float8 as newest_order_age`,
      );
      expect(shown.units).toBe(shown.stored_units);
      expect(shown.invoiced).toBe(shown.stored_units);
      expect(shown.newest_order).toBeLessThan(0); // before today 00:00 UTC …
      expect(shown.newest_order_age).toBeLessThan(2 * DAY_SECONDS); // … and from yesterday
    });

    it('gives the same rows in any session time zone (the shift is exact hours, not calendar days)', async () => {
      const digest = `select (select md5(string_agg(x::text, '|' order by supplier_id, week)) from marts.returns_weekly x) as weekly,
                             (select md5(string_agg(x::text, '|' order by invoice_month, supplier_id)) from marts.partner_invoices x) as invoices,
                             (select md5(string_agg(x::text, '|' order by lot_id, week)) from marts.supplier_quality x) as quality`;
      const utc = await one<Record<string, string>>(server.pool(`${urlA}?options=${encodeURIComponent('-c TimeZone=UTC')}`, 1), digest);
      for (const zone of ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe']) {
        const pool = server.pool(`${urlA}?options=${encodeURIComponent(`-c TimeZone=${zone}`)}`, 1);
        expect(await one<Record<string, string>>(pool, digest), zone).toEqual(utc);
      }
    });

    it('at a given time: offset, cutoff and model runs', async () => {
      const pool = server.pool(urlA);
      const at = async (time: string) =>
        await one<{ offset_days: number; cutoff: string; scored: string; computed: string }>(
          pool,
          `select extract(epoch from marts.clock_offset($1))::float8 / 86400 as offset_days,
                  to_char(marts.clock_cutoff($1) at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as cutoff,
                  to_char(marts.last_run(interval '24 hours', timestamptz '2026-01-05T06:00:00Z', $1) at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as scored,
                  to_char(marts.last_run(interval '4 hours', timestamptz '2026-01-05T00:00:00Z', $1) at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as computed`,
          [time],
        );
      // Before the anchor day: nothing moves, every row shows, the stamps are 06:00 on the anchor day.
      expect(await at('2025-06-01T12:00:00Z')).toEqual({ offset_days: 0, cutoff: '2026-01-05 00:00', scored: '2026-01-05 06:00', computed: '2026-01-05 06:00' });
      // The anchor day, a Monday: data up to yesterday is all the stored data.
      expect(await at('2026-01-05T23:59:59Z')).toEqual({ offset_days: 0, cutoff: '2026-01-05 00:00', scored: '2026-01-05 06:00', computed: '2026-01-05 20:00' });
      // Tuesday: the stored last week becomes this week, its Monday shows.
      expect(await at('2026-01-06T00:00:00Z')).toEqual({ offset_days: 7, cutoff: '2025-12-30 00:00', scored: '2026-01-05 06:00', computed: '2026-01-06 00:00' });
      // Saturday 2026-11-21, before the lead model's run: 46 weeks on, stored Friday 2026-01-02 is yesterday.
      expect(await at('2026-11-21T05:59:00Z')).toEqual({ offset_days: 322, cutoff: '2026-01-03 00:00', scored: '2026-11-20 06:00', computed: '2026-11-21 04:00' });
      // The next Monday: the whole stored year shows, 46 weeks on.
      expect(await at('2026-11-23T10:00:00Z')).toEqual({ offset_days: 322, cutoff: '2026-01-05 00:00', scored: '2026-11-23 06:00', computed: '2026-11-23 08:00' });
    });

    it("keeps the example products' freshness limits on every day of a year", async () => {
      const pool = server.pool(urlA);
      // Every 5 hours for 400 days from the anchor: the newest shown week, month and the model stamps, by age.
      const worst = await one<{ week: number; month: number; scored: number; computed: number; future: number }>(
        pool,
        `with times as (select timestamptz '2026-01-05T00:00:00Z' + i * interval '5 hours' as at from generate_series(0, 400 * 24 / 5) i),
         newest as (
           select t.at,
                  (select max(ordered_at) from shop.orders where status <> 'cancelled' and ordered_at < marts.clock_cutoff(t.at)) + marts.clock_offset(t.at) as ordered_at,
                  marts.last_run(interval '24 hours', timestamptz '2026-01-05T06:00:00Z', t.at) as scored_at,
                  marts.last_run(interval '4 hours', timestamptz '2026-01-05T00:00:00Z', t.at) as computed_at
           from times t
         )
         select max(extract(epoch from at - date_trunc('week', ordered_at, 'UTC')) / 86400)::float8 as week,
                max(extract(epoch from at - date_trunc('month', ordered_at, 'UTC')) / 86400)::float8 as month,
                max(extract(epoch from at - scored_at) / 3600)::float8 as scored,
                max(extract(epoch from at - computed_at) / 3600)::float8 as computed,
                count(*) filter (where ordered_at >= at or scored_at > at or computed_at > at)::int as future
         from newest`,
      );
      expect(worst.future).toBe(0);
      expect(worst.week).toBeLessThanOrEqual(8); // returns_by_supplier: freshness of week, 8d
      expect(worst.month).toBeLessThanOrEqual(40); // partner_invoices: freshness of invoice_month, 40d
      expect(worst.scored).toBeLessThan(24); // lead_scores: 26h
      expect(worst.computed).toBeLessThan(4); // ad_bids: 6h
    });
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

  it('re-applies changed marts views to a database seeded by an older lastmile, keeping the rows and what depends on the views', async () => {
    const url = await server.freshDatabase('seed_old_marts');
    const seeded = await seedWarehouse(url, { scale: 0.02 });
    const pool = server.pool(url);
    // As an older lastmile left it: a clock-less view, no fingerprint; and someone's view built on it.
    await pool.query(`
      create or replace view marts.lead_scores as
      select lead_id, email, 0.5::numeric(5, 4) as score, timestamptz '2026-01-05 06:00:00+00' as scored_at from shop.crm_leads;
      comment on schema marts is null;
      create view public.hot_leads as select lead_id, scored_at from marts.lead_scores`);
    const progress: SeedProgress[] = [];
    const again = await seedWarehouse(url, { scale: 0.02, onProgress: (p) => progress.push(p) });
    expect(again.reused).toBe(true);
    expect(again.checksum).toBe(seeded.checksum);
    expect(progress.map((p) => p.step)).toEqual(['check', 'reapply', 'reuse']);
    const stamp = await one<{ fresh: boolean; kept: boolean }>(
      pool,
      `select (select bool_and(scored_at > now() - interval '24 hours') from marts.lead_scores) as fresh,
              (select bool_and(scored_at > now() - interval '24 hours') from public.hot_leads) as kept`,
    );
    expect(stamp).toEqual({ fresh: true, kept: true });
    // Up to date now: the next start leaves the views alone.
    const third: SeedProgress[] = [];
    await seedWarehouse(url, { scale: 0.02, onProgress: (p) => third.push(p) });
    expect(third.map((p) => p.step)).toEqual(['check', 'reuse']);
  });

  it('rebuilds a database seeded when the retailer was built into lastmile (shop._seed without a seed column)', async () => {
    const url = await server.freshDatabase('seed_built_in');
    const seeded = await seedWarehouse(url, { scale: 0.02 });
    const pool = server.pool(url);
    // The record as the built-in seeder wrote it.
    await pool.query(`
      drop table shop._seed;
      create table shop._seed (version int not null, scale double precision not null, prng_seed bigint not null, checksum text not null,
                               tables jsonb not null, seeded_at timestamptz not null default now(), duration_ms int not null);
      comment on table shop._seed is 'Written by the lastmile seeder: generator version, scale and checksum of the example data.';
      insert into shop._seed (version, scale, prng_seed, checksum, tables, duration_ms) values (1, 0.02, 20260105, '${seeded.checksum}', '[]', 100)`);
    const progress: SeedProgress[] = [];
    const rebuilt = await seedWarehouse(url, { scale: 0.02, onProgress: (p) => progress.push(p) });
    expect(rebuilt).toMatchObject({ reused: false, checksum: seeded.checksum, tables: seeded.tables });
    expect(progress.find((p) => p.step === 'reset')?.message).toBe('Replacing the seed (was scale 0.02, version 1)');
    expect((await seedWarehouse(url, { scale: 0.02 })).reused).toBe(true);
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

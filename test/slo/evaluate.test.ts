/**
 * evaluateSlos against a real `lastmile` schema in embedded Postgres, with synthetic measurements: SLI and budget
 * figures, burn rates over the alert lookbacks, status transitions, and the window's edges.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/meta/migrate.js';
import { sql, type Product, type Slo } from '../../src/index.js';
import { evaluateSlos, type SloStatus } from '../../src/slo/index.js';
import { testProduct } from '../checks/support.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';

let server: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  server = await startTestPostgres();
  pool = server.pool(await server.freshDatabase('slo_evaluate'), 4);
  await migrate(pool);
});
afterAll(async () => {
  await server?.stop();
});

const NOW = new Date('2026-04-20T12:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;

interface Measurement {
  /** how long before NOW it was measured (negative: after NOW) */
  ageMs: number;
  value: number;
  good: boolean;
}

async function insert(product: string, sli: string, rows: readonly Measurement[], env = 'dev'): Promise<void> {
  await pool.query(
    `insert into lastmile.sli_measurements (product, env, sli, value, good, measured_at)
     select $1, $2, $3, v, g, t from unnest($4::float8[], $5::boolean[], $6::timestamptz[]) as r(v, g, t)`,
    [product, env, sli, rows.map((r) => r.value), rows.map((r) => r.good), rows.map((r) => new Date(NOW.getTime() - r.ageMs))],
  );
}

/** One measurement every 5 minutes over 30 days (ages 1, 6, 11, … minutes: 8640 of them, none on a lookback's edge). */
function everyFiveMinutes(bad: (ageMinutes: number) => boolean, values: { good: number; bad: number } = { good: 1, bad: 0 }): Measurement[] {
  return Array.from({ length: 8640 }, (_, k) => {
    const age = k * 5 + 1;
    const isBad = bad(age);
    return { ageMs: age * MIN, value: isBad ? values.bad : values.good, good: !isBad };
  });
}

function product(name: string, slo: Slo): Product {
  return testProduct({ name, columns: [{ name: 'id', type: 'bigint' }], checks: [], slo });
}

const LATENCY = { p95: '2s', queries: { top: sql`select 1` } } as const;

const bySlo = (statuses: SloStatus[]): Record<string, SloStatus> => Object.fromEntries(statuses.map((s) => [s.slo, s]));

describe('evaluateSlos', () => {
  it('100 availability events with 2 bad against 0.99: SLI 0.98, budget −1 (overspent), breached', async () => {
    const p = product('avail_two_bad', { availability: 0.99, window: '28d' });
    await insert(p.name, 'availability', Array.from({ length: 100 }, (_, i) => ({ ageMs: (i + 1) * 6 * 3_600_000, value: i === 40 || i === 70 ? 0 : 1, good: i !== 40 && i !== 70 })));
    const [status] = await evaluateSlos(pool, p, 'dev', NOW);
    expect(status).toMatchObject({
      product: 'avail_two_bad',
      env: 'dev',
      slo: 'availability',
      sli: 'availability',
      objective: 0.99,
      threshold: null,
      window: '28d',
      events: 100,
      good: 98,
      value: 0.98,
      budgetRemaining: -1,
      fastBurn: false,
      status: 'breached',
    });
    expect(status.current).toEqual({ value: 1, good: true, at: new Date(NOW.getTime() - 6 * 3_600_000), text: 'delivered on time' });
  });

  it('ignores measurements before the window, after now, of other envs and of other SLIs', async () => {
    const p = product('avail_edges', { availability: 0.9, window: '7d' });
    await insert(p.name, 'availability', [
      { ageMs: 7 * DAY, value: 1, good: true }, // on the window's start: inside
      { ageMs: 7 * DAY + 1000, value: 0, good: false },
      { ageMs: 30 * DAY, value: 0, good: false },
      { ageMs: -MIN, value: 0, good: false },
      { ageMs: 0, value: 1, good: true }, // at now: inside
      { ageMs: DAY, value: 1, good: true },
    ]);
    await insert(p.name, 'availability', [{ ageMs: MIN, value: 0, good: false }], 'prod');
    await insert(p.name, 'latency', [{ ageMs: MIN, value: 9000, good: false }]);
    const [status] = await evaluateSlos(pool, p, 'dev', NOW);
    expect(status).toMatchObject({ events: 3, good: 3, value: 1, budgetRemaining: 1, status: 'ok' });
    expect(status.current?.at).toEqual(NOW);
    expect(status.burnRates.every((r) => r.rate === 0)).toBe(true);
    const [prod] = await evaluateSlos(pool, p, 'prod', NOW);
    expect(prod).toMatchObject({ events: 1, good: 0, value: 0, budgetRemaining: -9, status: 'breached' });
  });

  it('defectFree is the mean of the values, not the share of good runs', async () => {
    const p = product('defects_mean', { defectFree: 0.95, window: '28d' });
    await insert(p.name, 'defect_free', [
      { ageMs: 4 * DAY, value: 1, good: true },
      { ageMs: 3 * DAY, value: 0.9, good: false },
      { ageMs: 2 * DAY, value: 0.98, good: true },
      { ageMs: 1 * DAY, value: 1, good: true },
    ]);
    const [status] = await evaluateSlos(pool, p, 'dev', NOW);
    // mean 0.97; budget 1 − 0.03 / 0.05 = 0.4 (the good share, 0.75, would have overspent it)
    expect(status).toMatchObject({ sli: 'defect_free', objective: 0.95, events: 4, good: 3, value: 0.97, budgetRemaining: 0.4, status: 'ok' });
    expect(status.current?.text).toBe('100 % defect-free');
    // A bad latest run puts it at risk; the burn over the last 6h of a 28d window sees only that run.
    await insert(p.name, 'defect_free', [{ ageMs: MIN, value: 0.982, good: false }]);
    const [later] = await evaluateSlos(pool, p, 'dev', NOW);
    expect(later.value).toBeCloseTo((1 + 0.9 + 0.98 + 1 + 0.982) / 5, 12);
    expect(later.current?.text).toBe('98.2 % defect-free');
    expect(later.status).toBe('at_risk');
    expect(later.burnRates[0]).toEqual({ lookback: '5h 36m', ms: 28 * DAY / 120, rate: 0.36 });
  });

  it('burn rates over the lookbacks of a 30-day window, and the fast-burn rule', async () => {
    const spec: Slo = { freshness: '26h', availability: 0.99, latency: LATENCY, window: '30d' };
    // The last hour was all bad for freshness and latency; availability had a burst 35–60 minutes ago that has ended.
    const p = product('burning', spec);
    await insert(p.name, 'freshness', everyFiveMinutes((age) => age < 60, { good: 3600, bad: 30 * 3600 }));
    await insert(p.name, 'latency', everyFiveMinutes((age) => age < 60, { good: 300, bad: 2500 }));
    await insert(p.name, 'availability', everyFiveMinutes((age) => age > 35 && age < 60));
    const statuses = await evaluateSlos(pool, p, 'dev', NOW);
    expect(statuses.map((s) => s.slo)).toEqual(['freshness', 'availability', 'latency']);
    const s = bySlo(statuses);

    expect(s.latency.burnRates.map((r) => r.lookback)).toEqual(['6h', '1h', '30 min', '5 min']);
    expect(s.latency.burnRates.map((r) => r.ms)).toEqual([6 * 60 * MIN, 60 * MIN, 30 * MIN, 5 * MIN]);
    // 12 of 72 bad over 6h, all bad over the shorter lookbacks; objective 0.99 → budget rate 0.01.
    expect(s.latency.burnRates.map((r) => r.rate)).toEqual([16.6666666667, 100, 100, 100]);
    expect(s.latency).toMatchObject({ events: 8640, good: 8628, value: 0.998611111111, budgetRemaining: 0.861111111111, fastBurn: true });
    expect(s.latency.status).toBe('at_risk');
    expect(s.latency.current).toMatchObject({ value: 2500, good: false, text: 'p95 2.5 s' });
    expect(s.latency.threshold).toBe('p95 ≤ 2s');

    // Freshness with the same pattern: the data is stale right now, so the promise is broken.
    expect(s.freshness).toMatchObject({ fastBurn: true, status: 'breached', threshold: '≤ 26h' });
    expect(s.freshness.current?.text).toBe('1d 6h old');

    // 5 bad in the last hour (41.7 over 1h) and 5 of 72 over 6h (6.94), but none in the last 30 minutes: no page.
    expect(s.availability.burnRates.map((r) => r.rate)).toEqual([6.94444444444, 41.6666666667, 0, 0]);
    expect(s.availability).toMatchObject({ fastBurn: false, status: 'ok' });
  });

  it('status: under a quarter of the budget left is at risk; none left is breached; no events is no data', async () => {
    const p = product('budgets', { availability: 0.99, deliverBy: '07:00 Europe/Berlin', freshness: '26h', window: '28d' });
    const runs = (bad: number, total: number): Measurement[] =>
      Array.from({ length: total }, (_, i) => ({ ageMs: (i + 1) * 20 * MIN, value: i >= total - bad ? 0 : 1, good: i < total - bad }));
    await insert(p.name, 'availability', runs(8, 1000));
    const [freshness, availability, deliverBy] = await evaluateSlos(pool, p, 'dev', NOW);
    expect(availability).toMatchObject({ value: 0.992, budgetRemaining: 0.2, status: 'at_risk', fastBurn: false });
    expect(freshness).toMatchObject({ slo: 'freshness', events: 0, good: 0, value: null, budgetRemaining: null, current: null, fastBurn: false, status: 'no_data' });
    expect(freshness.burnRates.every((r) => r.rate === 0)).toBe(true);
    expect(deliverBy).toMatchObject({ slo: 'deliverBy', sli: 'deliver_by', threshold: 'by 07:00 Europe/Berlin', status: 'no_data' });

    await insert(p.name, 'availability', [{ ageMs: 30 * DAY, value: 0, good: false }]); // outside: no change
    await insert(p.name, 'availability', [10, 11, 12].map((days) => ({ ageMs: days * DAY, value: 0, good: false })));
    const [, spent] = await evaluateSlos(pool, p, 'dev', NOW);
    // 11 bad of 1003: SLI 0.98903…, budget 1 − 0.01097 / 0.01 = −0.0967
    expect(spent).toMatchObject({ events: 1003, good: 992 });
    expect(spent.budgetRemaining).toBeCloseTo(1 - 11 / 1003 / 0.01, 9);
    expect(spent.status).toBe('breached');

    // deliverBy: met deadlines keep it ok; a late delivery on the latest deadline breaches it.
    await insert(p.name, 'deliver_by', [
      { ageMs: 3 * DAY, value: 0, good: true },
      { ageMs: 2 * DAY, value: 0, good: true },
    ]);
    expect((await evaluateSlos(pool, p, 'dev', NOW))[2]).toMatchObject({ status: 'ok', value: 1, current: { text: 'on time' } });
    await insert(p.name, 'deliver_by', [{ ageMs: DAY, value: 38 * 60, good: false }]);
    const late = (await evaluateSlos(pool, p, 'dev', NOW))[2];
    expect(late).toMatchObject({ events: 3, good: 2, status: 'breached', current: { value: 2280, good: false, text: '38 min late' } });

    // Freshness measured by the monitor: 7h 12m old and within 26h.
    await insert(p.name, 'freshness', [{ ageMs: MIN, value: 7 * 3600 + 12 * 60, good: true }]);
    const fresh = (await evaluateSlos(pool, p, 'dev', NOW))[0];
    expect(fresh).toMatchObject({ status: 'ok', value: 1, budgetRemaining: 1, current: { text: '7h 12m old', good: true } });
  });

  it('takes two statements whatever the number of SLOs, through query(text, values)', async () => {
    const p = product('statements', { freshness: '1h', availability: 0.99, defectFree: 0.9, deliverBy: '07:00 UTC', latency: LATENCY, window: '28d' });
    let statements = 0;
    const db = {
      query: (text: string, values?: unknown[]) => {
        statements += 1;
        return pool.query(text, values);
      },
    };
    const statuses = await evaluateSlos(db, p, 'dev', NOW);
    expect(statuses.map((s) => s.slo)).toEqual(['freshness', 'availability', 'defectFree', 'deliverBy', 'latency']);
    expect(statements).toBe(2);
  });

  it('a product without slo has nothing to judge', async () => {
    const p = testProduct({ name: 'no_slo', columns: [{ name: 'id', type: 'bigint' }], checks: [] });
    expect(await evaluateSlos(pool, p, 'dev', NOW)).toEqual([]);
  });
});

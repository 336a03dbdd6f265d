/**
 * The SLO monitor's evaluation as a plain function (src/slo/monitor.ts), without a worker: a real `lastmile` schema
 * in embedded Postgres, runs recorded at chosen times, and the incidents and measurements it leaves.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertStore } from '../../src/alerts/index.js';
import { createMetaStore } from '../../src/meta/index.js';
import type { Environment } from '../../src/config/spec.js';
import type { Warehouse } from '../../src/runtime/warehouse.js';
import { evaluateMonitor } from '../../src/slo/monitor.js';
import { testProduct } from '../checks/support.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';

let server: TestPostgres;
let pool: pg.Pool;
let warehouse: Warehouse;

const HOUR = 3_600_000;
const environment: Environment = { warehouse: { schemas: {} }, destinations: {}, temporal: {}, alerts: { log: true }, monitor: { interval: '5m' } };

beforeAll(async () => {
  server = await startTestPostgres();
  pool = server.pool(await server.freshDatabase('slo_monitor'), 4);
  const meta = createMetaStore(pool);
  await meta.migrate();
  warehouse = { env: 'dev', pool, meta, schemas: {}, description: 'a test database', embedded: true, close: async () => undefined };
});
afterAll(async () => {
  await server?.stop();
});

describe('evaluateMonitor', () => {
  it('data older than the freshness objective: one measurement recorded, one incident opened, its alert pending; fresh data resolves it', async () => {
    const product = testProduct({ name: 'stale_board', columns: [{ name: 'id', type: 'bigint' }], checks: [], slo: { freshness: '26h', window: '7d' } });
    const store = createAlertStore(pool);
    const now = new Date('2026-11-30T12:00:00Z');
    await warehouse.meta.startRun({ runId: 'r-old', product: product.name, env: 'dev', trigger: 'schedule', startedAt: new Date(now.getTime() - 30 * HOUR - 60_000) });
    await warehouse.meta.finishRun({ runId: 'r-old', status: 'succeeded', rows: 10, finishedAt: new Date(now.getTime() - 30 * HOUR) });

    const first = await evaluateMonitor({ product, environment, warehouse, store, since: new Date(now.getTime() - 48 * HOUR), now });
    expect(first.retired).toBe(false);
    expect(first.sleepMs).toBe(5 * 60_000);
    expect(first.pending).toEqual([expect.objectContaining({ event: 'open', channel: 'log' })]);
    const measured = await warehouse.meta.listSli({ product: product.name, env: 'dev', sli: 'freshness', limit: 5 });
    expect(measured).toHaveLength(1);
    expect(measured[0]).toMatchObject({ value: 30 * 3600, good: false });
    const open = await pool.query<{ message: string }>(`select message from lastmile.alerts where product = $1 and resolved_at is null`, [product.name]);
    expect(open.rows.map((r) => r.message)).toEqual([expect.stringMatching(/served data is 1d 6h old, over the 26h freshness objective \(last delivery 2026-11-29T06:00:00.000Z\)/)]);

    // a delivery one hour ago: the same call resolves the incident
    await warehouse.meta.startRun({ runId: 'r-new', product: product.name, env: 'dev', trigger: 'schedule', startedAt: new Date(now.getTime() - HOUR - 60_000) });
    await warehouse.meta.finishRun({ runId: 'r-new', status: 'succeeded', rows: 10, finishedAt: new Date(now.getTime() - HOUR) });
    await evaluateMonitor({ product, environment, warehouse, store, since: new Date(now.getTime() - 48 * HOUR), now });
    const still = await pool.query(`select 1 from lastmile.alerts where product = $1 and resolved_at is null`, [product.name]);
    expect(still.rowCount).toBe(0);
  });

  it('a product without SLOs retires its monitor', async () => {
    const product = testProduct({ name: 'no_slo', columns: [{ name: 'id', type: 'bigint' }], checks: [] });
    const result = await evaluateMonitor({ product, environment, warehouse, store: createAlertStore(pool), since: new Date(), now: new Date() });
    expect(result).toEqual({ retired: true, sleepMs: 0, pending: [] });
  });
});

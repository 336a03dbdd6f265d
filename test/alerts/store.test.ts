import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertStore, type AlertStore, type IncidentInput } from '../../src/alerts/index.js';
import { migrate } from '../../src/meta/migrate.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';

let server: TestPostgres;
let pool: pg.Pool;
let store: AlertStore;

beforeAll(async () => {
  server = await startTestPostgres();
  pool = server.pool(await server.freshDatabase('alert_store'), 12);
  await migrate(pool);
  store = createAlertStore(pool);
});
afterAll(async () => {
  await server?.stop();
});

const incident = (key: string, overrides: Partial<IncidentInput> = {}): IncidentInput => ({
  env: 'dev',
  product: 'ad_bids',
  kind: 'breach',
  slo: 'freshness',
  severity: 'page',
  key,
  message: 'data is 7h old (objective ≤ 6h)',
  detail: { ageHours: 7, objectiveHours: 6 },
  ...overrides,
});

const count = async (sql: string, params: unknown[]): Promise<number> => (await pool.query<{ n: number }>(`select count(*)::int as n from ${sql}`, params)).rows[0]!.n;

describe('opening incidents', () => {
  it('opens once per key: a second open returns the same alert and adds no deliveries', async () => {
    const first = await store.open(incident('dev/ad_bids/breach/freshness'), ['log', 'webhook']);
    expect(first.opened).toBe(true);
    expect(first.alert).toMatchObject({
      env: 'dev',
      product: 'ad_bids',
      kind: 'breach',
      slo: 'freshness',
      severity: 'page',
      key: 'dev/ad_bids/breach/freshness',
      message: 'data is 7h old (objective ≤ 6h)',
      resolveMessage: null,
      detail: { ageHours: 7, objectiveHours: 6 },
      resolvedAt: null,
    });
    expect(first.alert.raisedAt).toBeInstanceOf(Date);

    const second = await store.open(incident('dev/ad_bids/breach/freshness', { message: 'data is 8h old' }), ['log', 'webhook']);
    expect(second).toEqual({ alert: first.alert, opened: false });
    expect(await store.listDeliveries(first.alert.alertId)).toMatchObject([
      { event: 'open', channel: 'log', attempts: 0, deliveredAt: null, lastError: null },
      { event: 'open', channel: 'webhook', attempts: 0, deliveredAt: null, lastError: null },
    ]);
    expect(await count('lastmile.alerts where dedupe_key = $1', ['dev/ad_bids/breach/freshness'])).toBe(1);
    expect(await store.get(first.alert.alertId)).toEqual(first.alert);
  });

  it('ten concurrent opens of one key make one incident with one set of deliveries', async () => {
    const key = 'dev/lead_scores/burn/availability';
    const results = await Promise.all(Array.from({ length: 10 }, () => store.open(incident(key, { product: 'lead_scores', kind: 'burn', slo: 'availability' }), ['log'])));
    expect(results.filter((result) => result.opened)).toHaveLength(1);
    expect(new Set(results.map((result) => result.alert.alertId)).size).toBe(1);
    expect(await count('lastmile.alerts where dedupe_key = $1', [key])).toBe(1);
    expect(await count('lastmile.alert_deliveries where alert_id = $1', [results[0]!.alert.alertId])).toBe(1);
  });

  it('refuses an unknown kind or severity, naming the allowed ones', async () => {
    await expect(store.open(incident('dev/x/bad', { kind: 'outage' as never }), ['log'])).rejects.toThrow(/kind 'outage': use breach or burn or run/);
    await expect(store.open(incident('dev/x/bad', { severity: 'urgent' as never }), ['log'])).rejects.toThrow(/severity 'urgent'/);
  });
});

describe('resolving incidents', () => {
  it('adds resolve deliveries for the channels that had the open message; again is a no-op; a new open is a new incident', async () => {
    const key = 'dev/partner_invoices/run';
    const { alert } = await store.open(incident(key, { product: 'partner_invoices', kind: 'run', slo: undefined, severity: 'ticket', message: 'run failed' }), ['log']);
    expect(alert.slo).toBeNull();

    const resolved = await store.resolve(key, 'the next run succeeded', ['log', 'webhook']);
    expect(resolved).toMatchObject({ alertId: alert.alertId, resolveMessage: 'the next run succeeded' });
    expect(resolved?.resolvedAt).toBeInstanceOf(Date);
    expect((await store.listDeliveries(alert.alertId)).map((d) => `${d.event}/${d.channel}`)).toEqual(['open/log', 'resolve/log']);

    expect(await store.resolve(key, 'again', ['log'])).toBeUndefined();
    expect((await store.get(alert.alertId))?.resolveMessage).toBe('the next run succeeded');
    expect(await store.listDeliveries(alert.alertId)).toHaveLength(2);
    expect((await store.openAlerts({ product: 'partner_invoices' })).length).toBe(0);

    const again = await store.open(incident(key, { product: 'partner_invoices', kind: 'run', message: 'run failed again' }), ['log']);
    expect(again.opened).toBe(true);
    expect(again.alert.alertId).not.toBe(alert.alertId);
    expect((await store.openAlerts({ product: 'partner_invoices' })).map((a) => a.alertId)).toEqual([again.alert.alertId]);
  });

  it('resolving a key that never opened returns undefined', async () => {
    expect(await store.resolve('dev/nothing/here', 'fine', ['log'])).toBeUndefined();
  });
});

describe('deliveries', () => {
  it('lists pending deliveries by env and product, open before resolve', async () => {
    const key = 'test/returns_by_supplier/breach/freshness';
    const { alert } = await store.open(incident(key, { env: 'test', product: 'returns_by_supplier' }), ['webhook', 'log']);
    await store.resolve(key, 'fresh again', ['log', 'webhook']);
    await store.open(incident('test/other/breach/freshness', { env: 'test', product: 'other' }), ['log']);

    expect(await store.pending({ env: 'test', product: 'returns_by_supplier' })).toEqual([
      { alertId: alert.alertId, event: 'open', channel: 'log', attempts: 0 },
      { alertId: alert.alertId, event: 'open', channel: 'webhook', attempts: 0 },
      { alertId: alert.alertId, event: 'resolve', channel: 'log', attempts: 0 },
      { alertId: alert.alertId, event: 'resolve', channel: 'webhook', attempts: 0 },
    ]);
    expect((await store.pending({ env: 'test' })).map((d) => d.alertId)).toContain(alert.alertId + 1);
    expect(await store.pending({ env: 'nowhere' })).toEqual([]);
  });

  it('records failed attempts, then the delivery; a delivered row does not change again', async () => {
    const { alert } = await store.open(incident('dev/attempts/breach/freshness', { product: 'attempts' }), ['webhook']);
    const ref = { alertId: alert.alertId, event: 'open' as const, channel: 'webhook' };
    await store.markAttempt(ref, { error: 'the alert webhook (ALERT_WEBHOOK_URL) answered HTTP 503' });
    expect((await store.pending({ product: 'attempts' }))[0]?.attempts).toBe(1);
    await store.markAttempt(ref, { delivered: true });
    await store.markAttempt(ref, { delivered: true });
    await store.markAttempt(ref, { error: 'late failure' });
    const [delivery] = await store.listDeliveries(alert.alertId);
    expect(delivery).toMatchObject({ attempts: 2, lastError: null });
    expect(delivery?.deliveredAt).toBeInstanceOf(Date);
    expect(await store.pending({ product: 'attempts' })).toEqual([]);
  });

  it('refuses to record an attempt of a delivery that does not exist', async () => {
    await expect(store.markAttempt({ alertId: 999_999, event: 'open', channel: 'log' }, { delivered: true })).rejects.toThrow(
      /no delivery of the open message of alert 999999 on channel 'log'/,
    );
  });
});

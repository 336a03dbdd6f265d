/**
 * OpenLineage events of real runs, end to end: the devserver, the real worker, the embedded warehouse, and a local
 * receiver that validates every event against the OpenLineage JSON schemas. A succeeding run sends START then
 * COMPLETE under one run UUID, with the source's tables as inputs and each target's datasets (schema facets from the
 * contract) as outputs; a blocked run sends FAIL; no secret is in any event; and a receiver that is down (503, then
 * closed) gets every event later, exactly once and in order, while the runs themselves are not held up. A run left
 * running by a process that died is closed canceled by the next session and sends ABORT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineageRunId, listLineageEvents, PRODUCER, RUN_EVENT_SCHEMA_URL } from '../../src/lineage/index.js';
import { closeInterruptedRuns, recordAbortEvents } from '../../src/runtime/interrupted.js';
import { runResult, startRun } from '../../src/runtime/session.js';
import { startLineageReceiver, type LineageReceiver, type ReceivedEvent } from '../support/openlineage/receiver.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const API_KEY = 'lk-test-3f9c2b7e1d8a';
const CRM_TOKEN = 'crm-token-a1b2c3d4e5';

const config = (url: string) => `import { defineConfig, secret } from 'lastmile';
export default defineConfig({
  environments: { dev: {}, prod: { warehouse: { urlEnv: 'LINEAGE_TEST_PROD_URL' } } },
  promotion: ['dev', 'prod'],
  lineage: { url: '${url}', apiKey: secret('LINEAGE_TEST_KEY') },
});
`;

const header = `import { check, dashboard, defineProduct, files, reverseEtl, secret, share, sql, table } from 'lastmile';`;

const ORDERS = `${header}
export default defineProduct({
  name: 'orders_daily',
  version: '2.1.0',
  owner: { team: 'sales-analytics', email: 'sales@example.com' },
  domain: 'sales',
  description: 'Orders with their customer, for the daily sales review.',
  audience: 'internal',
  users: [{ who: 'sales leads', action: 'call customers whose orders dropped' }],
  source: sql\`select o.order_id, c.name as customer, o.amount from \${table('shop.orders')} o join \${table('shop.customers')} c using (customer_id)\`,
  contract: {
    key: ['order_id'],
    columns: [
      { name: 'order_id', type: 'integer', description: 'Order number', nullable: false },
      { name: 'customer', type: 'text', description: 'Customer name' },
      { name: 'amount', type: 'numeric(12,2)', description: 'Order total in EUR' },
    ],
  },
  metrics: { revenue: { sql: 'sum(amount)', description: 'Revenue in EUR' } },
  checks: [check.notNull('order_id')],
  serve: [
    files({ name: 'daily_csv', format: 'csv', to: './exchange/orders', columns: ['order_id', 'amount'] }),
    share({ name: 'partners', to: 'partners', consumers: ['acme'] }),
    dashboard({ name: 'review', schema: 'dash', objects: [{ name: 'revenue_by_customer', metrics: ['revenue'], by: ['customer'] }] }),
    reverseEtl({ name: 'crm', destination: { type: 'http', url: 'https://crm.example.com/api/orders', auth: secret('CRM_TOKEN') }, key: 'order_id', mapping: { orderId: 'order_id', total: 'amount' } }),
  ],
});
`;

const GUARDED = `${header}
export default defineProduct({
  name: 'guarded',
  version: '1.0.0',
  owner: { team: 'sales-analytics', email: 'sales@example.com' },
  domain: 'sales',
  description: 'Orders under 100 EUR; blocked when one is above.',
  audience: 'internal',
  users: [{ who: 'the test suite', action: 'asserts on what lastmile did' }],
  source: sql\`select order_id, amount from \${table('shop.orders')}\`,
  contract: { columns: [{ name: 'order_id', type: 'integer' }, { name: 'amount', type: 'numeric(12,2)' }] },
  checks: [check.range('amount', { max: 100 })],
  serve: [files({ name: 'never', format: 'csv', to: './exchange/guarded' })],
});
`;

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- events are read as the receiver parsed them
type Json = Record<string, any>;

describe('OpenLineage events of runs', () => {
  let rt: RuntimeHarness;
  let receiver: LineageReceiver;
  let password: string;
  const eventsOf = (runId: string): ReceivedEvent[] => receiver.accepted.filter((e) => (e.body.run as Json).runId === lineageRunId(runId));

  beforeAll(async () => {
    process.env.LINEAGE_TEST_KEY = API_KEY;
    process.env.CRM_TOKEN = CRM_TOKEN;
    receiver = await startLineageReceiver();
    rt = await startRuntime({
      config: config(receiver.url),
      products: { orders_daily: ORDERS, guarded: GUARDED },
      sql: `create schema shop;
            create table shop.customers (customer_id integer primary key, name text);
            create table shop.orders (order_id integer primary key, customer_id integer references shop.customers, amount numeric(12,2));
            insert into shop.customers values (1, 'Ada'), (2, 'Grace');
            insert into shop.orders values (10, 1, 40.00), (11, 2, 75.50), (12, 1, 120.00);`,
    });
    password = new URL(rt.server.urlFor('warehouse_dev')).password;
  }, 120_000);

  afterAll(async () => {
    await rt?.close();
    await receiver?.close();
    delete process.env.LINEAGE_TEST_KEY;
    delete process.env.CRM_TOKEN;
  });

  it('a succeeding run sends START then COMPLETE: one run UUID, the source tables in, every target out, schema facets from the contract', async () => {
    const summary = await runResult(await startRun(rt.session, rt.product('orders_daily')));
    expect(summary.status, summary.error).toBe('succeeded');
    const events = await until('both events', () => (eventsOf(summary.runId).length >= 2 ? eventsOf(summary.runId) : undefined));
    expect(events.map((e) => e.body.eventType)).toEqual(['START', 'COMPLETE']);
    for (const event of events) expect(event.errors, JSON.stringify(event.errors)).toEqual([]);
    const [start, complete] = events.map((e) => e.body) as [Json, Json];

    // the envelope
    expect(start.run.runId).toBe(complete.run.runId);
    expect(start.run.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(start.producer).toBe(PRODUCER);
    expect(start.schemaURL).toBe(RUN_EVENT_SCHEMA_URL);
    expect(Date.parse(start.eventTime)).toBeLessThanOrEqual(Date.parse(complete.eventTime));
    expect(start.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(start.job).toMatchObject({ namespace: 'lastmile/dev', name: 'orders_daily' });
    expect(start.job.facets.documentation.description).toBe('Orders with their customer, for the daily sales review.');
    expect(start.job.facets.ownership.owners).toEqual([{ name: 'team:sales-analytics', type: 'MAINTAINER' }]);
    expect(complete.run.facets.lastmile).toMatchObject({ runId: summary.runId, env: 'dev', product: 'orders_daily', productVersion: '2.1.0', status: 'succeeded' });
    expect(start.run.facets.lastmile.status).toBe('running');
    expect(complete.run.facets.errorMessage).toBeUndefined();

    // inputs: the source's two tables, named postgres://host:port + database.schema.table
    const port = new URL(rt.server.urlFor('warehouse_dev')).port;
    expect(complete.inputs.map((d: Json) => [d.namespace, d.name])).toEqual([
      [`postgres://127.0.0.1:${port}`, 'warehouse_dev.shop.orders'],
      [`postgres://127.0.0.1:${port}`, 'warehouse_dev.shop.customers'],
    ]);

    // outputs: the product's own dataset, then each target's in dev (its own places)
    const folder = `${rt.project.root}/.lastmile/dev/exchange/orders`;
    expect(complete.outputs.map((d: Json) => `${d.namespace} ${d.name}`)).toEqual([
      'lastmile/dev orders_daily',
      `file ${folder}`,
      `postgres://127.0.0.1:${port} warehouse_dev.partners.orders_daily__acme`,
      `postgres://127.0.0.1:${port} warehouse_dev.dash.revenue_by_customer`,
      `postgres://127.0.0.1:${port} warehouse_dev.standin.orders_daily__crm`,
    ]);
    const byName = new Map<string, Json>(complete.outputs.map((d: Json) => [d.name, d]));
    const fields = (name: string) => byName.get(name)!.facets.schema.fields;
    expect(fields('orders_daily')).toEqual([
      { name: 'order_id', type: 'integer', description: 'Order number', ordinal_position: 1 },
      { name: 'customer', type: 'text', description: 'Customer name', ordinal_position: 2 },
      { name: 'amount', type: 'numeric(12,2)', description: 'Order total in EUR', ordinal_position: 3 },
    ]);
    expect(byName.get('orders_daily')!.facets.documentation.description).toMatch(/daily sales review/);
    expect(fields(folder).map((f: Json) => f.name)).toEqual(['order_id', 'amount']);
    expect(fields('warehouse_dev.dash.revenue_by_customer')).toEqual([
      { name: 'customer', type: 'text', description: 'Customer name', ordinal_position: 1 },
      { name: 'revenue', description: 'Revenue in EUR', ordinal_position: 2 },
    ]);
    expect(fields('warehouse_dev.standin.orders_daily__crm').map((f: Json) => [f.name, f.type])).toEqual([
      ['orderId', 'integer'],
      ['total', 'numeric(12,2)'],
    ]);
    // the files target delivered: its statistics come with COMPLETE only
    expect(byName.get(folder)!.outputFacets.outputStatistics.rowCount).toBe(3);
    expect(start.outputs.every((d: Json) => d.outputFacets === undefined)).toBe(true);
    // the warehouse objects the outputs name exist
    const exists = await rt.warehouse.query(`select to_regclass('partners.orders_daily__acme')::text as share, to_regclass('dash.revenue_by_customer')::text as dash`);
    expect(exists.rows[0]).toEqual({ share: 'partners.orders_daily__acme', dash: 'dash.revenue_by_customer' });

    // the API key is the bearer token, and no secret is in any event
    for (const event of events) {
      expect(event.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(event.headers['idempotency-key']).toBe(`${start.run.runId}/${event.body.eventType}`);
      const text = JSON.stringify(event.body);
      for (const secret of [API_KEY, CRM_TOKEN, password]) expect(text).not.toContain(secret);
    }
    const outbox = await listLineageEvents(rt.warehouse, { runId: summary.runId });
    expect(outbox.map((e) => [e.eventType, e.attempts, e.deliveredAt !== null])).toEqual([
      ['START', 1, true],
      ['COMPLETE', 1, true],
    ]);
  }, 120_000);

  it('a blocked run sends FAIL with the reason', async () => {
    const summary = await runResult(await startRun(rt.session, rt.product('guarded')));
    expect(summary.status).toBe('blocked');
    const events = await until('both events', () => (eventsOf(summary.runId).length >= 2 ? eventsOf(summary.runId) : undefined));
    expect(events.map((e) => e.body.eventType)).toEqual(['START', 'FAIL']);
    for (const event of events) expect(event.errors, JSON.stringify(event.errors)).toEqual([]);
    const fail = events[1]!.body as Json;
    expect(fail.run.facets.lastmile).toMatchObject({ status: 'blocked', targets: [{ name: 'never', kind: 'files', status: 'blocked' }] });
    expect(fail.run.facets.errorMessage.message).toMatch(/blocked by checks/);
    expect(fail.outputs[1].outputFacets).toBeUndefined();
  }, 120_000);

  it('a receiver that is down (503, then closed) gets every event later: exactly once each, in order, and the runs are not held up', async () => {
    const before = receiver.accepted.length;
    receiver.unavailable = true;
    const first = await runResult(await startRun(rt.session, rt.product('orders_daily')));
    expect(first.status, first.error).toBe('succeeded');
    await until('a refused attempt', () => (receiver.refused > 0 ? true : undefined));
    // now closed altogether: connections are refused
    await receiver.stop();
    const second = await runResult(await startRun(rt.session, rt.product('guarded')));
    expect(second.status).toBe('blocked');
    const waiting = await listLineageEvents(rt.warehouse, { pending: true });
    expect(waiting.map((e) => [e.runId, e.eventType])).toEqual([
      [first.runId, 'START'],
      [first.runId, 'COMPLETE'],
      [second.runId, 'START'],
      [second.runId, 'FAIL'],
    ]);
    expect(waiting[0]!.attempts).toBeGreaterThan(0);
    expect(waiting[0]!.lastError).toMatch(/answered HTTP 503|could not be reached/);
    expect(waiting[0]!.lastError).not.toContain(API_KEY);
    expect(receiver.accepted.length).toBe(before);

    receiver.unavailable = false;
    await receiver.start();
    await until('the four events', () => (receiver.accepted.length - before >= 4 ? true : undefined), 90_000);
    // a moment more: nothing arrives twice
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const late = receiver.accepted.slice(before);
    expect(late.map((e) => [(e.body.run as Json).runId, e.body.eventType])).toEqual([
      [lineageRunId(first.runId), 'START'],
      [lineageRunId(first.runId), 'COMPLETE'],
      [lineageRunId(second.runId), 'START'],
      [lineageRunId(second.runId), 'FAIL'],
    ]);
    expect(new Set(late.map((e) => e.headers['idempotency-key'])).size).toBe(4);
    for (const event of late) expect(event.errors).toEqual([]);
    expect(await listLineageEvents(rt.warehouse, { pending: true })).toEqual([]);
  }, 180_000);

  it('a run left running by a process that died is closed canceled by the next session, and sends ABORT', async () => {
    const ghost = 'ghost-run-0001';
    await rt.session.warehouse.meta.startRun({ runId: ghost, product: 'orders_daily', env: 'dev', trigger: 'manual', productVersion: '2.1.0', workflowId: 'lastmile/dev/orders_daily/all/19700101T000000Z-ghost' });
    // what openSession does with the runs an earlier process left running
    const interrupted = await closeInterruptedRuns(rt.session.warehouse.meta, rt.session.client, 'dev');
    expect(interrupted.closed.map((c) => c.run.runId)).toEqual([ghost]);
    expect(await recordAbortEvents(rt.loaded, rt.session.warehouse, rt.session.env, interrupted.closed)).toBe(1);
    // recorded once: a second close finds nothing to add
    expect(await recordAbortEvents(rt.loaded, rt.session.warehouse, rt.session.env, interrupted.closed)).toBe(0);
    // the next run wakes the delivery, which sends the waiting ABORT too
    const next = await runResult(await startRun(rt.session, rt.product('orders_daily')));
    expect(next.status).toBe('succeeded');
    const [abort] = await until('the ABORT', () => (eventsOf(ghost).length >= 1 ? eventsOf(ghost) : undefined), 60_000);
    expect(abort!.body.eventType).toBe('ABORT');
    expect(abort!.errors, JSON.stringify(abort!.errors)).toEqual([]);
    expect((abort!.body.run as Json).facets.lastmile).toMatchObject({ status: 'canceled' });
  }, 120_000);
});

/**
 * The SLO monitor on real parts: it notices a missed delivery deadline at the deadline (not at the next run), raises
 * one alert per incident through a local webhook receiver — retried through an outage, delivered once — resolves it
 * once a delivery arrives, and keeps its history bounded by continuing as new.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { temporal } from '@temporalio/proto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMonitors } from '../../src/deploy/monitors.js';
import type { Product } from '../../src/product/model.js';
import { runResult, startRun, type Session } from '../../src/runtime/session.js';
import { monitorId } from '../../workflows/ids.js';
import { productModule } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const CONFIG = `import { defineConfig, secret } from 'lastmile';

export default defineConfig({
  environments: {
    dev: {
      alerts: { webhook: { url: secret('MONITOR_TEST_WEBHOOK'), format: 'json', timeout: '2s' } },
      monitor: { interval: '1s' },
    },
  },
  promotion: ['dev'],
});
`;

interface Received {
  at: number;
  status: number;
  key: string;
  body: { event: string; kind: string; slo: string | null; key: string; message: string; alertId: number };
}

/** A webhook receiver that answers 503 to the first `outage` requests. */
async function startReceiver(outage: number): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  let refused = 0;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const status = refused < outage ? 503 : 200;
      if (status === 503) refused++;
      received.push({ at: Date.now(), status, key: String(req.headers['idempotency-key']), body: JSON.parse(text) as Received['body'] });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'down for maintenance');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/lastmile?token=s3cr3t`, received, close: () => new Promise((r) => server.close(() => r())) };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const hhmmss = (date: Date): string => date.toISOString().slice(11, 19);

describe('the SLO monitor', () => {
  let rt: RuntimeHarness;
  let warehouse: pg.Pool;
  let session: Session;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let deadline: Date;
  const saved = process.env.MONITOR_TEST_WEBHOOK;
  const product = (name: string): Product => rt.product(name);

  beforeAll(async () => {
    receiver = await startReceiver(2);
    process.env.MONITOR_TEST_WEBHOOK = receiver.url;
    // The deadline is a few seconds after the monitor starts; a delivery is due (the target runs every minute).
    deadline = new Date(Math.ceil((Date.now() + 25_000) / 1000) * 1000);
    rt = await startRuntime({
      config: CONFIG,
      products: {
        late_orders: productModule({
          name: 'late_orders',
          source: "select order_id from ${table('scratch.orders')}",
          columns: [{ name: 'order_id', type: 'integer' }],
          serve: ["files({ name: 'every_minute', format: 'csv', to: './exchange/late', schedule: { cron: '* * * * *', timezone: 'UTC' } })"],
          extra: `slo: { deliverBy: '${hhmmss(deadline)} UTC', availability: 0.99, window: '30d' },`,
        }),
        watched_orders: productModule({
          name: 'watched_orders',
          source: "select order_id from ${table('scratch.orders')}",
          columns: [{ name: 'order_id', type: 'integer' }],
          extra: `slo: { freshness: '1h', window: '1d' },`,
        }),
      },
      sql: `create schema scratch; create table scratch.orders as select i as order_id from generate_series(1, 10) as i;`,
    });
    ({ warehouse, session } = rt);
  }, 120_000);

  afterAll(async () => {
    if (saved === undefined) delete process.env.MONITOR_TEST_WEBHOOK;
    else process.env.MONITOR_TEST_WEBHOOK = saved;
    await rt?.close();
    await receiver?.close();
  });

  it('notices a missed deadline at the deadline, alerts once through an outage, and resolves once on delivery', async () => {
    const started = await ensureMonitors({ client: session.client, env: 'dev', taskQueue: session.temporal.taskQueue, products: [product('late_orders')] });
    expect(started).toEqual([monitorId('dev', 'late_orders')]);
    // a second deploy joins the running monitor
    expect(await ensureMonitors({ client: session.client, env: 'dev', taskQueue: session.temporal.taskQueue, products: [product('late_orders')] })).toEqual([]);
    expect(Date.now()).toBeLessThan(deadline.getTime());

    const breach = (r: Received) => r.body.kind === 'breach' && r.body.slo === 'deliver_by';
    const opened = await until('the breach alert', () => receiver.received.find((r) => breach(r) && r.body.event === 'open' && r.status === 200));
    // judged at the deadline itself
    const judged = await warehouse.query(`select measured_at, good from lastmile.sli_measurements where product = 'late_orders' and sli = 'deliver_by'`);
    expect(judged.rows.map((r) => [r.measured_at.toISOString(), r.good])).toEqual([[deadline.toISOString(), false]]);
    const alert = await session.warehouse.pool.query(`select raised_at from lastmile.alerts where alert_id = $1`, [opened.body.alertId]);
    expect(alert.rows[0].raised_at.getTime() - deadline.getTime()).toBeLessThan(5_000);
    expect(opened.body.message).toMatch(new RegExp(`late_orders in dev was not delivered by ${hhmmss(deadline)} UTC`));
    // the receiver was down for the first two attempts; the alert went through once it was back
    const attempts = receiver.received.filter((r) => r.key === opened.key);
    expect(attempts.map((r) => r.status)).toEqual([503, 503, 200]);

    // A late delivery resolves the incident, once.
    const summary = await runResult(await startRun(session, product('late_orders'), { trigger: 'dev' }));
    expect(summary.status).toBe('succeeded');
    const resolved = await until('the resolve message', () => receiver.received.find((r) => breach(r) && r.body.event === 'resolve' && r.status === 200));
    expect(resolved.body.alertId).toBe(opened.body.alertId);
    expect(resolved.body.message).toMatch(/late_orders in dev was delivered at .*after the \d\d:\d\d:\d\d UTC deadline/);

    // Several more evaluations later: still one open and one resolve message for this incident.
    await new Promise((r) => setTimeout(r, 3_000));
    const accepted = receiver.received.filter((r) => r.body.alertId === opened.body.alertId && r.status === 200);
    expect(accepted.map((r) => r.body.event)).toEqual(['open', 'resolve']);
    expect(new Set(receiver.received.map((r) => r.key)).size).toBe(new Set(receiver.received.filter((r) => r.status === 200).map((r) => r.key)).size);
  }, 120_000);

  it('continues as new to keep its history bounded, and goes on measuring', async () => {
    await runResult(await startRun(session, product('watched_orders'), { trigger: 'dev' }));
    const handle = await session.client.workflow.start('sloMonitor', {
      workflowId: 'bounded-monitor',
      taskQueue: session.temporal.taskQueue,
      args: [{ env: 'dev', product: 'watched_orders', since: new Date().toISOString(), historyLimit: 30 }],
    });
    const next = await until(
      'a continued run',
      async () => {
        const described = await handle.describe();
        return described.runId !== handle.firstExecutionRunId ? described : undefined;
      },
      60_000,
    );
    expect(next.status.name).toBe('RUNNING');
    const history = await session.client.workflow.getHandle('bounded-monitor', handle.firstExecutionRunId).fetchHistory();
    const events = history.events ?? [];
    expect(events.length).toBeLessThanOrEqual(70);
    expect(events.at(-1)?.eventType).toBe(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    const ticks = await warehouse.query(`select count(*)::int as n from lastmile.sli_measurements where product = 'watched_orders' and sli = 'freshness' and run_id is null`);
    expect(ticks.rows[0].n).toBeGreaterThan(3);
    await handle.terminate('test done');
  }, 120_000);
});

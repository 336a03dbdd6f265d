/**
 * The trust layer in serveProduct, on real parts (embedded Postgres, the devserver, the worker): every run checks its
 * product first; blocking failures stop it before anything is served, quarantine sets failing rows aside, and each
 * run records its checks and SLIs.
 */
import { WorkflowFailedError } from '@temporalio/client';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Product } from '../../src/product/model.js';
import { runResult, startRun, type Session } from '../../src/runtime/session.js';
import { productModule } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const ORDERS = "select order_id, customer, amount, status, placed_at from ${table('scratch.orders')}";
const COLUMNS = [
  { name: 'order_id', type: 'integer' },
  { name: 'customer', type: 'text' },
  { name: 'amount', type: 'numeric(8,2)' },
  { name: 'status', type: 'text' },
  { name: 'placed_at', type: 'timestamptz' },
];

const CLEAN = productModule({
  name: 'clean_orders',
  source: ORDERS,
  columns: COLUMNS,
  key: ['order_id'],
  extra: `checks: [
    check.notNull(['order_id', 'customer']),
    check.unique('order_id'),
    check.freshness('placed_at', { maxAge: '1d' }),
    check.rowCount({ min: 1 }),
  ],
  slo: {
    freshness: '1h',
    availability: 0.99,
    defectFree: 0.95,
    latency: { p95: '30s', samples: 3, queries: { by_customer: sql\`select customer, sum(amount) from \${table('scratch.orders')} group by customer\` } },
    window: '7d',
  },`,
});

// 8 NULL amounts (every 25th order) block; the 2 unknown statuses only warn.
const BLOCKED = productModule({
  name: 'blocked_orders',
  source: ORDERS,
  columns: COLUMNS,
  key: ['order_id'],
  extra: `checks: [
    check.notNull('amount'),
    check.acceptedValues('status', ['placed', 'shipped'], { severity: 'warn' }),
  ],
  slo: { availability: 0.99, defectFree: 0.5, window: '7d' },`,
});

// The same defects, set aside: 8 + 2 failing rows quarantined, the other 190 served.
const QUARANTINED = productModule({
  name: 'quarantined_orders',
  source: ORDERS,
  columns: COLUMNS,
  key: ['order_id'],
  extra: `onDefects: 'quarantine',
  checks: [
    check.notNull('amount'),
    check.acceptedValues('status', ['placed', 'shipped']),
  ],
  slo: { defectFree: 0.9, window: '7d' },`,
});

// Its row count may move by 10 % between runs, judged against the previous run recorded in lastmile.runs.
const STEADY = productModule({
  name: 'steady_events',
  source: "select event_id from ${table('scratch.events')}",
  columns: [{ name: 'event_id', type: 'integer' }],
  extra: `checks: [check.rowCount({ maxChange: 0.1, name: 'steady_volume' })],`,
});

// Its only target updates records a destination does not hold: every row is rejected, so no run is a delivery.
const UNSERVED = productModule({
  name: 'unserved_orders',
  source: ORDERS,
  columns: COLUMNS,
  key: ['order_id'],
  serve: ["reverseEtl({ name: 'partner_view', mode: 'update', destination: { type: 'http', url: 'https://crm.example.com/api' }, key: 'order_id', mapping: { id: 'order_id' } })"],
  extra: `checks: [check.notNull('order_id')],
  slo: { availability: 0.99, freshness: '1h', window: '7d' },`,
});

describe('checks and SLIs in every run', () => {
  let rt: RuntimeHarness;
  let warehouse: pg.Pool;
  let session: Session;
  const product = (name: string): Product => rt.product(name);

  beforeAll(async () => {
    rt = await startRuntime({
      products: { clean_orders: CLEAN, blocked_orders: BLOCKED, quarantined_orders: QUARANTINED, steady_events: STEADY, unserved_orders: UNSERVED },
      sql: `
        create schema scratch;
        create table scratch.orders as
          select i as order_id,
                 'C-' || lpad((i % 40)::text, 3, '0') as customer,
                 case when i % 25 = 0 then null else (i % 97) + 1 end::numeric(8,2) as amount,
                 case when i in (7, 77) then 'lost' else 'placed' end as status,
                 now() - i * interval '1 minute' as placed_at
          from generate_series(1, 200) as i;
        create table scratch.events as select i as event_id from generate_series(1, 100) as i;`,
    });
    ({ warehouse, session } = rt);
  }, 120_000);

  afterAll(async () => {
    await rt?.close();
  });

  it('a clean run records its checks, the defect rate and its SLIs', async () => {
    const first = await runResult(await startRun(session, product('clean_orders'), { trigger: 'dev' }));
    expect(first).toMatchObject({ status: 'succeeded', rows: 200 });
    expect(first.checks).toMatchObject({ passed: 4, failed: 0, errors: 0, defects: 0, defectFreeFraction: 1, blocked: false });
    expect(Object.keys(first.latency!.queries)).toEqual(['by_customer']);

    const run = await session.warehouse.meta.getRun(first.runId);
    expect(run).toMatchObject({ status: 'succeeded', rows: 200, defectRate: 0, reasons: [] });
    expect(run!.checks).toMatchObject({ passed: 4, failed: 0, defectFreeFraction: 1 });
    const checks = await session.warehouse.meta.listChecks(first.runId);
    expect(checks.map((c) => [c.checkName, c.status])).toEqual([
      ['freshness_placed_at', 'passed'],
      ['not_null_order_id_customer', 'passed'],
      ['row_count', 'passed'],
      ['unique_order_id', 'passed'],
    ]);

    const slis = async (runId: string) =>
      (await warehouse.query('select sli, value, good, detail from lastmile.sli_measurements where run_id = $1 order by sli', [runId])).rows;
    const measured = await slis(first.runId);
    expect(measured.map((m) => [m.sli, m.good])).toEqual([
      ['availability', true],
      ['defect_free', true],
      ['latency', true],
    ]);
    expect(measured.find((m) => m.sli === 'defect_free')!.value).toBe(1);
    expect(measured.find((m) => m.sli === 'latency')!.detail).toMatchObject({ queries: { by_customer: { samples: 3 } } });

    // The second delivery measures how old the consumers' data had become: the time since the first one.
    const second = await runResult(await startRun(session, product('clean_orders'), { trigger: 'dev' }));
    const freshness = (await slis(second.runId)).find((m) => m.sli === 'freshness');
    const gap = (Date.parse(second.finishedAt) - Date.parse(first.finishedAt)) / 1000;
    expect(freshness).toMatchObject({ good: true });
    expect(Math.abs(freshness!.value - gap)).toBeLessThan(2);
  }, 60_000);

  it('a run whose sync had its rows rejected is partial, not delivered: exit status, workflow, availability and freshness say so', async () => {
    const handle = await startRun(session, product('unserved_orders'), { trigger: 'dev' });
    const summary = await runResult(handle);
    expect(summary.status).toBe('partial');
    expect(summary.error).toMatch(/not every row was delivered: partner_view \(0 applied, 0 unchanged, 200 rejected/);
    expect(summary.targets.map((t) => [t.name, t.status])).toEqual([['partner_view', 'partial']]);
    const failure = await handle.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'LastmileRunPartial' });
    expect((await handle.describe()).status.name).toBe('FAILED');

    expect((await session.warehouse.meta.getRun(summary.runId))?.status).toBe('partial');
    const measured = (await warehouse.query('select sli, good from lastmile.sli_measurements where run_id = $1 order by sli', [summary.runId])).rows;
    expect(measured).toEqual([{ sli: 'availability', good: false }]);
    // the target's times are when it was served, not when the row was written
    const [target] = await session.warehouse.meta.listTargets(summary.runId);
    expect(target!.startedAt.getTime()).toBeLessThanOrEqual(target!.finishedAt!.getTime());
    expect(target!.startedAt.getTime()).toBeGreaterThanOrEqual(Date.parse(summary.startedAt));
  }, 60_000);

  it('a blocking check failure serves nothing: targets blocked, run blocked with reasons, workflow failed', async () => {
    const handle = await startRun(session, product('blocked_orders'), { trigger: 'dev' });
    const failure = await handle.result().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(/blocked_orders in dev was blocked: check not_null_amount .* failed on 8 of 200 rows/);
    const summary = await runResult(handle);
    expect(summary.status).toBe('blocked');
    expect(summary.targets.map((t) => t.status)).toEqual(['blocked']);
    expect(summary.latency).toBeUndefined();
    expect(summary.checks).toMatchObject({ failed: 2, defects: 10, blocked: true });
    expect(summary.checks!.warnings).toEqual([expect.stringMatching(/accepted_values_status .* 2 of 200 rows/)]);

    const run = await session.warehouse.meta.getRun(summary.runId);
    expect(run).toMatchObject({ status: 'blocked', defectRate: 0.05 });
    expect(run!.reasons).toEqual([expect.stringMatching(/not_null_amount/)]);
    const targets = await session.warehouse.meta.listTargets(summary.runId);
    expect(targets.map((t) => [t.target, t.status])).toEqual([['weekly_csv', 'blocked']]);
    const checks = await session.warehouse.meta.listChecks(summary.runId);
    const notNull = checks.find((c) => c.checkName === 'not_null_amount')!;
    expect(notNull).toMatchObject({ severity: 'block', status: 'failed', failing: 8 });
    expect((notNull.sample as { keys: unknown[] }).keys).toEqual([{ order_id: 25 }, { order_id: 50 }, { order_id: 75 }, { order_id: 100 }, { order_id: 125 }]);
    // No child workflow was started for any target of the blocked run.
    const children = [];
    for await (const w of session.client.workflow.list({ query: `WorkflowId STARTS_WITH "lastmile/dev/blocked_orders/weekly_csv"` })) children.push(w);
    expect(children).toEqual([]);
    // Not delivered: availability is bad. 95 % of the rows are clean, above the 50 % objective of this product.
    const slis = (await warehouse.query('select sli, value, good from lastmile.sli_measurements where run_id = $1 order by sli', [summary.runId])).rows;
    expect(slis).toEqual([
      { sli: 'availability', value: 0, good: false },
      { sli: 'defect_free', value: 0.95, good: true },
    ]);
  }, 60_000);

  it('quarantine: failing rows are set aside with the checks they failed, and the run serves the rest', async () => {
    const summary = await runResult(await startRun(session, product('quarantined_orders'), { trigger: 'dev' }));
    expect(summary.status).toBe('succeeded');
    expect(summary.checks).toMatchObject({ failed: 2, defects: 10, quarantined: 10, blocked: false });
    const rows = (
      await warehouse.query(
        `select check_name, (row->>'order_id')::int as order_id from lastmile.quarantine where run_id = $1 order by order_id, check_name`,
        [summary.runId],
      )
    ).rows;
    expect(rows).toEqual([
      { check_name: 'accepted_values_status', order_id: 7 },
      ...[25, 50, 75].map((id) => ({ check_name: 'not_null_amount', order_id: id })),
      { check_name: 'accepted_values_status', order_id: 77 },
      ...[100, 125, 150, 175, 200].map((id) => ({ check_name: 'not_null_amount', order_id: id })),
    ]);
    const served = await session.context.servedQuery('quarantined_orders', 'dev');
    const count = await warehouse.query({ text: `select count(*)::int as n from (${served.text}) s`, values: served.values as unknown[] });
    expect(count.rows[0].n).toBe(190);
  }, 60_000);

  it('rowCount maxChange compares with the previous run of the product', async () => {
    const first = await runResult(await startRun(session, product('steady_events'), { trigger: 'dev' }));
    expect(first).toMatchObject({ status: 'succeeded', rows: 100 });
    await warehouse.query('insert into scratch.events select i from generate_series(101, 105) as i');
    const second = await runResult(await startRun(session, product('steady_events'), { trigger: 'dev' }));
    expect(second).toMatchObject({ status: 'succeeded', rows: 105 });
    await warehouse.query('insert into scratch.events select i from generate_series(106, 130) as i');
    const third = await runResult(await startRun(session, product('steady_events'), { trigger: 'dev' }));
    expect(third).toMatchObject({ status: 'blocked', rows: 130 });
    const checks = await session.warehouse.meta.listChecks(third.runId);
    expect(checks).toEqual([expect.objectContaining({ checkName: 'steady_volume', status: 'failed' })]);
    expect((checks[0]!.sample as { detail: unknown }).detail).toMatchObject({ rows: 130, previousRowCount: 105 });
  }, 60_000);
});

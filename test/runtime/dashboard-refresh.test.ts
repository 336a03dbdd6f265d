/**
 * The dashboard serving kind through serveProduct, on real parts: objects refreshed in dependency order with
 * independent ones in parallel, BI tools told (a webhook, Metabase, an asynchronous refresh on a local server), the
 * dashboard's queries timed into the latency SLI and the data's age into the freshness SLI; a failing refresh that
 * leaves the previous data serving; and a worker killed while the workflow waits for an asynchronous refresh.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runResult, startRun, type Session } from '../../src/runtime/session.js';
import type { ObjectRefreshed } from '../../workflows/types.js';
import { startBiServer, type BiServer } from '../support/bi-server.js';
import { killStrays, productModule, spawnCli } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const TOKEN = 'tok-4f1e9a7c2b';
const API_KEY = 'mb-key-83d2e1';

/** A product whose dashboard has two slow independent objects, objects built from them, and every BI tool kind. */
function salesBoard(bi: string, name = 'sales_board', schema = 'dashboards'): string {
  return productModule({
    name,
    source: "select id, region, day, amount, divisor from ${table('scratch.sales')}",
    columns: [
      { name: 'id', type: 'integer' },
      { name: 'region', type: 'text' },
      { name: 'day', type: 'date' },
      { name: 'amount', type: 'numeric(12,2)' },
      { name: 'divisor', type: 'integer' },
    ],
    key: ['id'],
    extra: `metrics: { total_amount: { sql: 'sum(amount)' }, orders: { sql: 'count(*)' } },
  slo: { freshness: '3d', latency: { p95: '5s' }, window: '7d' },`,
    serve: [
      `dashboard({
        name: 'board',
        schema: '${schema}',
        objects: [
          { name: 'by_region_day', metrics: ['total_amount', 'orders'], by: ['region', 'day'] },
          { name: 'slow_regions', sql: sql\`select region, sum(amount) / min(divisor) as amount from \${table('scratch.sales')}, pg_sleep(1.5) group by region\`, uniqueKey: ['region'] },
          { name: 'slow_days', sql: sql\`select day, sum(amount) as amount from \${table('scratch.sales')}, pg_sleep(1.5) group by day\`, uniqueKey: ['day'] },
          { name: 'combined', sql: sql\`select (select sum(amount) from \${table('${schema}.slow_regions')}) as by_region, (select sum(amount) from \${table('${schema}.slow_days')}) as by_day\`, refresh: 'swap' },
          { name: 'daily', sql: sql\`select day, sum(total_amount) as total, sum(orders) as orders from \${table('${schema}.by_region_day')} group by day\`, uniqueKey: ['day'] },
        ],
        bi: [${bi}],
        queries: {
          top_days: sql\`select day, total from \${table('${schema}.daily')} order by total desc limit 5\`,
          one_region: sql\`select day, total_amount from \${table('${schema}.by_region_day')} where region = 'north' order by day\`,
        },
        samples: 3,
        freshness: { object: 'by_region_day', column: 'day' },
      })`,
    ],
  }).replace('import { check,', 'import { secret, check,');
}

const SALES_SQL = `
  create schema scratch;
  create table scratch.sales as
    select i as id, (array['north', 'south', 'east'])[1 + i % 3] as region, current_date - (i % 10) as day,
           (i * 1.5)::numeric(12,2) as amount, 1 as divisor
    from generate_series(1, 3000) as i;`;

function biTools(bi: BiServer): string {
  return `{ tool: 'webhook', url: '${bi.url}/hook', token: secret('DASH_TEST_TOKEN') },
          { tool: 'metabase', url: '${bi.url}', apiKey: secret('DASH_TEST_MB_KEY'), dashboards: [4], cards: [12, 13] },
          { tool: 'asyncRefresh', name: 'powerbi', url: '${bi.url}/refreshes', token: secret('DASH_TEST_TOKEN'), pollEvery: '1s', maxWait: '90s' }`;
}

const saved = { token: process.env.DASH_TEST_TOKEN, key: process.env.DASH_TEST_MB_KEY };
function setSecrets(): void {
  process.env.DASH_TEST_TOKEN = TOKEN;
  process.env.DASH_TEST_MB_KEY = API_KEY;
}
function restoreSecrets(): void {
  for (const [name, value] of [['DASH_TEST_TOKEN', saved.token], ['DASH_TEST_MB_KEY', saved.key]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/** The objects a run refreshed, from the activity results recorded in its dashboard child workflow's history. */
async function refreshedObjects(rt: RuntimeHarness, runWorkflowId: string): Promise<ObjectRefreshed[]> {
  const childId = `${runWorkflowId.replace('/all/', '/board/')}/dashboard`;
  const history = await rt.session.client.workflow.getHandle(childId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Map<string, string>();
  for (const event of events) {
    const attrs = event.activityTaskScheduledEventAttributes;
    if (attrs?.activityType?.name) scheduled.set(String(event.eventId), attrs.activityType.name);
  }
  return events.flatMap((event) => {
    const done = event.activityTaskCompletedEventAttributes;
    if (!done || scheduled.get(String(done.scheduledEventId)) !== 'refreshDashboardObject') return [];
    return [defaultPayloadConverter.fromPayload<ObjectRefreshed>(done.result!.payloads![0]!)];
  });
}

describe('dashboard targets', () => {
  let rt: RuntimeHarness;
  let warehouse: pg.Pool;
  let session: Session;
  let bi: BiServer;
  let slowBi: BiServer;

  beforeAll(async () => {
    setSecrets();
    bi = await startBiServer({ token: TOKEN, apiKey: API_KEY, refreshMs: 1500 });
    slowBi = await startBiServer({ token: TOKEN, refreshMs: 600_000 });
    rt = await startRuntime({
      // dev is not production: it calls a BI tool only where its destinations map the tool's URL (here, to itself)
      config: `import { defineConfig } from 'lastmile';
export default defineConfig({
  environments: { dev: { destinations: { '${bi.url}': '${bi.url}', '${slowBi.url}': '${slowBi.url}' } }, prod: {} },
  promotion: ['dev', 'prod'],
});
`,
      products: {
        sales_board: salesBoard(biTools(bi)),
        slow_board: salesBoard(`{ tool: 'asyncRefresh', name: 'tableau', url: '${slowBi.url}/refreshes', token: secret('DASH_TEST_TOKEN'), pollEvery: '1s', maxWait: '3s' }`, 'slow_board', 'dash_slow'),
      },
      sql: SALES_SQL,
    });
    ({ warehouse, session } = rt);
  }, 120_000);

  afterAll(async () => {
    await rt?.close();
    await bi?.close();
    await slowBi?.close();
    restoreSecrets();
  });

  it('refreshes the objects in dependency order, independent ones in parallel, then tells the BI tools and records the SLIs', async () => {
    const summary = await runResult(await startRun(session, rt.product('sales_board')));
    expect(summary.status, summary.error).toBe('succeeded');
    const board = summary.targets.find((t) => t.name === 'board')!;
    expect(board.status).toBe('succeeded');
    expect(board.detail).toMatch(/dashboards\.by_region_day \(created, 30 rows/);
    expect(board.detail).toMatch(/powerbi: refresh done \(Completed\)/);

    // order and parallelism, from the activity results in the child workflow's history
    const objects = await refreshedObjects(rt, summary.workflowId);
    const at = (name: string) => objects.find((o) => o.name === name)!;
    const span = (name: string) => [Date.parse(at(name).startedAt), Date.parse(at(name).finishedAt)] as const;
    const [regionsStart, regionsEnd] = span('slow_regions');
    const [daysStart, daysEnd] = span('slow_days');
    expect(regionsEnd - regionsStart).toBeGreaterThanOrEqual(1400);
    // the two slow objects ran at the same time…
    expect(Math.max(regionsStart, daysStart)).toBeLessThan(Math.min(regionsEnd, daysEnd));
    // …and what reads them started only after both were done
    expect(span('combined')[0]).toBeGreaterThanOrEqual(Math.max(regionsEnd, daysEnd));
    expect(span('daily')[0]).toBeGreaterThanOrEqual(span('by_region_day')[1]);

    // the objects hold the source's numbers
    const expected = await warehouse.query(`select sum(amount)::text as total from scratch.sales`);
    const combined = await warehouse.query(`select by_region::numeric(14,2)::text as by_region, by_day::numeric(14,2)::text as by_day from dashboards.combined`);
    expect(combined.rows[0]).toEqual({ by_region: expected.rows[0].total, by_day: expected.rows[0].total });
    const kinds = await warehouse.query(
      `select c.relname, c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'dashboards' and c.relkind in ('r', 'm') order by 1`,
    );
    expect(kinds.rows).toEqual([
      { relname: 'by_region_day', relkind: 'm' },
      { relname: 'combined', relkind: 'r' },
      { relname: 'daily', relkind: 'm' },
      { relname: 'slow_days', relkind: 'm' },
      { relname: 'slow_regions', relkind: 'm' },
    ]);

    // the BI tools, told after the refresh, each with its credentials
    const hook = bi.requests.find((r) => r.path === '/hook')!;
    expect(hook.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(hook.headers['idempotency-key']).toBe(`${summary.runId}/board/webhook`);
    expect(hook.body).toMatchObject({ event: 'dashboard.refreshed', product: 'sales_board', env: 'dev', target: 'board', runId: summary.runId });
    expect((hook.body as { objects: string[] }).objects).toContain('dashboards.combined');
    const metabase = bi.requests.find((r) => r.path === '/api/cache/invalidate')!;
    expect(metabase.headers['x-api-key']).toBe(API_KEY);
    expect(metabase.query).toEqual({ dashboard: ['4'], question: ['12', '13'] });
    expect(bi.requests.filter((r) => r.method === 'POST' && r.path === '/refreshes')).toHaveLength(1);
    expect(bi.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/refreshes/')).length).toBeGreaterThanOrEqual(1);

    // SLIs: latency from the dashboard's queries, freshness from the newest day
    const slis = await warehouse.query(`select sli, value, good, detail from lastmile.sli_measurements where run_id = $1 order by sli`, [summary.runId]);
    const latency = slis.rows.find((r) => r.sli === 'latency')!;
    expect(Object.keys(latency.detail.queries).sort()).toEqual(['one_region', 'top_days']);
    expect(latency.detail.queries.top_days.samples).toBe(3);
    expect(latency.good).toBe(true);
    expect(summary.latency?.queries.top_days?.p95Ms).toBe(latency.detail.queries.top_days.p95Ms);
    const freshness = slis.rows.find((r) => r.sli === 'freshness')!;
    const newest = await warehouse.query(`select max(day)::timestamptz as newest from scratch.sales`);
    expect(freshness.detail).toMatchObject({ object: 'by_region_day', column: 'day', target: 'board', newest: (newest.rows[0].newest as Date).toISOString() });
    expect(freshness.value).toBeGreaterThanOrEqual(0);
    expect(freshness.value).toBeLessThan(2 * 86_400);

    // between runs, the SLO monitor ages the same data from its newest day, not from the delivery
    const deadline = Date.now() + 20_000;
    let between: { detail: { newest?: string; by?: string } }[] = [];
    while (between.length === 0 && Date.now() < deadline) {
      between = (await warehouse.query(`select detail from lastmile.sli_measurements where product = 'sales_board' and sli = 'freshness' and run_id is null`)).rows;
      if (between.length === 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(between[0]?.detail).toMatchObject({ by: 'monitor', newest: (newest.rows[0].newest as Date).toISOString() });
  }, 120_000);

  it('a second run refreshes the views in place and the objects follow the source', async () => {
    await warehouse.query(`update scratch.sales set amount = amount + 1 where region = 'north'`);
    const summary = await runResult(await startRun(session, rt.product('sales_board')));
    expect(summary.status, summary.error).toBe('succeeded');
    const objects = await refreshedObjects(rt, summary.workflowId);
    expect(Object.fromEntries(objects.map((o) => [o.name, o.action]))).toEqual({
      by_region_day: 'refreshed',
      slow_regions: 'refreshed',
      slow_days: 'refreshed',
      combined: 'rebuilt',
      daily: 'refreshed',
    });
    const check = await warehouse.query(
      `select (select sum(total_amount) from dashboards.by_region_day where region = 'north')::text as view,
              (select sum(amount) from scratch.sales where region = 'north')::text as source`,
    );
    expect(check.rows[0].view).toBe(check.rows[0].source);
  }, 120_000);

  it('a failing refresh fails the run with the SQL error, keeps the previous data serving, and raises an alert', async () => {
    const before = await warehouse.query(`select region, amount::text from dashboards.slow_regions order by region`);
    await warehouse.query(`update scratch.sales set divisor = 0 where id = 7`);
    try {
      const summary = await runResult(await startRun(session, rt.product('sales_board')));
      expect(summary.status).toBe('failed');
      expect(summary.error).toMatch(/target board failed: refreshing dashboards\.slow_regions failed: division by zero/);
      expect(summary.error).toMatch(/not refreshed, keeping their previous data: combined/);
      expect((await warehouse.query(`select region, amount::text from dashboards.slow_regions order by region`)).rows).toEqual(before.rows);
      // the SLO monitor opens a run incident for the failed run
      const deadline = Date.now() + 20_000;
      let alerts: { message: string }[] = [];
      while (Date.now() < deadline) {
        alerts = (await warehouse.query(`select message from lastmile.alerts where product = 'sales_board' and kind = 'run' and resolved_at is null`)).rows;
        if (alerts.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.message).toMatch(/division by zero/);
    } finally {
      await warehouse.query(`update scratch.sales set divisor = 1`);
    }
  }, 120_000);

  it('an asynchronous refresh that fails fails the target with what the tool said', async () => {
    bi.setOutcome('failed');
    try {
      const summary = await runResult(await startRun(session, rt.product('sales_board')));
      expect(summary.status).toBe('failed');
      expect(summary.error).toMatch(/powerbi: the refresh failed \(status Failed\).*ModelRefreshFailed/);
      expect(summary.error).not.toContain(TOKEN);
    } finally {
      bi.setOutcome('done');
    }
  }, 120_000);

  it('waiting for an asynchronous refresh is bounded by maxWait', async () => {
    const started = Date.now();
    const summary = await runResult(await startRun(session, rt.product('slow_board')));
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/tableau: the refresh was not done within 3 s \(last status Unknown\)/);
    expect(Date.now() - started).toBeLessThan(30_000);
    // its objects were refreshed in its own schema before the tool was asked
    expect((await warehouse.query(`select count(*)::int as n from dash_slow.by_region_day`)).rows[0].n).toBe(30);
  }, 120_000);
});

describe('a worker killed while the refresh waits for an asynchronous BI refresh', () => {
  let rt: RuntimeHarness;
  let bi: BiServer;
  const CONFIG = `import { defineConfig } from 'lastmile';
export default defineConfig({ environments: { dev: { warehouse: { urlEnv: 'DASH_WAREHOUSE_URL' } } }, promotion: ['dev'] });
`;

  beforeAll(async () => {
    setSecrets();
    bi = await startBiServer({ token: TOKEN, apiKey: API_KEY, refreshMs: 12_000 });
    rt = await startRuntime({
      config: CONFIG,
      warehouseUrlEnv: 'DASH_WAREHOUSE_URL',
      worker: false,
      products: {
        sales_board: salesBoard(`{ tool: 'asyncRefresh', name: 'powerbi', url: '${bi.url}/refreshes', token: secret('DASH_TEST_TOKEN'), pollEvery: '1s', maxWait: '2m' }`),
        stuck_board: productModule({
          name: 'stuck_board',
          source: "select id, amount from ${table('scratch.sales')}",
          columns: [
            { name: 'id', type: 'integer' },
            { name: 'amount', type: 'numeric(12,2)' },
          ],
          serve: [
            `dashboard({ name: 'board', schema: 'dash_stuck', objects: [
              { name: 'slow_total', sql: sql\`select sum(amount) as total from \${table('scratch.sales')}, pg_sleep(6)\`, refresh: 'swap' },
            ] })`,
          ],
        }),
      },
      sql: SALES_SQL,
    });
  }, 120_000);

  afterAll(async () => {
    await killStrays();
    await rt?.close();
    await bi?.close();
    restoreSecrets();
  });

  it('a new worker picks up the wait: the refresh is started once and the run succeeds', async () => {
    const env = { DASH_WAREHOUSE_URL: process.env.DASH_WAREHOUSE_URL, TEMPORAL_ADDRESS: rt.devserver.address, DASH_TEST_TOKEN: TOKEN, DASH_TEST_MB_KEY: API_KEY };
    const first = spawnCli(['worker', '--root', rt.project.root], { env });
    await first.waitFor(/worker ready for dev/, 120_000);
    const handle = await startRun(rt.session, rt.product('sales_board'));
    const polled = () => bi.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/refreshes/')).length;
    const deadline = Date.now() + 90_000;
    while (polled() < 2) {
      if (Date.now() > deadline) throw new Error(`the asynchronous refresh was never polled:\n${first.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    process.kill(-first.pid, 'SIGKILL');
    await first.exited;
    const pollsBefore = polled();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(polled()).toBe(pollsBefore); // nobody polls while no worker runs
    const second = spawnCli(['worker', '--root', rt.project.root], { env });
    try {
      const summary = await runResult(handle);
      expect(summary.status, summary.error).toBe('succeeded');
      expect(summary.targets[0]!.detail).toMatch(/powerbi: refresh done \(Completed\)/);
      expect(bi.requests.filter((r) => r.method === 'POST' && r.path === '/refreshes')).toHaveLength(1);
      expect(polled()).toBeGreaterThan(pollsBefore);
    } finally {
      await second.stop('SIGTERM', 30_000).catch(() => undefined);
    }
  }, 240_000);

  it('a worker killed in the middle of building an object: another worker builds it again, and nothing half-built is left', async () => {
    const env = { DASH_WAREHOUSE_URL: process.env.DASH_WAREHOUSE_URL, TEMPORAL_ADDRESS: rt.devserver.address };
    const first = spawnCli(['worker', '--root', rt.project.root], { env });
    await first.waitFor(/worker ready for dev/, 120_000);
    const handle = await startRun(rt.session, rt.product('stuck_board'));
    const building = async () =>
      (await rt.warehouse.query(`select count(*)::int as n from pg_stat_activity where query like '%slow_total__lm_new%' and state = 'active' and pid <> pg_backend_pid()`)).rows[0].n as number;
    const deadline = Date.now() + 90_000;
    while ((await building()) === 0) {
      if (Date.now() > deadline) throw new Error(`the object was never built:\n${first.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    process.kill(-first.pid, 'SIGKILL');
    await first.exited;
    const second = spawnCli(['worker', '--root', rt.project.root], { env });
    try {
      const summary = await runResult(handle);
      expect(summary.status, summary.error).toBe('succeeded');
      expect(summary.targets[0]!.detail).toMatch(/refreshed dash_stuck\.slow_total \(created, 1 row/);
      const total = await rt.warehouse.query(`select (select total from dash_stuck.slow_total)::text = (select sum(amount) from scratch.sales)::text as same`);
      expect(total.rows[0].same).toBe(true);
      const left = await rt.warehouse.query(`select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'dash_stuck' and c.relkind in ('r', 'm')`);
      expect(left.rows.map((r) => r.relname)).toEqual(['slow_total']);
    } finally {
      await second.stop('SIGTERM', 30_000).catch(() => undefined);
    }
  }, 240_000);
});

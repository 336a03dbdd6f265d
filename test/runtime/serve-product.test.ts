/**
 * The runtime in one process, on real parts: a project's embedded Postgres, the devserver, and `openSession` with
 * its worker. serveProduct's bookkeeping in the metadata store, the search attributes of its workflows, the
 * schedules `deploySchedules` keeps in step with the products, and the order in which Temporal is resolved.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ScheduleNotFoundError, WorkflowFailedError, type Client } from '@temporalio/client';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEnvironment } from '../../src/config/resolve.js';
import { deployContext } from '../../src/deploy/context.js';
import { deploySchedules } from '../../src/deploy/schedules.js';
import type { Product } from '../../src/product/model.js';
import { gitSha, runResult, startRun, type Project, type Session } from '../../src/runtime/session.js';
import { resolveTemporal } from '../../src/temporal/resolve.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';
import { activityAttempts, freePort, portAnswers, productModule, writeFakeTemporal, type CliProject } from '../support/cli.js';

const WIDGETS = productModule({
  name: 'widget_sales',
  version: '2.1.0',
  team: 'widget-team',
  source: "select sku, sold_on, units from ${table('scratch.widgets')}",
  columns: [
    { name: 'sku', type: 'text' },
    { name: 'sold_on', type: 'date' },
    { name: 'units', type: 'integer' },
  ],
  serve: [
    "files({ name: 'weekly_csv', format: 'csv', to: './exchange/widgets', schedule: { cron: '0 6 * * 1', timezone: 'Europe/Berlin' } })",
    "files({ name: 'partner_share', format: 'jsonl', to: './exchange/widgets-partner', schedule: { cron: '30 4 * * *', timezone: 'UTC' } })",
    "files({ name: 'adhoc_parquet', format: 'parquet', to: './exchange/widgets-adhoc' })",
  ],
});

const GADGETS = productModule({
  name: 'gadget_counts',
  team: 'gadget-team',
  source: "select sku, units from ${table('scratch.gadgets')}",
  columns: [
    { name: 'sku', type: 'text' },
    { name: 'units', type: 'integer' },
  ],
});

// A scheduled reverse ETL target.
const SHARED = productModule({
  name: 'shared_widgets',
  source: "select sku, units from ${table('scratch.gadgets')}",
  columns: [
    { name: 'sku', type: 'text' },
    { name: 'units', type: 'integer' },
  ],
  serve: ["reverseEtl({ name: 'partner_view', destination: { type: 'http', url: 'https://crm.example.com/api' }, key: 'sku', mapping: { id: 'sku' }, schedule: { cron: '30 4 * * *', timezone: 'UTC' } })"],
});

describe('the lastmile runtime', () => {
  let rt: RuntimeHarness;
  let project: CliProject;
  let warehouse: pg.Pool;
  let loaded: Project;
  let session: Session;
  let client: Client;
  let sha: string;

  const product = (name: string): Product => rt.product(name);

  beforeAll(async () => {
    rt = await startRuntime({
      products: { widget_sales: WIDGETS, gadget_counts: GADGETS, shared_widgets: SHARED },
      commit: 'widgets and gadgets',
      sql: `
        create schema scratch;
        create table scratch.widgets as
          select 'W-' || lpad(i::text, 3, '0') as sku, date '2026-01-05' + (i % 14) as sold_on, i * 3 as units
          from generate_series(1, 50) as i;
        create table scratch.gadgets as select 'G-1'::text as sku, 1 as units;
      `,
    });
    ({ project, warehouse, loaded, session } = rt);
    client = session.client;
    sha = rt.sha!;
  }, 120_000);

  afterAll(async () => {
    await rt?.close();
  });

  describe('serveProduct through a real worker', () => {
    it('records one lastmile.runs row (version, git SHA, rows) and one target_runs row per target', async () => {
      expect(gitSha(project.root)).toBe(sha);
      expect(loaded.gitSha).toBe(sha);
      const handle = await startRun(session, product('widget_sales'));
      const summary = await runResult(handle);
      expect(summary).toMatchObject({ product: 'widget_sales', env: 'dev', version: '2.1.0', status: 'succeeded', rows: 50, runId: handle.firstExecutionRunId });
      // each target is served by its child workflow
      expect(summary.targets.map((t) => [t.name, t.kind, t.status, t.rows])).toEqual([
        ['weekly_csv', 'files', 'succeeded', 50],
        ['partner_share', 'files', 'succeeded', 50],
        ['adhoc_parquet', 'files', 'succeeded', 50],
      ]);

      const runs = await warehouse.query("select * from lastmile.runs where product = 'widget_sales'");
      expect(runs.rows).toHaveLength(1);
      const [run] = runs.rows;
      expect(run).toMatchObject({
        run_id: handle.firstExecutionRunId,
        env: 'dev',
        product_version: '2.1.0',
        git_sha: sha,
        status: 'succeeded',
        trigger: 'manual',
        workflow_id: handle.workflowId,
        rows: '50',
        error: null,
      });
      expect(run.finished_at.getTime()).toBeGreaterThanOrEqual(run.started_at.getTime());

      const targets = await warehouse.query('select target, kind, status, finished_at, detail from lastmile.target_runs where run_id = $1 order by target', [run.run_id]);
      expect(targets.rows.map((r) => [r.target, r.kind, r.status])).toEqual([
        ['adhoc_parquet', 'files', 'succeeded'],
        ['partner_share', 'files', 'succeeded'],
        ['weekly_csv', 'files', 'succeeded'],
      ]);
      for (const row of targets.rows) expect(row.finished_at).toBeInstanceOf(Date);
      expect(targets.rows[0].detail.note).toMatch(/^published v=.* \(1 file\) to folder /);
      expect(targets.rows[1].detail.note).toMatch(/^published v=.* \(1 file\) to folder /);
    });

    it('sets LastmileProduct, LastmileEnv, LastmileTarget and LastmileOwner on the run, queryable in visibility', async () => {
      const all = await startRun(session, product('widget_sales'));
      const one = await startRun(session, product('widget_sales'), { targets: ['weekly_csv'] });
      await Promise.all([runResult(all), runResult(one)]);
      const ids = async (query: string): Promise<string[]> => {
        const found: string[] = [];
        for await (const execution of client.workflow.list({ query })) found.push(execution.workflowId);
        return found.sort();
      };
      const widgetRuns = await ids("LastmileProduct = 'widget_sales'");
      expect(widgetRuns).toEqual(expect.arrayContaining([all.workflowId, one.workflowId]));
      expect(widgetRuns.every((id) => id.startsWith('lastmile/dev/widget_sales/'))).toBe(true);
      // the run of that one target, and the child workflows serving it (in that run and in the run of all targets)
      const allKey = all.workflowId.split('/').pop()!;
      const weekly = await ids("LastmileTarget = 'weekly_csv'");
      expect(weekly).toEqual(expect.arrayContaining([one.workflowId, `${one.workflowId}/files`, `lastmile/dev/widget_sales/weekly_csv/${allKey}/files`]));
      // besides the run of that one target, only child workflows serving it (this test's runs and the one before)
      expect(weekly.filter((id) => id !== one.workflowId).every((id) => /^lastmile\/dev\/widget_sales\/weekly_csv\/[^/]+\/files$/.test(id))).toBe(true);
      expect((await ids("LastmileOwner = 'widget-team' AND LastmileEnv = 'dev' AND LastmileTarget = 'all'")).sort()).toEqual(
        widgetRuns.filter((id) => id.includes('/all/')).sort(),
      );
      expect(await ids("LastmileEnv = 'prod'")).toEqual([]);
      const described = await all.describe();
      expect(described.searchAttributes).toMatchObject({
        LastmileProduct: ['widget_sales'],
        LastmileEnv: ['dev'],
        LastmileTarget: ['all'],
        LastmileOwner: ['widget-team'],
      });
      expect((await one.describe()).searchAttributes).toMatchObject({ LastmileTarget: ['weekly_csv'] });
    });

    it('a product selecting from a table that was dropped: the run is recorded as failed and the workflow fails', async () => {
      await warehouse.query('drop table scratch.gadgets');
      const handle = await startRun(session, product('gadget_counts'));
      const failure = await handle.result().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const summary = await runResult(handle);
      expect(summary).toMatchObject({ product: 'gadget_counts', status: 'failed', rows: 0 });
      expect(summary.error).toMatch(/^reading the source failed: the source of gadget_counts failed in .*relation "scratch\.gadgets" does not exist/);
      // An unknown table does not appear on retry: one attempt, and the run fails.
      expect(await activityAttempts(client, handle.workflowId, 'checkProduct')).toEqual([1]);
      expect((await handle.describe()).status.name).toBe('FAILED');
      const run = (await warehouse.query('select status, error, rows, finished_at from lastmile.runs where run_id = $1', [summary.runId])).rows[0];
      expect(run).toMatchObject({ status: 'failed', rows: '0', error: summary.error });
      expect(run.finished_at).toBeInstanceOf(Date);
      const targets = (await warehouse.query('select target, status from lastmile.target_runs where run_id = $1', [summary.runId])).rows;
      expect(targets).toEqual([{ target: 'weekly_csv', status: 'skipped' }]);
    });
  });

  describe('schedules deployed by deploySchedules', () => {
    const deploy = async (env: string, products: Product[]) =>
      deploySchedules({ client, env, taskQueue: `lastmile-${env}`, products, meta: session.warehouse.meta, gitSha: sha, manifest: (await deployContext(session.project.config, env, {})).manifest });
    const listIds = async (prefix: string): Promise<string[]> => {
      const ids: string[] = [];
      for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(prefix)) ids.push(s.scheduleId);
      return ids.sort();
    };
    const withSchedule = (p: Product, target: string, cron: string): Product => ({
      ...p,
      serve: p.serve.map((t) => (t.name === target ? { ...t, schedule: { cron, timezone: t.schedule!.timezone } } : t)),
    });
    let createdAt: Date;

    it('creates one schedule per scheduled target, id lastmile/<env>/<product>/<target>', async () => {
      const changes = await deploy('dev', [product('widget_sales'), product('gadget_counts')]);
      expect(changes.map((c) => [c.scheduleId, c.action])).toEqual([
        ['lastmile/dev/widget_sales/weekly_csv', 'created'],
        ['lastmile/dev/widget_sales/partner_share', 'created'],
      ]);
      expect(await listIds('lastmile/dev/')).toEqual(['lastmile/dev/widget_sales/partner_share', 'lastmile/dev/widget_sales/weekly_csv']);
      const description = await client.schedule.getHandle('lastmile/dev/widget_sales/weekly_csv').describe();
      createdAt = description.info.createdAt;
      expect(createdAt).toBeInstanceOf(Date);
      expect(description.spec.timezone).toBe('Europe/Berlin');
      expect(description.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 6, end: 6, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] });
      expect(description.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'serveProduct',
        workflowId: 'lastmile/dev/widget_sales/weekly_csv',
        taskQueue: 'lastmile-dev',
        args: [{ env: 'dev', product: 'widget_sales', targets: ['weekly_csv'], trigger: 'schedule', gitSha: sha }],
      });
      expect(description.action.searchAttributes).toMatchObject({ LastmileProduct: ['widget_sales'], LastmileTarget: ['weekly_csv'], LastmileOwner: ['widget-team'] });
      expect((await session.warehouse.meta.latestDeployment('dev', 'widget_sales'))?.version).toBe('2.1.0');
    });

    it('updates them in place on redeploy', async () => {
      const changes = await deploy('dev', [withSchedule(product('widget_sales'), 'weekly_csv', '15 7 * * 2'), product('gadget_counts')]);
      expect(changes.map((c) => [c.scheduleId, c.action])).toEqual([
        ['lastmile/dev/widget_sales/weekly_csv', 'updated'],
        ['lastmile/dev/widget_sales/partner_share', 'updated'],
      ]);
      expect(await listIds('lastmile/dev/')).toEqual(['lastmile/dev/widget_sales/partner_share', 'lastmile/dev/widget_sales/weekly_csv']);
      const description = await client.schedule.getHandle('lastmile/dev/widget_sales/weekly_csv').describe();
      expect(description.info.createdAt).toEqual(createdAt);
      expect(description.info.lastUpdatedAt).toBeInstanceOf(Date);
      expect(description.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 7, end: 7, step: 1 }], minute: [{ start: 15, end: 15, step: 1 }] });
    });

    it('a scheduled reverse ETL target gets its schedule like any other kind', async () => {
      const changes = await deploy('unserved', [product('shared_widgets')]);
      expect(changes).toEqual([expect.objectContaining({ scheduleId: 'lastmile/unserved/shared_widgets/partner_view', action: 'created' })]);
      expect(await listIds('lastmile/unserved/')).toEqual(['lastmile/unserved/shared_widgets/partner_view']);
    });

    it("deletes the schedule of a target that disappeared, and only this environment's", async () => {
      await deploy('test', [product('widget_sales')]);
      const widgets = product('widget_sales');
      const without = { ...widgets, serve: widgets.serve.filter((t) => t.name !== 'partner_share') };
      const changes = await deploy('dev', [without, product('gadget_counts')]);
      expect(changes.map((c) => [c.scheduleId, c.action])).toEqual([
        ['lastmile/dev/widget_sales/weekly_csv', 'updated'],
        ['lastmile/dev/widget_sales/partner_share', 'deleted'],
      ]);
      expect(changes[1]).toMatchObject({ product: 'widget_sales', target: 'partner_share' });
      await expect(client.schedule.getHandle('lastmile/dev/widget_sales/partner_share').describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
      expect(await listIds('lastmile/dev/')).toEqual(['lastmile/dev/widget_sales/weekly_csv']);
      expect(await listIds('lastmile/test/')).toEqual(['lastmile/test/widget_sales/partner_share', 'lastmile/test/widget_sales/weekly_csv']);
    });
  });

  describe('Temporal resolution order', () => {
    const dev = () => resolveEnvironment(loaded.config, 'dev');

    it('TEMPORAL_ADDRESS first, even with a `temporal` on PATH', async () => {
      const fakeDir = path.join(project.root, 'fake-bin');
      await writeFakeTemporal(fakeDir, rt.server.urlFor('temporal_unused'));
      const target = await resolveTemporal(dev(), { root: project.root, env: { TEMPORAL_ADDRESS: 'temporal.example.com:7233', PATH: fakeDir } });
      expect(target).toMatchObject({ source: 'address', address: 'temporal.example.com:7233', namespace: 'default', taskQueue: 'lastmile-dev' });
      expect(target.describe).toBe('Temporal at temporal.example.com:7233 (from $TEMPORAL_ADDRESS), namespace default');
      expect(existsSync(path.join(fakeDir, 'calls.log'))).toBe(false);
    });

    it("an environment's own address variable, unset, is an error naming it", async () => {
      await expect(resolveTemporal(resolveEnvironment(loaded.config, 'prod'), { env: {} })).rejects.toThrow(
        /Environment prod reads its Temporal address from TEMPORAL_ADDRESS, which is not set/,
      );
    });

    it('without an address or a `temporal` on PATH: a server already answering on the port is used, and left running', async () => {
      const port = Number(rt.devserver.address.split(':')[1]);
      const target = await resolveTemporal(dev(), { root: project.root, port, env: { PATH: '/usr/bin:/bin' } });
      expect(target).toMatchObject({ source: 'running-devserver', address: rt.devserver.address });
      await target.stop();
      expect(await portAnswers(port)).toBe(true);
    });

    it('otherwise the embedded devserver, started on the port and stopped again', async () => {
      const port = await freePort();
      const target = await resolveTemporal(dev(), { root: project.root, port, env: { PATH: '/usr/bin:/bin' } });
      try {
        expect(target).toMatchObject({ source: 'devserver', address: `127.0.0.1:${port}` });
        expect(target.describe).toContain(`the embedded lastmile devserver at 127.0.0.1:${port} (state in ${project.dataDir})`);
        expect(await portAnswers(port)).toBe(true);
      } finally {
        await target.stop();
      }
      expect(await portAnswers(port)).toBe(false);
    });
  });
});

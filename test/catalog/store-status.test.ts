/**
 * The catalog with a metadata store: real runs of a product through the devserver and a worker (one delivered, one
 * blocked by a failing check), then `lastmile catalog` as a child process on the same project, whose embedded
 * PostgreSQL the test holds. Each page shows the latest run and the SLOs with the error budget `lastmile slo` computes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runResult, startRun } from '../../src/runtime/session.js';
import { json, killStrays, productModule, runCli } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

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
  extra: "checks: [check.notNull('sku')],\n  slo: { availability: 0.99, defectFree: 0.5, window: '7d' },",
  serve: ["files({ name: 'weekly_csv', format: 'csv', to: './exchange/widgets', schedule: { cron: '0 6 * * 1', timezone: 'Europe/Berlin' } })"],
});

// never run: the catalog says so
const GADGETS = productModule({ name: 'gadget_counts', source: "select sku, units from ${table('scratch.widgets')}", columns: [{ name: 'sku', type: 'text' }, { name: 'units', type: 'integer' }] });

interface SloJson {
  product: string;
  slo: string;
  budgetRemaining: number | null;
  status: string;
}

describe('lastmile catalog with a metadata store', () => {
  let rt: RuntimeHarness;
  let out: string;
  let stdout: string;

  beforeAll(async () => {
    rt = await startRuntime({
      products: { widget_sales: WIDGETS, gadget_counts: GADGETS },
      sql: `
        create schema scratch;
        create table scratch.widgets as
          select 'W-' || i as sku, date '2026-01-05' + (i % 14) as sold_on, i * 3 as units from generate_series(1, 50) as i;
      `,
    });
    const delivered = await runResult(await startRun(rt.session, rt.product('widget_sales'), { trigger: 'dev' }));
    expect(delivered.status).toBe('succeeded');
    await rt.warehouse.query("update scratch.widgets set sku = null where units = 3");
    const blocked = await runResult(await startRun(rt.session, rt.product('widget_sales'), { trigger: 'dev' }));
    expect(blocked.status).toBe('blocked');
    out = path.join(rt.project.root, 'site');
    const run = await runCli(['catalog', '--out', out, '--root', rt.project.root]);
    expect(run.code, run.stderr).toBe(0);
    stdout = run.stdout;
  }, 180_000);

  afterAll(async () => {
    await killStrays();
    await rt?.close();
  });

  it('says where the status came from', () => {
    expect(stdout).toContain('catalog of 2 products written to');
    expect(stdout).toMatch(/run status from the dev metadata store \(embedded PostgreSQL .*database warehouse_dev\)/);
  });

  it('shows each latest run and the SLOs judged as lastmile slo judges them, with the error budget left', async () => {
    const slo = await runCli(['slo', '--json', '--product', 'widget_sales', '--root', rt.project.root]);
    expect(slo.code, slo.stderr).toBe(0);
    const statuses = json<SloJson[]>(slo);
    const availability = statuses.find((s) => s.slo === 'availability')!;
    // one delivered run of two: 50 % against 99 %
    expect(availability).toMatchObject({ budgetRemaining: -49, status: 'breached' });

    const index = await readFile(path.join(out, 'index.html'), 'utf8');
    expect(index).toMatch(/id="store-status">Run and SLO status from the dev metadata store \(embedded PostgreSQL/);
    const widgetRow = /<tr data-product="widget_sales">[\s\S]*?<\/tr>/.exec(index)![0];
    expect(widgetRow).toContain('<span class="pill blocked">blocked</span>');
    expect(widgetRow).toContain('<span class="pill breached">breached</span><br><span class="muted">budget -4900 %</span>');
    const gadgetRow = /<tr data-product="gadget_counts">[\s\S]*?<\/tr>/.exec(index)![0];
    expect(gadgetRow).toContain('never ran in dev');
    expect(gadgetRow).toContain('no SLO');

    const widget = await readFile(path.join(out, 'products', 'widget_sales.html'), 'utf8');
    expect(widget).toMatch(/<section id="status">[\s\S]*<dt>status<\/dt><dd>blocked<\/dd>[\s\S]*<dt>trigger<\/dt><dd>dev<\/dd>[\s\S]*<dt>version<\/dt><dd>2\.1\.0<\/dd>/);
    expect(widget).toMatch(/<tr><td>availability<\/td><td>99 %<\/td><td>-<\/td><td>7d<\/td><td>[^<]*<\/td><td>50 %<\/td><td>-4900 %<\/td><td>[^<]*<\/td><td><span class="pill breached">breached<\/span><\/td><\/tr>/);
    expect(widget).toMatch(/<tr><td>defectFree<\/td><td>50 %<\/td>/);

    const markdown = await readFile(path.join(out, 'catalog.md'), 'utf8');
    expect(markdown).toMatch(/\| availability \| 99 % \| - \| 7d \| .* \| 50 % \| -4900 % \| .* \| breached \|/);
    expect(markdown).toMatch(/- latest run in dev: blocked, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  });
});

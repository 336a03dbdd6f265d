/**
 * `lastmile slo` against a project whose embedded Postgres is held by the test: measurements go straight into the
 * dev warehouse's metadata store, then the CLI judges them (without Temporal) as JSON and as a table.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/meta/migrate.js';
import type { SloStatus } from '../../src/slo/index.js';
import { createCliProject, json, killStrays, productModule, runCli, startProjectServices, type CliProject, type ProjectServices } from '../support/cli.js';

type SloJson = (Omit<SloStatus, 'current'> & { current: (Omit<NonNullable<SloStatus['current']>, 'at'> & { at: string }) | null })[];

describe('lastmile slo', () => {
  let project: CliProject;
  let services: ProjectServices;
  let testWarehouse: pg.Pool | undefined;

  beforeAll(async () => {
    project = await createCliProject();
    await project.write('products/plain_export.ts', productModule({ name: 'plain_export' }));
    services = await startProjectServices(project);
    await migrate(services.warehouse);
    // The test environment has a warehouse (and metadata store) of its own.
    await services.pg.ensureDatabase('warehouse_test');
    testWarehouse = new pg.Pool({ connectionString: services.pg.urlFor('warehouse_test'), max: 1 });
    testWarehouse.on('error', () => undefined);
    await migrate(testWarehouse);
    const insert = (sli: string, rows: [hoursAgo: number, value: number, good: boolean][], env = 'dev') =>
      (env === 'dev' ? services.warehouse : testWarehouse!).query(
        `insert into lastmile.sli_measurements (product, env, sli, value, good, measured_at)
         select 'returns_by_supplier', $1, $2, v, g, now() - make_interval(secs => h * 3600)
           from unnest($3::float8[], $4::boolean[], $5::float8[]) as r(v, g, h)`,
        [env, sli, rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[0])],
      );
    // 100 daily-ish runs over the 28-day window, 2 of them failed long ago: SLI 98 %, budget −100 %.
    await insert('availability', Array.from({ length: 100 }, (_, i) => [i * 6 + 1, i === 50 || i === 60 ? 0 : 1, i !== 50 && i !== 60] as [number, number, boolean]));
    await insert('defect_free', [[50, 1, true], [26, 0.96, true], [2, 0.982, true]]);
    await insert('freshness', [[30 * 24, 999_999, false], [3, 3 * 3600, true], [0.5, 7 * 3600 + 12 * 60, true]]);
    await insert('latency', [[2, 310, true]]);
    await insert('availability', [[0.05, 0, false]], 'test');
  }, 120_000);

  afterEach(async () => {
    await killStrays();
  });

  afterAll(async () => {
    await killStrays();
    await testWarehouse?.end();
    await services?.stop();
    await project?.remove();
  });

  it('--json prints one status per declared SLO, judged from the measurements', async () => {
    const result = await runCli(['slo', '--json', '--root', project.root]);
    expect(result.code, result.stderr).toBe(0);
    const statuses = json<SloJson>(result);
    expect(new Set(statuses.map((s) => s.product))).toEqual(new Set(['ad_bids', 'lead_scores', 'partner_invoices', 'returns_by_supplier', 'supplier_quality_share']));
    const returns = statuses.filter((s) => s.product === 'returns_by_supplier');
    expect(returns.map((s) => s.slo)).toEqual(['freshness', 'availability', 'defectFree', 'deliverBy', 'latency']);
    const [freshness, availability, defectFree, deliverBy, latency] = returns;
    expect(availability).toMatchObject({ env: 'dev', sli: 'availability', objective: 0.99, window: '28d', events: 100, good: 98, value: 0.98, budgetRemaining: -1, fastBurn: false, status: 'breached' });
    expect(freshness).toMatchObject({ threshold: '≤ 8d', events: 2, good: 2, value: 1, budgetRemaining: 1, status: 'ok', current: { value: 25920, good: true, text: '7h 12m old' } });
    expect(Date.parse(freshness.current!.at)).toBeLessThan(Date.now());
    expect(defectFree).toMatchObject({ sli: 'defect_free', objective: 0.95, events: 3, status: 'ok', current: { text: '98.2 % defect-free' } });
    expect(defectFree.value).toBeCloseTo((1 + 0.96 + 0.982) / 3, 9);
    expect(deliverBy).toMatchObject({ sli: 'deliver_by', threshold: 'by 07:00 Europe/Berlin', events: 0, value: null, budgetRemaining: null, current: null, status: 'no_data' });
    expect(latency).toMatchObject({ threshold: 'p95 ≤ 2s', status: 'ok', current: { text: 'p95 310 ms' } });
    expect(latency.burnRates.map((r) => r.lookback)).toEqual(['5h 36m', '56 min', '28 min', '4 min 40 s']);
    // Without Temporal: status-like commands only read the warehouse.
    expect(result.stderr).not.toMatch(/temporal/i);
  });

  it('--env reads that environment only; --product narrows to one product', async () => {
    const result = await runCli(['slo', '--json', '--env', 'test', '--product', 'returns_by_supplier', '--root', project.root]);
    expect(result.code, result.stderr).toBe(0);
    const statuses = json<SloJson>(result);
    expect(statuses.map((s) => `${s.product}/${s.slo}/${s.status}`)).toEqual([
      'returns_by_supplier/freshness/no_data',
      'returns_by_supplier/availability/breached',
      'returns_by_supplier/defectFree/no_data',
      'returns_by_supplier/deliverBy/no_data',
      'returns_by_supplier/latency/no_data',
    ]);
    expect(statuses[1]).toMatchObject({ env: 'test', events: 1, good: 0, value: 0, budgetRemaining: -99, fastBurn: true });
  });

  it('prints a table with budget as a percentage, the alert rule, and products without an SLO', async () => {
    const result = await runCli(['slo', '--root', project.root]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^environment dev — embedded PostgreSQL .* UTC$/);
    expect(lines[1]).toMatch(/^product\s+slo\s+objective\s+threshold\s+current\s+window\s+sli\s+budget left\s+fast burn\s+status$/);
    expect(result.stdout).toMatch(/^returns_by_supplier\s+availability\s+99 %\s+delivered on time\s+28d\s+98 %\s+-100 %\s+no\s+breached$/m);
    expect(result.stdout).toMatch(/^returns_by_supplier\s+freshness\s+99 %\s+≤ 8d\s+7h 12m old\s+28d\s+100 %\s+100 %\s+no\s+ok$/m);
    expect(result.stdout).toMatch(/^returns_by_supplier\s+deliverBy\s+99 %\s+by 07:00 Europe\/Berlin\s+-\s+28d\s+-\s+-\s+-\s+no data$/m);
    expect(result.stdout).toMatch(/^plain_export\s+no SLO declared$/m);
    expect(result.stdout).toContain('fast burn (28d window): burn rate > 14.4 over both 56 min and 4 min 40 s, or > 6 over both 5h 36m and 28 min');
    expect(result.stdout).toContain('fast burn (7d window)');
    expect(result.stdout).toContain('open incidents: none');
  });

  it('an unknown product is a usage error naming the known ones', async () => {
    const result = await runCli(['slo', '--product', 'returns_by_suplier', '--root', project.root]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no product named returns_by_suplier');
    expect(result.stderr).toContain('ad_bids, lead_scores, partner_invoices, plain_export, returns_by_supplier, supplier_quality_share');
  });
});

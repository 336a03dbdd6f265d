/**
 * `lastmile run` and `lastmile status` against a project whose embedded Postgres and Temporal devserver are held
 * by the test, so it can look at the metadata store and at the workflows after each CLI process has exited. The
 * CLI finds the Temporal server through TEMPORAL_ADDRESS and the warehouse already running in `.lastmile/pg`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../workflows/types.js';
import {
  activityAttempts,
  createCliProject,
  json,
  killStrays,
  productModule,
  runCli,
  spawnCli,
  stackLines,
  startProjectServices,
  type CliProject,
  type ProjectServices,
} from '../support/cli.js';

/** Passes the zero-row contract check; fails as soon as a row is read (division by zero). */
const FRAGILE = productModule({
  name: 'fragile_ratio',
  team: 'fragile-team',
  source: "select supplier_id, week, units from ${table('marts.returns_weekly')} where units / (units - units) >= 0",
});

interface StatusJson {
  env: string;
  products: { product: string; version: string; deployedVersion: string | null; lastRun: { runId: string; status: string; error: string | null; trigger: string; rows: number | null } | null }[];
}

describe('lastmile run and status', () => {
  let project: CliProject;
  let services: ProjectServices;
  let sha: string;
  let env: Record<string, string>;
  const succeeded: Record<string, string> = {};

  beforeAll(async () => {
    project = await createCliProject({ git: true });
    await project.write('products/fragile_ratio.ts', FRAGILE);
    sha = project.commit('add fragile_ratio');
    services = await startProjectServices(project, { devserver: true });
    env = { TEMPORAL_ADDRESS: services.address! };
  }, 120_000);

  afterEach(async () => {
    await killStrays();
  });

  afterAll(async () => {
    await killStrays();
    await services?.stop();
    await project?.remove();
  });

  const runRow = async (runId: string) =>
    (await services.warehouse.query('select * from lastmile.runs where run_id = $1', [runId])).rows[0] as Record<string, unknown> | undefined;
  const targetRows = async (runId: string) =>
    (await services.warehouse.query('select target, kind, status, error, detail from lastmile.target_runs where run_id = $1 order by target', [runId])).rows;

  it('run <product> prints the summary and exits 0', async () => {
    const result = await runCli(['run', 'returns_by_supplier', '--local-worker', '--root', project.root], { env });
    expect(result.code, result.stderr).toBe(0);
    const expected = Number((await services.warehouse.query('select count(*) as n from marts.returns_weekly')).rows[0].n);
    expect(expected).toBeGreaterThan(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^returns_by_supplier 1\\.2\\.0 in dev: SUCCEEDED — ${expected} rows in \\d`));
    const workflowId = /^ {2}workflow (lastmile\/dev\/returns_by_supplier\/all\/\S+)$/m.exec(result.stdout)?.[1];
    expect(workflowId).toBeDefined();
    expect(result.stdout).toMatch(/^ {2}target\s+kind\s+status\s+rows\s+note$/m);
    expect(result.stdout).toMatch(/^ {2}quality_review\s+dashboard\s+succeeded\s+\d+\s+refreshed dashboards\.return_rate_weekly \(created, \d+ rows, [\d.]+ s\), dashboards\.supplier_trend .*; queries p95 worst_suppliers_12w [\d.]+ ms/m);
    expect(result.stdout).toMatch(/^ {2}latency: worst_suppliers_12w p50 [\d.]+ ms, p95 [\d.]+ ms; supplier_weeks/m);
    // It says which Temporal it used, and why.
    expect(result.stderr).toContain(`temporal: Temporal at ${services.address} (from $TEMPORAL_ADDRESS), namespace default`);
    expect(result.stderr).toContain(`started ${workflowId}`);

    const description = await services.client!.workflow.getHandle(workflowId!).describe();
    expect(description.status.name).toBe('COMPLETED');
    const row = await runRow(description.runId);
    expect(row).toMatchObject({ product: 'returns_by_supplier', env: 'dev', status: 'succeeded', trigger: 'manual', product_version: '1.2.0', git_sha: sha, workflow_id: workflowId });
    expect(Number(row!.rows)).toBe(expected);
    succeeded.returns_by_supplier = description.runId;
  }, 60_000);

  it('run <product> --target <name> serves only that target', async () => {
    const result = await runCli(['run', 'partner_invoices', '--target', 'monthly_csv', '--json', '--local-worker', '--root', project.root], { env });
    expect(result.code, result.stderr).toBe(0);
    const summary = json<RunSummary>(result);
    expect(summary).toMatchObject({ product: 'partner_invoices', env: 'dev', status: 'succeeded', version: '1.0.0' });
    expect(summary.workflowId).toMatch(/^lastmile\/dev\/partner_invoices\/monthly_csv\//);
    expect(summary.targets.map((t) => t.name)).toEqual(['monthly_csv']);
    expect((await targetRows(summary.runId)).map((r) => r.target)).toEqual(['monthly_csv']);
    const description = await services.client!.workflow.getHandle(summary.workflowId).describe();
    expect(description.searchAttributes).toMatchObject({ LastmileTarget: ['monthly_csv'], LastmileProduct: ['partner_invoices'] });
    succeeded.partner_invoices = summary.runId;
  }, 60_000);

  it('a source that fails at run time: exit 1, the run recorded as failed with the error, the workflow Failed', async () => {
    const result = await runCli(['run', 'fragile_ratio', '--local-worker', '--root', project.root], { env });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^fragile_ratio 1\.0\.0 in dev: FAILED — 0 rows in /);
    expect(result.stdout).toMatch(/^ {2}error: reading the source failed: the source of fragile_ratio failed in embedded PostgreSQL .*: division by zero$/m);
    expect(result.stdout).toMatch(/^ {2}weekly_csv\s+files\s+skipped\s+not served: the source could not be read$/m);
    // Not the SDK's stack traces: the summary says what went wrong.
    expect(stackLines(result.stderr)).toEqual([]);
    expect(result.stderr).toMatch(/^temporal warn: Activity failed: the source of fragile_ratio failed in .*: division by zero$/m);

    const workflowId = /^ {2}workflow (\S+)$/m.exec(result.stdout)![1];
    // A division by zero does not go away on retry: one attempt, and the run fails.
    expect(await activityAttempts(services.client!, workflowId, 'checkProduct')).toEqual([1]);
    const description = await services.client!.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('FAILED');
    const row = await runRow(description.runId);
    expect(row).toMatchObject({ product: 'fragile_ratio', status: 'failed', rows: '0' });
    expect(row!.error).toMatch(/division by zero/);
    expect(row!.finished_at).toBeInstanceOf(Date);
    expect(await targetRows(description.runId)).toEqual([
      { target: 'weekly_csv', kind: 'files', status: 'skipped', error: null, detail: { note: 'not served: the source could not be read' } },
    ]);
  }, 60_000);

  it('status --json shows the last run of every product', async () => {
    const result = await runCli(['status', '--json', '--root', project.root], { env });
    expect(result.code, result.stderr).toBe(0);
    const status = json<StatusJson>(result);
    expect(status.env).toBe('dev');
    const byProduct = new Map(status.products.map((p) => [p.product, p]));
    expect([...byProduct.keys()]).toEqual(['ad_bids', 'fragile_ratio', 'lead_scores', 'partner_invoices', 'returns_by_supplier', 'supplier_quality_share']);
    expect(byProduct.get('returns_by_supplier')!.lastRun).toMatchObject({ runId: succeeded.returns_by_supplier, status: 'succeeded', trigger: 'manual' });
    expect(byProduct.get('partner_invoices')!.lastRun).toMatchObject({ runId: succeeded.partner_invoices, status: 'succeeded' });
    expect(byProduct.get('fragile_ratio')!.lastRun).toMatchObject({ status: 'failed', error: expect.stringMatching(/division by zero/) });
    expect(byProduct.get('ad_bids')!.lastRun).toBeNull();
    // `run` does not deploy.
    expect(byProduct.get('ad_bids')!.deployedVersion).toBeNull();

    const text = await runCli(['status'], { cwd: project.root, env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^environment dev — embedded PostgreSQL/);
    expect(text.stdout).toMatch(/^ad_bids\s+1\.1\.0\s+-\s+never\s*$/m);
    expect(text.stdout).toMatch(/^fragile_ratio\s+1\.0\.0\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+failed\s+0\s+\S+ m?s\s+manual\s+reading the source failed/m);
    // The warehouse it reused is still up (status stops only a server it started itself).
    expect((await services.warehouse.query('select 1 as ok')).rows[0].ok).toBe(1);
  }, 60_000);

  it('dev deploys the schedules of the targets it can serve, runs every product once, keeps serving until SIGINT and exits 130', async () => {
    const dev = spawnCli(['dev', '--root', project.root], { env });
    await dev.waitFor(/serving dev on 6 schedules — press Ctrl-C to stop/, 90_000);
    // fragile_ratio fails; every other example is served, the syncs into their stand-in tables
    await dev.waitFor(/5 of 6 product runs succeeded in /, 60_000);
    expect(dev.stdout()).toMatch(/^ad_bids\s+succeeded\s/m);
    expect(dev.stdout()).toMatch(/^lead_scores\s+succeeded\s/m);
    expect(dev.stdout()).toMatch(/^fragile_ratio\s+failed\s+0\s+0 served, 1 not served\s+\S+ m?s\s+reading the source failed/m);
    const ids: string[] = [];
    for await (const schedule of services.client!.schedule.list()) ids.push(schedule.scheduleId);
    expect(ids.sort()).toEqual([
      'lastmile/dev/ad_bids/bid_sync',
      'lastmile/dev/lead_scores/crm_sync',
      'lastmile/dev/partner_invoices/monthly_csv',
      'lastmile/dev/partner_invoices/monthly_parquet',
      'lastmile/dev/returns_by_supplier/quality_review',
      'lastmile/dev/supplier_quality_share/supplier_portal',
    ]);
    const stopped = await dev.stop('SIGINT', 10_000);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('SIGINT: stopping — draining the worker');
    const deployed = await services.warehouse.query("select product, version, git_sha from lastmile.deployments where env = 'dev' order by product");
    expect(deployed.rows.map((r) => r.product)).toEqual(['ad_bids', 'fragile_ratio', 'lead_scores', 'partner_invoices', 'returns_by_supplier', 'supplier_quality_share']);
    expect(deployed.rows.every((r) => r.git_sha === sha)).toBe(true);
  }, 120_000);
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetaStore, type MetaStore } from '../../src/meta/store.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';

let server: TestPostgres;
let pool: pg.Pool;
let store: MetaStore;

beforeAll(async () => {
  server = await startTestPostgres();
  pool = server.pool(await server.freshDatabase('meta_store'), 8);
  store = createMetaStore(pool);
  await store.migrate();
});
afterAll(async () => {
  await server?.stop();
});

const at = (iso: string): Date => new Date(iso);

describe('runs', () => {
  it('startRun twice records one run; the second call changes nothing', async () => {
    const input = {
      runId: 'run-1',
      product: 'returns_by_supplier',
      env: 'dev',
      trigger: 'manual' as const,
      productVersion: '1.2.0',
      gitSha: 'abc1234',
      workflowId: 'lastmile/dev/returns_by_supplier/quality_review/run-1',
      startedAt: at('2026-01-05T06:00:00Z'),
    };
    const first = await store.startRun(input);
    expect(first.created).toBe(true);
    expect(first.run).toMatchObject({
      runId: 'run-1',
      status: 'running',
      trigger: 'manual',
      productVersion: '1.2.0',
      gitSha: 'abc1234',
      startedAt: at('2026-01-05T06:00:00Z'),
      finishedAt: null,
      rows: null,
    });
    const second = await store.startRun({ ...input, startedAt: at('2026-01-05T06:05:00Z') });
    expect(second.created).toBe(false);
    expect(second.run).toEqual(first.run);
    const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from lastmile.runs where run_id = 'run-1'`);
    expect(rows[0]?.n).toBe(1);
  });

  it('concurrent startRun calls with one id create exactly one run', async () => {
    const input = { runId: 'run-race', product: 'lead_scores', env: 'dev', trigger: 'schedule' as const };
    const results = await Promise.all(Array.from({ length: 6 }, () => store.startRun(input)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('refuses a run id that belongs to another product', async () => {
    await expect(store.startRun({ runId: 'run-1', product: 'lead_scores', env: 'dev', trigger: 'manual' })).rejects.toThrow(
      /already belongs to product returns_by_supplier/,
    );
  });

  it('finishRun records the outcome; repeating it is harmless', async () => {
    const finish = {
      runId: 'run-1',
      status: 'succeeded' as const,
      finishedAt: at('2026-01-05T06:10:00Z'),
      rows: 1040,
      defectRate: 0.0125,
      checks: { passed: 3, failed: 1, names: ['not_null', 'unique'] },
    };
    const first = await store.finishRun(finish);
    expect(first.updated).toBe(true);
    expect(first.run).toMatchObject({
      status: 'succeeded',
      finishedAt: at('2026-01-05T06:10:00Z'),
      rows: 1040,
      defectRate: 0.0125,
      checks: { passed: 3, failed: 1, names: ['not_null', 'unique'] },
      error: null,
    });
    const again = await store.finishRun({ ...finish, finishedAt: at('2026-01-05T07:00:00Z'), rows: 1 });
    expect(again.updated).toBe(false);
    expect(again.run).toEqual(first.run);
    expect(await store.getRun('run-1')).toEqual(first.run);
  });

  it('finishRun of an unknown run says so', async () => {
    await expect(store.finishRun({ runId: 'nope', status: 'failed', error: 'boom' })).rejects.toThrow(/no such run.*startRun first/);
  });

  it('lists runs newest first, filtered, and the latest run per product', async () => {
    const runs: Array<[string, string, string, string]> = [
      ['r-a1', 'invoices', 'test', '2026-01-01T05:00:00Z'],
      ['r-a2', 'invoices', 'test', '2026-01-02T05:00:00Z'],
      ['r-b1', 'bids', 'test', '2026-01-01T07:00:00Z'],
      ['r-c1', 'invoices', 'prod', '2026-01-03T05:00:00Z'],
    ];
    for (const [runId, product, env, startedAt] of runs) {
      await store.startRun({ runId, product, env, trigger: 'schedule', startedAt: at(startedAt) });
    }
    await store.finishRun({ runId: 'r-a1', status: 'failed', error: 'check not_null failed' });

    expect((await store.listRuns({ env: 'test' })).map((r) => r.runId)).toEqual(['r-a2', 'r-b1', 'r-a1']);
    expect((await store.listRuns({ env: 'test', product: 'invoices', limit: 1 })).map((r) => r.runId)).toEqual(['r-a2']);
    expect((await store.listRuns({ status: 'failed' })).map((r) => r.runId)).toEqual(['r-a1']);
    // r-a2 is still running: only finished runs count for a promotion gate
    expect((await store.listRuns({ env: 'test', product: 'invoices', finished: true })).map((r) => r.runId)).toEqual(['r-a1']);
    await store.startRun({ runId: 'r-v1', product: 'invoices', env: 'stage', productVersion: '1.0.0', trigger: 'manual', startedAt: at('2026-01-05T05:00:00Z') });
    await store.startRun({ runId: 'r-v2', product: 'invoices', env: 'stage', productVersion: '2.0.0', trigger: 'manual', startedAt: at('2026-01-04T05:00:00Z') });
    expect((await store.listRuns({ env: 'stage', product: 'invoices', productVersion: '2.0.0' })).map((r) => r.runId)).toEqual(['r-v2']);
    expect((await store.listRuns({ limit: 1000 })).length).toBeGreaterThanOrEqual(6);
    await expect(store.listRuns({ limit: 0 })).rejects.toThrow(/limit must be a positive integer/);

    const latest = await store.latestRuns('test');
    expect(latest.map((r) => [r.product, r.runId])).toEqual([
      ['bids', 'r-b1'],
      ['invoices', 'r-a2'],
    ]);
    expect(await store.latestRuns('nowhere')).toEqual([]);
  });

  it('stores hostile text as data', async () => {
    const product = `x'; drop table lastmile.runs; --`;
    await store.startRun({ runId: 'run-evil', product, env: 'dev', trigger: 'dev' });
    expect((await store.listRuns({ product })).map((r) => r.product)).toEqual([product]);
  });
});

describe('targets and checks', () => {
  it('recordTarget upserts: started, then finished, keeping the start time', async () => {
    await store.startRun({ runId: 'run-t', product: 'supplier_quality', env: 'dev', trigger: 'dev' });
    const started = await store.recordTarget({
      runId: 'run-t',
      target: 'supplier_share',
      kind: 'sharing',
      status: 'running',
      startedAt: at('2026-01-05T06:00:00Z'),
    });
    expect(started).toMatchObject({ status: 'running', finishedAt: null, startedAt: at('2026-01-05T06:00:00Z') });
    const done = await store.recordTarget({
      runId: 'run-t',
      target: 'supplier_share',
      kind: 'sharing',
      status: 'succeeded',
      rows: 20,
      bytes: 4096,
      detail: { grantees: ['SUP-001', 'SUP-002'] },
    });
    expect(done).toMatchObject({ status: 'succeeded', rows: 20, bytes: 4096, startedAt: at('2026-01-05T06:00:00Z') });
    expect(done.finishedAt).toBeInstanceOf(Date);
    const repeat = await store.recordTarget({ runId: 'run-t', target: 'supplier_share', kind: 'sharing', status: 'succeeded', rows: 20, bytes: 4096, detail: { grantees: ['SUP-001', 'SUP-002'] } });
    expect(repeat).toEqual(done);
    await store.recordTarget({ runId: 'run-t', target: 'pack', kind: 'files', status: 'failed', error: 'bucket not found' });
    expect((await store.listTargets('run-t')).map((t) => [t.target, t.status])).toEqual([
      ['supplier_share', 'succeeded'],
      ['pack', 'failed'],
    ]);
  });

  it('recordTarget for an unknown run says so', async () => {
    await expect(store.recordTarget({ runId: 'ghost', target: 'x', kind: 'files', status: 'running' })).rejects.toThrow(
      /target x for run "ghost": no such run/,
    );
  });

  it('recordChecks upserts by check name', async () => {
    await store.startRun({ runId: 'run-c', product: 'returns_by_supplier', env: 'dev', trigger: 'dev' });
    const first = await store.recordChecks('run-c', [
      { checkName: 'not_null_supplier_id', kind: 'not_null', severity: 'block', status: 'passed', sql: 'select count(*) from t where supplier_id is null' },
      { checkName: 'returns_not_above_units', kind: 'row_predicate', severity: 'block', status: 'failed', failing: 3, sample: [{ supplier_id: 'SUP-007', returns: 12, units: 10 }] },
    ]);
    expect(first.map((c) => [c.checkName, c.status, c.failing])).toEqual([
      ['not_null_supplier_id', 'passed', 0],
      ['returns_not_above_units', 'failed', 3],
    ]);
    expect(first[1]?.sample).toEqual([{ supplier_id: 'SUP-007', returns: 12, units: 10 }]);
    await store.recordChecks('run-c', [{ checkName: 'returns_not_above_units', kind: 'row_predicate', severity: 'block', status: 'passed' }]);
    const listed = await store.listChecks('run-c');
    expect(listed).toHaveLength(2);
    expect(listed.find((c) => c.checkName === 'returns_not_above_units')).toMatchObject({ status: 'passed', failing: 0, sample: null });
    expect(await store.recordChecks('run-c', [])).toEqual([]);
    await expect(
      store.recordChecks('run-c', [
        { checkName: 'dup', kind: 'unique', severity: 'warn', status: 'passed' },
        { checkName: 'dup', kind: 'unique', severity: 'warn', status: 'passed' },
      ]),
    ).rejects.toThrow(/"dup" appears twice/);
    await expect(store.recordChecks('ghost', [{ checkName: 'a', kind: 'unique', severity: 'warn', status: 'passed' }])).rejects.toThrow(/no such run/);
  });
});

describe('SLIs and deployments', () => {
  it('records an SLI once per run, and freely without a run', async () => {
    await store.startRun({ runId: 'run-s', product: 'lead_scores', env: 'prod', trigger: 'schedule' });
    const base = { product: 'lead_scores', env: 'prod', sli: 'freshness_hours' };
    const a = await store.recordSli({ ...base, runId: 'run-s', value: 3.5, good: true, measuredAt: at('2026-01-05T06:00:00Z') });
    const b = await store.recordSli({ ...base, runId: 'run-s', value: 4, good: true, measuredAt: at('2026-01-05T06:00:00Z') });
    expect(b.measurementId).toBe(a.measurementId);
    expect(b.value).toBe(4);
    await store.recordSli({ ...base, value: 30, good: false, measuredAt: at('2026-01-06T06:00:00Z') });
    await store.recordSli({ ...base, value: 31, good: false, measuredAt: at('2026-01-06T07:00:00Z') });
    const listed = await store.listSli({ product: 'lead_scores', env: 'prod' });
    expect(listed.map((m) => [m.value, m.good, m.runId])).toEqual([
      [31, false, null],
      [30, false, null],
      [4, true, 'run-s'],
    ]);
    expect(await store.listSli({ product: 'lead_scores', env: 'prod', since: at('2026-01-06T06:30:00Z') })).toHaveLength(1);
    await expect(store.recordSli({ ...base, value: Number.NaN, good: false })).rejects.toThrow(/finite number/);
  });

  it('records a deployment once, and again when anything changes', async () => {
    const deploy = { env: 'test', product: 'partner_invoices', version: '1.0.0', gitSha: 'aaa111', manifest: { targets: ['invoices_sftp'], schedule: '0 5 * * *' } };
    const first = await store.recordDeployment(deploy);
    expect(first.recorded).toBe(true);
    expect(first.deployment).toMatchObject({ env: 'test', product: 'partner_invoices', version: '1.0.0', gitSha: 'aaa111', manifest: deploy.manifest });
    // Key order in the manifest does not matter.
    const retry = await store.recordDeployment({ ...deploy, manifest: { schedule: '0 5 * * *', targets: ['invoices_sftp'] } });
    expect(retry).toEqual({ recorded: false, deployment: first.deployment });
    const concurrent = await Promise.all([store.recordDeployment({ ...deploy, version: '1.1.0' }), store.recordDeployment({ ...deploy, version: '1.1.0' })]);
    expect(concurrent.filter((r) => r.recorded)).toHaveLength(1);
    expect((await store.latestDeployment('test', 'partner_invoices'))?.version).toBe('1.1.0');
    expect(await store.latestDeployment('prod', 'partner_invoices')).toBeUndefined();
    await store.recordDeployment({ env: 'prod', product: 'partner_invoices', version: '1.0.0' });
    expect((await store.listDeployments({ product: 'partner_invoices' })).map((d) => [d.env, d.version])).toEqual([
      ['prod', '1.0.0'],
      ['test', '1.1.0'],
      ['test', '1.0.0'],
    ]);
    expect((await store.listDeployments({ env: 'prod' }))[0]).toMatchObject({ gitSha: null, manifest: {} });
  });
});

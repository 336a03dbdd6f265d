/**
 * Promotion through the CLI on three embedded environments: the gates stop a promotion for the right reasons (no runs
 * of the version yet, no CI result, later a breaking change against prod), pass once fixed, and prod then runs
 * exactly test's versions and SHAs; rollback restores what an environment ran at a ledger row.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliProject, productModule, runCli, type CliProject } from '../support/cli.js';

const CONFIG = `import { defineConfig } from 'lastmile';
export default defineConfig({
  environments: { dev: {}, test: {}, prod: {} },
  promotion: ['dev', 'test', 'prod'],
  seed: './seed/retailer/index.ts',
});
`;
const COLUMNS = [
  { name: 'supplier_id', type: 'text' },
  { name: 'week', type: 'date' },
  { name: 'units', type: 'bigint' },
];
const weekly = (version: string, columns = COLUMNS) =>
  productModule({
    name: 'weekly',
    version,
    columns,
    source: `select ${columns.map((c) => c.name).join(', ')} from \${table('marts.returns_weekly')}`,
    serve: [`files({ name: 'weekly_csv', format: 'csv', to: './exchange/weekly', schedule: { cron: '0 6 * * 1', timezone: 'UTC' } })`],
    extra: "slo: { defectFree: 0.9, window: '28d' },",
  });

let project: CliProject;
const cli = (...args: string[]) => runCli([...args, '--root', project.root], { timeoutMs: 180_000 });
const head = () => execFileSync('git', ['rev-parse', 'HEAD'], { cwd: project.root }).toString().trim();
interface LedgerRow {
  id: number;
  product: string;
  version: string;
  action: string;
  gitSha: string | null;
}
const ledger = async (env: string) => JSON.parse((await cli('deployments', '--env', env, '--json')).stdout) as LedgerRow[];

beforeAll(async () => {
  project = await createCliProject({ products: 'none', config: CONFIG, git: true });
  await project.write('products/weekly.ts', weekly('1.0.0'));
  project.commit('weekly 1.0.0');
}, 60_000);

afterAll(async () => {
  await project?.remove();
});

describe('lastmile promote and rollback', () => {
  it('refuses a version test has not run and CI has not vouched for, then promotes it once both are true', async () => {
    const deployed = await cli('deploy', '--env', 'test');
    expect(deployed.code, deployed.stderr).toBe(0);

    const early = await cli('promote', '--from', 'test', '--to', 'prod', '--runs', '1');
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/FAIL {2}weekly 1\.0\.0/);
    expect(early.stdout).toMatch(/fail checks {3}only 0 finished runs of 1\.0\.0 in test/);
    expect(early.stdout).toMatch(/fail tests {4}CI recorded no 'test' result for/);
    expect(early.stdout).toContain('promotion test → prod refused: weekly did not pass the gates; nothing was deployed');
    expect(await ledger('prod')).toEqual([]);

    const run = await cli('run', 'weekly', '--env', 'test');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const recorded = await cli('ci-record', '--env', 'test', '--sha', head(), '--status', 'passed');
    expect(recorded.code, recorded.stderr).toBe(0);

    const promoted = await cli('promote', '--from', 'test', '--to', 'prod', '--runs', '1');
    expect(promoted.code, promoted.stdout + promoted.stderr).toBe(0);
    expect(promoted.stdout).toMatch(/ok {3}checks {3}the last 1 runs of 1\.0\.0 in test succeeded/);
    expect(promoted.stdout).toContain('promoted test → prod: 1 product deployed as test runs them');
    const [prod] = await ledger('prod');
    const [test] = await ledger('test');
    expect(prod).toMatchObject({ product: 'weekly', version: '1.0.0', action: 'deploy', gitSha: test!.gitSha });
  }, 300_000);

  it('stops a breaking change against prod at the contract gate, and rollback restores test as it was', async () => {
    const [before] = await ledger('test');
    await project.write('products/weekly.ts', weekly('1.1.0', COLUMNS.slice(0, 2)));
    project.commit('weekly 1.1.0 drops units');
    const refused = await cli('deploy', '--env', 'test');
    expect(refused.code).toBe(1);
    const deployed = await cli('deploy', '--env', 'test', '--override', 'trying the narrower contract in test');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect((await cli('run', 'weekly', '--env', 'test')).code).toBe(0);
    expect((await cli('ci-record', '--env', 'test', '--sha', head(), '--status', 'passed')).code).toBe(0);

    const gated = await cli('promote', '--from', 'test', '--to', 'prod', '--runs', '1');
    expect(gated.code).toBe(1);
    expect(gated.stdout).toMatch(/fail contract against 1\.0\.0 in prod: column units: removed/);
    expect((await ledger('prod')).map((r) => r.version)).toEqual(['1.0.0']);

    const rolled = await cli('rollback', '--env', 'test', '--to', String(before!.id));
    expect(rolled.code, rolled.stdout + rolled.stderr).toBe(0);
    expect(rolled.stdout).toContain(`rolled test back to #${before!.id}: weekly deployed`);
    const [latest] = await ledger('test');
    expect(latest).toMatchObject({ product: 'weekly', version: '1.0.0', action: 'rollback', gitSha: before!.gitSha });
    const again = await cli('rollback', '--env', 'test', '--to', String(before!.id));
    expect(again.stdout).toContain(`test already runs what it ran at #${before!.id}`);
  }, 300_000);
});

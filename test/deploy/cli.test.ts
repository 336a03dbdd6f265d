/** `lastmile plan`, `deploy` and `deployments` on a fresh project of the examples, against its embedded test environment. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliProject, runCli, type CliProject } from '../support/cli.js';

let project: CliProject;
const cli = (...args: string[]) => runCli([...args, '--root', project.root], { timeoutMs: 120_000 });
const edit = async (file: string, change: (text: string) => string) => {
  const full = path.join(project.root, file);
  await writeFile(full, change(await readFile(full, 'utf8')));
};

beforeAll(async () => {
  project = await createCliProject({ git: true });
}, 60_000);

afterAll(async () => {
  await project?.remove();
});

interface PlanJson {
  hash: string;
  summary: Record<string, number>;
  products: { product: string; status: string; reasons: { part: string }[]; contract?: { verdict?: string; accepted: boolean } }[];
}

describe('plan and deploy through the CLI', () => {
  it('plans every product as new, deploys them, and then has nothing to do', async () => {
    const planned = await cli('plan', '--env', 'test', '--json');
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as PlanJson;
    expect(plan.summary).toMatchObject({ new: 5, changed: 0, removed: 0, refused: 0 });

    const deployed = await cli('deploy', '--env', 'test');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain(`deployed plan ${plan.hash} to test: 5 deployed, 0 removed`);
    expect(deployed.stderr).toContain('created lastmile/test/returns_by_supplier/quality_review');

    const again = await cli('deploy', '--env', 'test');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to deploy to test');
  }, 240_000);

  it('does not count reformatting as a change', async () => {
    await edit('products/returns_by_supplier.ts', (t) => t.replace('select supplier_id, supplier, week, units, returns', 'select supplier_id,\n           supplier,   week,\n           units, returns -- reformatted'));
    const planned = await cli('plan', '--env', 'test');
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('nothing to deploy to test: all 5 products run as planned');
  }, 120_000);

  it('refuses a breaking change without a major bump at plan time and at deploy, and applies it with an override the ledger keeps', async () => {
    await edit('products/returns_by_supplier.ts', (t) =>
      t
        .replace("version: '1.2.0'", "version: '1.3.0'")
        .replace("      { name: 'returns', type: 'bigint', description: 'Units of those orders returned' },\n", '')
        .replace(/select supplier_id,\n\s+supplier,\s+week,\n\s+units, returns -- reformatted/, 'select supplier_id, supplier, week, units, 0::bigint as returns'),
    );
    const planned = await cli('plan', '--env', 'test', '--markdown');
    expect(planned.code).toBe(1);
    expect(planned.stdout).toContain('### lastmile plan for `test`');
    expect(planned.stdout).toMatch(/\| `returns_by_supplier` \| changed \| 1\.2\.0 → 1\.3\.0 \| breaking — \*\*refused\*\* \| version, source, contract/);

    const refused = await cli('deploy', '--env', 'test');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the plan holds changes the version does not allow, so nothing was applied');

    const overridden = await cli('deploy', '--env', 'test', '--override', 'the returns column moves to returns_detail; its two readers are told');
    expect(overridden.code, overridden.stderr).toBe(0);
    const ledger = await cli('deployments', '--env', 'test', '--product', 'returns_by_supplier', '--json');
    const rows = JSON.parse(ledger.stdout) as { version: string; action: string; override?: string; plan: string; by: string }[];
    expect(rows[0]).toMatchObject({ version: '1.3.0', action: 'deploy', override: 'the returns column moves to returns_detail; its two readers are told' });
    expect(rows[1]).toMatchObject({ version: '1.2.0', action: 'deploy' });
    expect(rows[0]!.by.length).toBeGreaterThan(0);
  }, 240_000);

  it('applies a saved plan exactly, refuses it once edited, and says it is already applied the second time', async () => {
    await edit('products/partner_invoices.ts', (t) => t.replace("version: '1.0.0'", "version: '1.0.1'"));
    const file = path.join(project.root, 'plan.json');
    const planned = await cli('plan', '--env', 'test', '--out', file);
    expect(planned.code, planned.stderr).toBe(0);
    const saved = await readFile(file, 'utf8');
    await writeFile(file, saved.replace('"1.0.1"', '"1.0.9"'));
    const edited = await cli('deploy', '--env', 'test', '--plan', file);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain('was edited after it was made');
    await writeFile(file, saved);
    const applied = await cli('deploy', '--env', 'test', '--plan', file);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('1 deployed');
    const twice = await cli('deploy', '--env', 'test', '--plan', file);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout).toContain('1 already applied by this plan');
  }, 240_000);
});

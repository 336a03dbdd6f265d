/**
 * A plan names the share grants a deploy makes and the ones waiting for a share's first run, and what each reverse
 * ETL target would send next; deploy, removal and rollback reconcile the grants — on the examples, in the embedded
 * test environment, through the CLI.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliProject, runCli, type CliProject } from '../support/cli.js';

let project: CliProject;
const cli = (...args: string[]) => runCli([...args, '--root', project.root], { timeoutMs: 180_000 });
const SHARE = 'products/supplier_quality_share.ts';

interface Grant {
  action: string;
  object: string;
  grantee?: string;
  consumer?: string;
  when: 'deploy' | 'first run';
}
interface Sync {
  target: string;
  mode?: string;
  error?: string;
  counts?: { rows: number; insert: number; update: number; upsert: number; delete: number; unchanged: number; nullKeys: number };
}
interface PlanJson {
  summary: Record<string, number>;
  products: { product: string; status: string; grants?: Grant[]; syncs?: Sync[] }[];
}

async function plan(): Promise<PlanJson> {
  const result = await cli('plan', '--env', 'test', '--json');
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as PlanJson;
}

/** The consumer views in the test warehouse's share schema. */
async function views(): Promise<string[]> {
  const result = await cli('sql', '--env', 'test', '--json', '-c', "select table_name from information_schema.views where table_schema = 'suppliers' order by 1");
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { rows: { table_name: string }[] }).rows.map((r) => r.table_name);
}

beforeAll(async () => {
  project = await createCliProject({ git: true });
}, 60_000);

afterAll(async () => {
  await project?.remove();
});

describe('grants and syncs in a plan and a deploy', () => {
  it('plans the first grants for the share\'s first run and the syncs\' first sends, and deploys without granting before a run', async () => {
    const first = await plan();
    const share = first.products.find((p) => p.product === 'supplier_quality_share')!;
    const created = share.grants!.filter((g) => g.action === 'create view');
    expect(created).toHaveLength(21);
    expect(share.grants!.every((g) => g.when === 'first run')).toBe(true);
    const leads = first.products.find((p) => p.product === 'lead_scores')!.syncs!;
    expect(leads).toHaveLength(1);
    const c = leads[0]!.counts!;
    expect(c.rows).toBeGreaterThan(0);
    // nothing synced before: every row with a key is an operation to send
    expect(c.insert + c.update + c.upsert).toBe(c.rows - c.nullKeys);
    expect(c.delete).toBe(0);

    const deployed = await cli('deploy', '--env', 'test');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stderr).toContain('share grants in test: 0 consumers');
    expect(await views()).toEqual([]);
  }, 300_000);

  it('after a run, a plan sees the sync as sent and a removed consumer as a revoke the deploy makes', async () => {
    for (const product of ['supplier_quality_share', 'lead_scores']) {
      const run = await cli('run', product, '--env', 'test');
      expect(run.code, run.stderr).toBe(0);
    }
    expect(await views()).toHaveLength(21);
    const synced = (await plan()).products.find((p) => p.product === 'lead_scores')!.syncs![0]!.counts!;
    expect(synced.unchanged).toBe(synced.rows - synced.nullKeys);
    expect(synced.insert + synced.update + synced.upsert + synced.delete).toBe(0);

    await edit(SHARE, (t) => t.replace("'SUP-020',", '').replace("version: '1.0.0'", "version: '2.0.0'"));
    const changed = (await plan()).products.find((p) => p.product === 'supplier_quality_share')!;
    expect(changed.status).toBe('changed');
    expect(changed.grants).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'drop view', object: 'suppliers.supplier_quality_share__sup_020', when: 'deploy' })]));
    const text = await cli('plan', '--env', 'test');
    expect(text.stdout).toContain('at deploy: drop view suppliers.supplier_quality_share__sup_020');

    const deployed = await cli('deploy', '--env', 'test');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stderr).toMatch(/share grants in test: 20 consumers reading suppliers; 0 granted, 2 revoked/);
    const now = await views();
    expect(now).toHaveLength(20);
    expect(now).not.toContain('supplier_quality_share__sup_020');
    // a second deploy changes nothing
    const again = await cli('deploy', '--env', 'test');
    expect(again.stderr).toContain('nothing to change');
  }, 400_000);

  it('rollback restores the removed consumer\'s view, and removing the product revokes every grant', async () => {
    const rows = JSON.parse((await cli('deployments', '--env', 'test', '--product', 'supplier_quality_share', '--json')).stdout) as { id: number; version: string }[];
    const v1 = rows.find((r) => r.version === '1.0.0')!;
    // the environment as the ledger stood at v1's row: the first deploy of every example
    const rolled = await cli('rollback', '--env', 'test', '--to', String(v1.id));
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stderr).toMatch(/share grants in test: 21 consumers reading suppliers; 2 granted, 0 revoked/);
    // the plan of a rollback reads the products as the ledger stored them: the sync it previews is the same
    expect(rolled.stderr).toMatch(/sync crm_sync \(upsert\) → stand-in standin\.lead_scores__crm_sync: next sync sends 0, deletes 0, \d+ unchanged/);
    expect(await views()).toContain('supplier_quality_share__sup_020');
    const granted = await cli('sql', '--env', 'test', '--json', '-c', "select grantee, privilege_type from information_schema.table_privileges where table_schema = 'suppliers' and table_name = 'supplier_quality_share__sup_020' and grantee <> 'lastmile_share_owner__test'");
    expect((JSON.parse(granted.stdout) as { rows: unknown[] }).rows).toEqual([{ grantee: 'suppliers_sup_020__test', privilege_type: 'SELECT' }]);

    await rm(path.join(project.root, SHARE));
    const planned = await cli('plan', '--env', 'test', '--json');
    expect(planned.code).toBe(1);
    const removal = (JSON.parse(planned.stdout) as PlanJson).products.find((p) => p.product === 'supplier_quality_share')!;
    expect(removal.status).toBe('removed');
    expect(removal.grants!.filter((g) => g.action === 'drop view' && g.when === 'deploy')).toHaveLength(21);
    const removed = await cli('deploy', '--env', 'test', '--override', 'the supplier portal moves to the partner API');
    expect(removed.code, removed.stderr).toBe(0);
    expect(await views()).toEqual([]);
    const after = await cli('access', '--env', 'test', '--json');
    const grants = (JSON.parse(after.stdout) as { access: { product: string | null; state: string }[] }).access;
    expect(grants.filter((g) => g.product === 'supplier_quality_share')).toEqual([]);
  }, 400_000);
});

async function edit(file: string, change: (text: string) => string): Promise<void> {
  const full = path.join(project.root, file);
  await writeFile(full, change(await readFile(full, 'utf8')));
}

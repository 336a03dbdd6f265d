/**
 * The sharing commands on the example project, as a user runs them: `share plan` before anything is granted, a run of
 * `supplier_quality_share`, `access` as the warehouse reports it (drift flagged, not repaired), `access --as` reading
 * through the consumer's role, and `usage` from pg_stat_statements — a real supplier login's reads count, lastmile's
 * own reads through the role do not.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliProject, json, killStrays, runCli, startProjectServices, type CliProject, type ProjectServices } from '../support/cli.js';

interface AccessJson {
  access: { role: string; object: string; privileges: string[]; consumer: string | null; state: string }[];
  drift: number;
}
interface AsJson {
  sees: { consumer: string; role: string; view: string; rows: number; columns: { name: string; mask: string | null }[]; sample: Record<string, unknown>[] }[];
}
interface UsageJson {
  known: boolean;
  consumers: { consumer: string; state: string; lastUsedAt: string | null }[];
}

describe('lastmile access, share plan and usage', () => {
  let project: CliProject;
  let services: ProjectServices;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli([...args, '--root', project.root], { env });

  beforeAll(async () => {
    project = await createCliProject();
    services = await startProjectServices(project, { devserver: true });
    env = { TEMPORAL_ADDRESS: services.address! };
  }, 120_000);

  afterAll(async () => {
    await killStrays();
    await services?.stop();
    await project?.remove();
  });

  it('share plan shows what the first run will create and grant, and changes nothing', async () => {
    const plan = await cli('share', 'plan', '--json');
    expect(plan.code, plan.stderr).toBe(0);
    const { changes } = json<{ changes: { action: string; object: string; grantee?: string; reason: string }[] }>(plan);
    expect(changes).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'create schema', object: 'suppliers' }),
      expect.objectContaining({ action: 'create view', object: 'suppliers.supplier_quality_share__sup_007' }),
      expect.objectContaining({ action: 'grant', object: 'suppliers.supplier_quality_share__sup_007', grantee: 'suppliers_sup_007__dev', reason: 'declared' }),
    ]));
    expect((await services.warehouse.query(`select to_regnamespace('suppliers') as s`)).rows[0].s).toBeNull();
  }, 120_000);

  it('a run serves the share; access lists what the warehouse grants, each declared', async () => {
    const run = await cli('run', 'supplier_quality_share', '--local-worker');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ {2}supplier_portal\s+share\s+succeeded\s+21\s+21 consumers reading suppliers/m);
    const access = json<AccessJson>(await cli('access', '--json'));
    expect(access.drift).toBe(0);
    const views = access.access.filter((row) => row.privileges.includes('SELECT'));
    expect(views).toHaveLength(21);
    expect(views.every((row) => row.state === 'declared' && row.role === `suppliers_${row.consumer!.toLowerCase().replace(/-/g, '_')}__dev`)).toBe(true);
  }, 120_000);

  it('access --as reads through the consumer role: its rows only, the e-mail masked', async () => {
    const result = await cli('access', '--as', 'SUP-007', '--json');
    expect(result.code, result.stderr).toBe(0);
    const [seen] = json<AsJson>(result).sees;
    const own = (await services.warehouse.query(`select count(*)::int as n from marts.supplier_quality where supplier_id = 'SUP-007'`)).rows[0].n;
    expect(own).toBeGreaterThan(0);
    expect(seen).toMatchObject({ consumer: 'SUP-007', role: 'suppliers_sup_007__dev', view: 'suppliers.supplier_quality_share__sup_007', rows: own });
    expect(seen!.columns.find((c) => c.name === 'contact_email')).toEqual({ name: 'contact_email', mask: 'redact' });
    expect(seen!.sample.length).toBeGreaterThan(0);
    for (const row of seen!.sample) {
      expect(row.supplier_id).toBe('SUP-007');
      expect([null, '[redacted]']).toContain(row.contact_email);
    }
    const analysts = json<AsJson>(await cli('access', '--as', 'quality_analysts', '--json')).sees[0]!;
    expect(analysts.rows).toBe((await services.warehouse.query(`select count(*)::int as n from marts.supplier_quality`)).rows[0].n);
    expect(analysts.sample.some((row) => typeof row.contact_email === 'string' && /^[0-9a-f]{64}$/.test(row.contact_email))).toBe(true);
    const unknown = await cli('access', '--as', 'SUP-999');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no consumer SUP-999 has access in dev; the consumers are .*SUP-007/);
  }, 120_000);

  it('a grant added by hand shows as drift in access and in share plan, and neither command repairs it', async () => {
    await services.warehouse.query('grant select on suppliers.supplier_quality_share__sup_001 to suppliers_sup_002__dev');
    const access = json<AccessJson>(await cli('access', '--json'));
    expect(access.drift).toBe(1);
    expect(access.access.filter((row) => row.state === 'drift')).toEqual([
      expect.objectContaining({ role: 'suppliers_sup_002__dev', object: 'suppliers.supplier_quality_share__sup_001', state: 'drift' }),
    ]);
    const plan = json<{ changes: { action: string; grantee?: string; reason: string }[] }>(await cli('share', 'plan', '--json'));
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'revoke', grantee: 'suppliers_sup_002__dev', reason: 'drift' })]);
    const still = await services.warehouse.query(`select has_table_privilege('suppliers_sup_002__dev', 'suppliers.supplier_quality_share__sup_001', 'SELECT') as ok`);
    expect(still.rows[0].ok).toBe(true);
    // the next run sets it right
    expect((await cli('run', 'supplier_quality_share', '--local-worker')).code).toBe(0);
    expect(json<AccessJson>(await cli('access', '--json')).drift).toBe(0);
  }, 120_000);

  it("usage: a supplier login's reads count, lastmile's own reads through the role do not", async () => {
    const before = json<UsageJson>(await cli('usage', '--json'));
    expect(before.known).toBe(true);
    expect(before.consumers.every((c) => c.state === 'unused')).toBe(true);
    await services.warehouse.query(`create role sup_007_notebook login password 'notebook-pw' in role suppliers_sup_007__dev`);
    const url = new URL(services.pg.urlFor('warehouse_dev'));
    url.username = 'sup_007_notebook';
    url.password = 'notebook-pw';
    const notebook = new pg.Client({ connectionString: url.toString() });
    await notebook.connect();
    try {
      expect((await notebook.query('select count(*)::int as n from suppliers.supplier_quality_share__sup_007')).rows[0].n).toBeGreaterThan(0);
    } finally {
      await notebook.end();
    }
    expect((await cli('access', '--as', 'SUP-003')).code).toBe(0);
    const after = json<UsageJson>(await cli('usage', '--json'));
    const state = new Map(after.consumers.map((c) => [c.consumer, c.state]));
    expect(state.get('SUP-007')).toBe('used');
    expect(state.get('SUP-003')).toBe('unused');
    expect([...state.values()].filter((s) => s === 'used')).toHaveLength(1);
    const unused = await cli('usage', '--unused', '30d');
    expect(unused.code, unused.stderr).toBe(0);
    expect(unused.stdout).toMatch(/20 of 21 consumers read nothing in 30d/);
    expect(unused.stdout).not.toMatch(/SUP-007/);
  }, 120_000);
});

/**
 * A deploy killed with SIGKILL after its first product converges when the same saved plan is applied again: the
 * ledger says what the killed one applied, the re-run applies exactly the rest, and nothing is recorded twice.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliProject, runCli, spawnCli, type CliProject } from '../support/cli.js';

let project: CliProject;
const cli = (...args: string[]) => runCli([...args, '--root', project.root], { timeoutMs: 180_000 });

beforeAll(async () => {
  project = await createCliProject({ git: true });
}, 60_000);

afterAll(async () => {
  await project?.remove();
});

describe('a deploy killed midway', () => {
  it('is completed by applying the same plan again, each product recorded once', async () => {
    const file = path.join(project.root, 'plan.json');
    const planned = await cli('plan', '--env', 'test', '--out', file);
    expect(planned.code, planned.stderr).toBe(0);

    const deploy = spawnCli(['deploy', '--env', 'test', '--plan', file, '--root', project.root]);
    await deploy.waitFor(/deployed ad_bids \(ledger #\d+\)/, 120_000);
    const killed = await deploy.stop('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).not.toContain('deployed plan');

    const between = JSON.parse((await cli('deployments', '--env', 'test', '--json')).stdout) as { product: string }[];
    expect(between.length).toBeGreaterThanOrEqual(1);
    expect(between.length).toBeLessThan(5);

    const again = await cli('deploy', '--env', 'test', '--plan', file);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${between.length} already applied by this plan`);
    expect(again.stdout).toContain(`${5 - between.length} deployed`);

    const rows = JSON.parse((await cli('deployments', '--env', 'test', '--json')).stdout) as { product: string; action: string }[];
    expect(rows.map((r) => r.product).sort()).toEqual(['ad_bids', 'lead_scores', 'partner_invoices', 'returns_by_supplier', 'supplier_quality_share']);
    const fresh = await cli('plan', '--env', 'test');
    expect(fresh.stdout).toContain('nothing to deploy to test: all 5 products run as planned');
  }, 400_000);
});

/**
 * The commands that only read the project (`list`), and the command line's failure modes: usage errors exit 2,
 * a missing environment variable exits 3, invalid products exit 1 — each as one paragraph, stack traces only with
 * --debug. None of these needs a warehouse or Temporal, so they run side by side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliProject, json, killStrays, productModule, runCli, stackLines, type CliProject, type CliResult } from '../support/cli.js';

interface ListedProduct {
  name: string;
  version: string;
  owner: { team: string; email: string };
  audience: string;
  targets: { name: string; kind: string; schedule: { cron: string; timezone: string } | null }[];
  checks: number;
  file: string;
}

describe('lastmile list and command-line errors', () => {
  let project: CliProject;
  let broken: CliProject;
  const results = new Map<string, Promise<CliResult>>();
  const cli = (name: string): Promise<CliResult> => results.get(name)!;

  beforeAll(async () => {
    [project, broken] = await Promise.all([createCliProject(), createCliProject()]);
    await broken.write('products/bad_cron.ts', productModule({
      name: 'bad_cron',
      serve: ["files({ name: 'nightly', format: 'csv', to: './out', schedule: { cron: '0 25 * * *', timezone: 'UTC' } })"],
    }));
    const root = ['--root', project.root];
    const calls: Record<string, string[]> = {
      listJson: ['list', '--json', ...root],
      listText: ['list', ...root],
      listBroken: ['list', '--root', broken.root],
      unknownCommand: ['deploy', ...root],
      badFlag: ['list', '--verbose', ...root],
      missingProduct: ['run', ...root],
      extraArgument: ['list', 'extra', ...root],
      badPort: ['devserver', '--port', 'seventy'],
      runUnknownProduct: ['run', 'nope', ...root],
      runUnknownTarget: ['run', 'returns_by_supplier', '--target', 'weekly_pdf', ...root],
      statusNoUrl: ['status', '--env', 'prod', ...root],
      statusNoUrlDebug: ['status', '--env', 'prod', '--debug', ...root],
      help: ['--help'],
      nothing: [],
    };
    // Side by side: none of them opens a warehouse or a Temporal connection.
    // Paths in messages are relative to where the command runs: listBroken runs in its project.
    for (const [name, args] of Object.entries(calls)) results.set(name, runCli(args, name === 'listBroken' ? { cwd: broken.root } : {}));
    await Promise.allSettled(results.values());
  }, 120_000);

  afterAll(async () => {
    await killStrays();
    await project?.remove();
    await broken?.remove();
  });

  it('list --json gives every product with its targets and schedules', async () => {
    const result = await cli('listJson');
    expect(result.code, result.stderr).toBe(0);
    const products = json<ListedProduct[]>(result);
    expect(products.map((p) => p.name)).toEqual(['ad_bids', 'lead_scores', 'partner_invoices', 'returns_by_supplier', 'supplier_quality_share']);
    for (const p of products) {
      expect(p.targets.length, p.name).toBeGreaterThan(0);
      expect(p.file).toBe(`${project.root}/products/${p.name}.ts`);
    }
    const invoices = products.find((p) => p.name === 'partner_invoices')!;
    expect(invoices).toMatchObject({ version: '1.0.0', owner: { team: 'finance-data' }, audience: 'external', checks: 6 });
    expect(invoices.targets).toEqual([
      { name: 'monthly_csv', kind: 'files', schedule: { cron: '0 6 2 * *', timezone: 'Europe/Berlin' } },
      { name: 'monthly_parquet', kind: 'files', schedule: { cron: '0 6 2 * *', timezone: 'Europe/Berlin' } },
    ]);
    const returns = products.find((p) => p.name === 'returns_by_supplier')!;
    expect(returns.targets).toEqual([{ name: 'quality_review', kind: 'dashboard', schedule: { cron: '0 5 * * *', timezone: 'Europe/Berlin' } }]);
  });

  it('list prints a table of products, owners and targets', async () => {
    const result = await cli('listText');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^product\s+version\s+owner\s+audience\s+targets$/);
    expect(lines).toHaveLength(2 + 5);
    expect(result.stdout).toMatch(/partner_invoices\s+1\.0\.0\s+finance-data\s+external\s+monthly_csv \(files, 0 6 2 \* \* Europe\/Berlin\); monthly_parquet/);
  });

  it('list on invalid products exits 1 naming the file and the field', async () => {
    const result = await cli('listBroken');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^1 problem found:\n\nproducts\/bad_cron\.ts, serve\[0\]\.schedule\.cron \(product bad_cron, target nightly\): /);
    expect(result.stderr).toMatch(/'0 25 \* \* \*' is not a valid cron expression: hour 25 is out of range 0-23\. Fix: write five fields/);
    expect(stackLines(result.stderr)).toEqual([]);
  });

  it.each([
    ['unknownCommand', /^lastmile: unknown command deploy; run lastmile --help for the list\n$/],
    ['badFlag', /^lastmile: Unknown option '--verbose'/],
    ['missingProduct', /^lastmile: usage: lastmile run <product> \[--target T\] \[--env E\] \[--json\]\n$/],
    ['extraArgument', /^lastmile: usage: lastmile list \[--json\]\n$/],
    ['badPort', /^lastmile: --port must be a port number, got seventy\n$/],
  ])('%s exits 2 with one line', async (name, says) => {
    const result = await cli(name);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(says);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });

  it('run <unknown product> exits 2 naming the products there are', async () => {
    const result = await cli('runUnknownProduct');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `lastmile: no product named nope in ${project.root}/products; the products are ad_bids, lead_scores, partner_invoices, returns_by_supplier, supplier_quality_share\n`,
    );
  });

  it('run --target <unknown target> exits 2 before starting anything, naming the targets there are', async () => {
    const result = await cli('runUnknownTarget');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('lastmile: product returns_by_supplier has no target weekly_pdf; its targets are quality_review\n');
  });

  it('status for an environment whose warehouse URL variable is unset exits 3 naming the variable', async () => {
    const result = await cli('statusNoUrl');
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    const [paragraph, hint, ...rest] = result.stderr.split('\n');
    expect(paragraph).toMatch(/^lastmile: Environment prod reads its warehouse URL from the environment variable LASTMILE_PROD_WAREHOUSE_URL, which is not set\. Set it/);
    expect(hint).toBe('(run again with --debug for the stack trace)');
    expect(rest.join('')).toBe('');
    expect(stackLines(result.stderr)).toEqual([]);
  });

  it('--debug adds the stack trace to the same message', async () => {
    const result = await cli('statusNoUrlDebug');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^lastmile: Environment prod reads its warehouse URL from the environment variable LASTMILE_PROD_WAREHOUSE_URL/);
    expect(stackLines(result.stderr).length).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/at openWarehouse \(.*src\/runtime\/warehouse\.ts:\d+:\d+\)/);
  });

  it('--help exits 0 with the commands and exit codes; no command exits 2 with the same text', async () => {
    const help = await cli('help');
    expect(help.code).toBe(0);
    for (const command of ['dev', 'validate', 'list', 'run', 'status', 'slo', 'revoke', 'worker', 'devserver']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(help.stdout).toMatch(/Exit codes: 0 success · 1 a run failed or was blocked.* · 2 bad command line ·\s+3 /);
    const nothing = await cli('nothing');
    expect(nothing.code).toBe(2);
    expect(nothing.stdout).toBe(help.stdout);
  });
});

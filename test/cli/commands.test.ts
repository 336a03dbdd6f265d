/**
 * The commands that only read the project (`list`), and the command line's failure modes: usage errors exit 2,
 * a missing environment variable exits 3, invalid products exit 1 — each as one paragraph in lastmile's words
 * (with the command or option meant), stack traces only with --debug, and with --json one JSON object on stdout.
 * Per-command help comes from the command registry. None of these needs a warehouse or Temporal, so they run side
 * by side.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptedOptions } from '../../src/cli/command.js';
import { COMMANDS } from '../../src/cli/registry.js';
import { createCliProject, json, killStrays, productModule, REPO_ROOT, runCli, stackLines, type CliProject, type CliResult } from '../support/cli.js';

interface JsonError {
  error: { kind: string; message: string; problems?: { file: string; path: string; message: string }[] };
  exitCode: number;
}

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
      validateBroken: ['validate', '--offline', '--root', broken.root],
      unknownCommand: ['frobnicate', ...root],
      misspelledCommand: ['stauts', ...root],
      badFlag: ['list', '--verbose', ...root],
      misspelledFlag: ['run', 'returns_by_supplier', '--taget', 'quality_review', ...root],
      otherCommandsFlag: ['list', '--env', 'prod', ...root],
      missingValue: ['run', 'returns_by_supplier', '--target', ...root],
      missingValueBeforeFlag: ['run', 'returns_by_supplier', '--target', '--env', 'prod', ...root],
      missingProduct: ['run', ...root],
      extraArgument: ['list', 'extra', ...root],
      badPort: ['devserver', '--port', 'seventy'],
      runUnknownProduct: ['run', 'nope', ...root],
      runUnknownTarget: ['run', 'returns_by_supplier', '--target', 'weekly_pdf', ...root],
      statusNoUrl: ['status', '--env', 'prod', ...root],
      statusNoUrlDebug: ['status', '--env', 'prod', '--debug', ...root],
      help: ['--help'],
      nothing: [],
      version: ['--version'],
      helpRun: ['help', 'run'],
      runHelp: ['run', '--help'],
      jsonUsage: ['run', 'returns_by_supplier', '--taget', 'x', '--json', ...root],
      jsonUnknownCommand: ['stauts', '--json', ...root],
      jsonUnavailable: ['status', '--env', 'prod', '--json', ...root],
      jsonValidation: ['run', 'bad_cron', '--json', '--root', broken.root],
      runInvalid: ['run', 'bad_cron', '--root', broken.root],
      runValidBesideInvalid: ['run', 'returns_by_supplier', '--env', 'prod', '--root', broken.root],
      revokeInvalid: ['revoke', 'bad_cron', '--target', 'nightly', '--version', 'v=x', '--root', broken.root],
      ...Object.fromEntries(COMMANDS.map((c) => [`help:${c.name}`, [c.name, '--help']])),
    };
    // Side by side: none of them opens a warehouse or a Temporal connection.
    // Paths in messages are relative to where the command runs: listBroken runs in its project.
    const inBroken = new Set(['listBroken', 'validateBroken', 'runInvalid', 'runValidBesideInvalid', 'revokeInvalid']);
    for (const [name, args] of Object.entries(calls)) results.set(name, runCli(args, inBroken.has(name) ? { cwd: broken.root } : {}));
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
      { name: 'monthly_csv', kind: 'files', schedule: { cron: '0 6 2 * *', timezone: 'Europe/Berlin' }, unservable: null },
      { name: 'monthly_parquet', kind: 'files', schedule: { cron: '0 6 2 * *', timezone: 'Europe/Berlin' }, unservable: null },
    ]);
    // every kind is served: a reverse ETL target is listed like any other
    expect(products.find((p) => p.name === 'ad_bids')!.targets[0]).toMatchObject({ name: 'bid_sync', kind: 'reverseEtl', unservable: null });
    const returns = products.find((p) => p.name === 'returns_by_supplier')!;
    expect(returns.targets).toEqual([{ name: 'quality_review', kind: 'dashboard', schedule: { cron: '0 5 * * *', timezone: 'Europe/Berlin' } , unservable: null }]);
  });

  it('list prints a table of products, owners and targets', async () => {
    const result = await cli('listText');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n\n')[0]!.split('\n');
    expect(lines[0]).toMatch(/^product\s+version\s+owner\s+audience\s+targets$/);
    expect(lines).toHaveLength(2 + 5);
    expect(result.stdout).toMatch(/partner_invoices\s+1\.0\.0\s+finance-data\s+external\s+monthly_csv \(files, 0 6 2 \* \* Europe\/Berlin\); monthly_parquet/);
    expect(result.stdout).toMatch(/ad_bids\s+\S+\s+performance-marketing\s+\S+\s+bid_sync \(reverseEtl, 0 \*\/4 \* \* \* UTC\)/);
    expect(result.stdout).not.toContain('not served');
  });

  it('list with an invalid product lists the valid ones (exit 0) and names the invalid file in one warning on stderr', async () => {
    const result = await cli('listBroken');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n\n')[0]!.split('\n');
    expect(lines).toHaveLength(2 + 5);
    expect(result.stdout).not.toContain('bad_cron');
    expect(result.stderr).toBe(
      'lastmile: warning: 1 product module is invalid and left out: products/bad_cron.ts (product bad_cron, 1 problem). ' +
        'Run lastmile validate to see every problem and how to fix it.\n',
    );
  });

  it('validate on invalid products exits 1 naming the file and the field', async () => {
    const result = await cli('validateBroken');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^1 problem found:\n\nproducts\/bad_cron\.ts, serve\[0\]\.schedule\.cron \(product bad_cron, target nightly\): /);
    expect(result.stdout).toMatch(/'0 25 \* \* \*' is not a valid cron expression: hour 25 is out of range 0-23\. Fix: write five fields/);
    expect(stackLines(result.stdout + result.stderr)).toEqual([]);
  });

  it('run of a valid product is not refused for another invalid module: it gets past loading (here: no prod warehouse URL, exit 3)', async () => {
    const result = await cli('runValidBesideInvalid');
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/^lastmile: warning: 1 product module is invalid and left out: products\/bad_cron\.ts/);
    expect(result.stderr).toMatch(/^lastmile: Environment prod reads its warehouse URL from the environment variable LASTMILE_PROD_WAREHOUSE_URL/m);
    expect(result.stderr).not.toContain('is not a valid cron expression');
  });

  it.each(['runInvalid', 'revokeInvalid'])('%s of the invalid product itself exits 1 with its problems', async (name) => {
    const result = await cli(name);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^1 problem found:\n\nproducts\/bad_cron\.ts, serve\[0\]\.schedule\.cron \(product bad_cron, target nightly\): /);
    expect(stackLines(result.stderr)).toEqual([]);
  });

  it.each([
    ['unknownCommand', /^lastmile: unknown command 'frobnicate'\. Run lastmile --help for the list\.\n$/],
    ['misspelledCommand', /^lastmile: unknown command 'stauts'\. Did you mean 'status'\? Run lastmile --help for the list\.\n$/],
    ['badFlag', /^lastmile: list has no option --verbose\. Run lastmile list --help\.\n$/],
    ['misspelledFlag', /^lastmile: run has no option --taget\. Did you mean --target\? Run lastmile run --help\.\n$/],
    ['otherCommandsFlag', /^lastmile: list has no option --env\. Run lastmile list --help\.\n$/],
    ['missingValue', /^lastmile: run: --target needs a value \(--target T\)\. Run lastmile run --help\.\n$/],
    ['missingValueBeforeFlag', /^lastmile: run: --target needs a value \(--target T\)\. Run lastmile run --help\.\n$/],
    ['missingProduct', /^lastmile: run needs <product>: lastmile run <product> \[--target T\]\.\.\. \[--local-worker\] \[--dry-run\] \[--env E\] \[--json\]\. Run lastmile run --help\.\n$/],
    ['extraArgument', /^lastmile: list takes no arguments, but got 'extra': lastmile list \[--json\]\. Run lastmile list --help\.\n$/],
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
    for (const command of ['dev', 'validate', 'list', 'run', 'status', 'runs', 'checks', 'quarantine', 'slo', 'revoke', 'sql', 'warehouse', 'worker', 'devserver', 'help']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(help.stdout).toMatch(/^ {2}--version /m);
    expect(help.stdout).toMatch(/Exit codes: 0 success · 1 a run failed or was blocked.* · 2 bad command line ·\s+3 /);
    const nothing = await cli('nothing');
    expect(nothing.code).toBe(2);
    expect(nothing.stdout).toBe(help.stdout);
  });

  it('<command> --help prints its usage, its own options (each with a line) and an example — and no other command\'s options', async () => {
    const everyOption = new Set(COMMANDS.flatMap((c) => Object.keys(acceptedOptions(c))));
    for (const command of COMMANDS) {
      const result = await cli(`help:${command.name}`);
      expect(result.code, `${command.name}: ${result.stderr}`).toBe(0);
      const text = result.stdout;
      expect(text.split('\n')[0], command.name).toMatch(new RegExp(`^lastmile ${command.name} — \\S`));
      expect(text, command.name).toMatch(new RegExp(`^Usage: lastmile ${command.name}\\b`, 'm'));
      expect(text, command.name).toMatch(/^Examples?:\n {2}lastmile /m);
      const own = acceptedOptions(command);
      for (const [name, spec] of Object.entries(own)) {
        // each option on a line of its own, with its description
        expect(text, `${command.name} --${name}`).toMatch(new RegExp(`^ {2}(-\\w, )?--${name}( \\S+)? +${spec.description.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
      }
      for (const name of everyOption) {
        if (name in own) continue;
        expect(text, `${command.name} --help names --${name}`).not.toMatch(new RegExp(`--${name}\\b`));
      }
    }
    // help <command> is the same text
    expect((await cli('helpRun')).stdout).toBe((await cli('runHelp')).stdout);
  });

  it('--version prints the version from package.json', async () => {
    const result = await cli('version');
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`lastmile ${pkg.version}\n`);
  });

  it.each([
    ['jsonUsage', 'usage', 2, /^run has no option --taget\. Did you mean --target\?/],
    ['jsonUnknownCommand', 'usage', 2, /^unknown command 'stauts'\. Did you mean 'status'\?/],
    ['jsonUnavailable', 'unavailable', 3, /^Environment prod reads its warehouse URL from the environment variable LASTMILE_PROD_WAREHOUSE_URL/],
    ['jsonValidation', 'validation', 1, /^1 problem found:/],
  ])('with --json, %s is one JSON object on stdout with its kind and exit code', async (name, kind, exitCode, message) => {
    const result = await cli(name);
    expect(result.code).toBe(exitCode);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const body = json<JsonError>(result);
    expect(Object.keys(body).sort()).toEqual(['error', 'exitCode']);
    expect(body).toMatchObject({ error: { kind, message: expect.stringMatching(message) }, exitCode });
    if (kind === 'validation') {
      expect(body.error.problems).toEqual([expect.objectContaining({ file: path.join(broken.root, 'products/bad_cron.ts'), path: 'serve[0].schedule.cron' })]);
    } else {
      expect(body.error.problems).toBeUndefined();
    }
    expect(stackLines(result.stderr)).toEqual([]);
  });
});

import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatProblems, loadProducts, scanProducts, ValidationError } from '../../src/index.js';
import { edit, validProductModule } from './support/modules.js';
import { createProject, REPO_ROOT } from './support/project.js';
import type { TempProject } from './support/project.js';

describe('the example products', () => {
  it('load from products/ with zero problems', async () => {
    const scan = await scanProducts({ dir: path.join(REPO_ROOT, 'products') });
    expect(formatProblems(scan.problems)).toBe('No problems found.');
    expect(scan.products.map((product) => product.name).sort()).toEqual([
      'ad_bids',
      'lead_scores',
      'partner_invoices',
      'returns_by_supplier',
      'supplier_quality_share',
    ]);
  });

  it('come back validated, with defaults filled in and their file recorded', async () => {
    const products = await loadProducts({ dir: path.join(REPO_ROOT, 'products') });
    const leads = products.find((product) => product.name === 'lead_scores')!;
    expect(leads.file).toBe(path.join(REPO_ROOT, 'products', 'lead_scores.ts'));
    expect(leads.checks.every((check) => check.severity === 'block' && check.name.length > 0)).toBe(true);
    expect(leads.checks.map((check) => check.name)).toContain('unique_lead_id');
    const crm = leads.serve[0];
    expect(crm.kind).toBe('reverseEtl');
    if (crm.kind === 'reverseEtl') {
      expect(crm.key).toEqual(['lead_id']);
      expect(crm.destination).toMatchObject({ type: 'hubspot', objectType: 'contacts', idProperty: 'lead_id', token: { kind: 'secret', env: 'HUBSPOT_TOKEN' } });
      expect(crm).toMatchObject({ mode: 'upsert', nulls: 'skip' });
    }
    expect(leads.contract.columns.find((column) => column.name === 'email')?.classification).toBe('pii');
    expect(leads.contract.columns.find((column) => column.name === 'lead_id')?.classification).toBe('internal');
  });
});

describe('loading product modules', () => {
  let project: TempProject;

  beforeEach(async () => {
    project = await createProject();
  });
  afterEach(async () => {
    await project.remove();
  });

  const problemsOf = async () => (await scanProducts({ dir: project.productsDir })).problems;

  it('tells a project without "type": "module" in package.json how to fix it', async () => {
    await project.write('package.json', JSON.stringify({ name: 'shop-data', private: true }));
    const file = await project.write('products/returns.ts', validProductModule('returns_by_supplier'));
    const problems = await problemsOf();
    expect(problems).toHaveLength(1);
    expect(problems[0].file).toBe(file);
    expect(problems[0].message).toMatch(/loaded as CommonJS/);
    expect(problems[0].fix).toMatch(/"type": "module"/);
  });

  it('reports a duplicate product name in both files, each naming the other', async () => {
    const first = await project.write('products/returns.ts', validProductModule('returns_by_supplier'));
    const second = await project.write('products/quality/returns_copy.ts', validProductModule('returns_by_supplier'));
    const scan = await scanProducts({ dir: project.productsDir });
    const duplicates = scan.problems.filter((problem) => problem.path === 'name');
    expect(duplicates.map((problem) => problem.file).sort()).toEqual([second, first].sort());
    expect(duplicates.find((problem) => problem.file === first)?.message).toContain(second);
    expect(duplicates.find((problem) => problem.file === second)?.message).toContain(first);
    expect(duplicates[0].message).toMatch(/product name 'returns_by_supplier' is also used by/);
    expect(scan.products).toEqual([]);
  });

  it('reports a module without a default export', async () => {
    const file = await project.write('products/empty.ts', "import { check } from 'lastmile';\nexport const checks = [check.notNull('id')];\n");
    const [problem] = await problemsOf();
    expect(problem).toMatchObject({ file, path: '', message: expect.stringMatching(/no default export/) });
    expect(problem.fix).toMatch(/export default defineProduct/);
  });

  it('points at a product exported by name instead of by default', async () => {
    const file = await project.write('products/named.ts', validProductModule('named').replace('export default defineProduct', 'export const product = defineProduct'));
    const [problem] = await problemsOf();
    expect(problem).toMatchObject({ file, message: expect.stringMatching(/exported as 'product'/), fix: expect.stringMatching(/export default/) });
  });

  it('reports a syntax error with file and position instead of crashing, and still loads the other modules', async () => {
    const broken = await project.write('products/broken.ts', edit(validProductModule('broken'), [["version: '1.2.0',", "version: '1.2.0',,"]]));
    await project.write('products/fine.ts', validProductModule('fine'));
    const scan = await scanProducts({ dir: project.productsDir });
    expect(scan.problems).toHaveLength(1);
    expect(scan.problems[0]).toMatchObject({ file: broken, path: '', message: expect.stringMatching(/does not compile: line 5, column \d+/) });
    expect(scan.products.map((product) => product.name)).toEqual(['fine']);
  });

  it('reports a module that throws while loading', async () => {
    const file = await project.write('products/throws.ts', "import { defineProduct } from 'lastmile';\nthrow new Error('warehouse unreachable');\nexport default defineProduct({} as never);\n");
    const [problem] = await problemsOf();
    expect(problem).toMatchObject({ file, message: expect.stringMatching(/threw while loading.*warehouse unreachable/) });
  });

  it('reports an import that cannot be resolved', async () => {
    const file = await project.write('products/missing_import.ts', "import { defineProduct } from 'lastmile-typo';\nexport default defineProduct({} as never);\n");
    const [problem] = await problemsOf();
    expect(problem).toMatchObject({ file, message: expect.stringMatching(/cannot be found/) });
  });

  it('validates a plain object default export and asks to wrap it in defineProduct', async () => {
    const file = await project.write(
      'products/plain.ts',
      edit(validProductModule('plain'), [
        ['export default defineProduct({', 'export default {'],
        ['\n});\n', '\n};\n'],
        ["version: '1.2.0'", "version: 'one'"],
      ]),
    );
    const problems = await problemsOf();
    expect(problems.map((problem) => [problem.file, problem.path])).toEqual([
      [file, ''],
      [file, 'version'],
    ]);
    expect(problems[0].message).toMatch(/plain object, not the result of defineProduct/);
  });

  it('reports a configuration placed among the products', async () => {
    const file = await project.write('products/config.ts', "import { defineConfig } from 'lastmile';\nexport default defineConfig({ environments: { dev: {} }, promotion: ['dev'] });\n");
    const [problem] = await problemsOf();
    expect(problem).toMatchObject({ file, message: expect.stringMatching(/defineConfig/), fix: expect.stringMatching(/lastmile\.config\.ts/) });
  });

  it('finds .mts and .js modules in subfolders and skips helpers, tests and declaration files', async () => {
    await project.write('products/sales/leads.mts', validProductModule('leads'));
    await project.write(
      'products/finance/invoices.js',
      "import { defineProduct, table, files } from 'lastmile';\nexport default defineProduct({ name: 'invoices', version: '1.0.0', owner: { team: 'finance', email: 'fin@example.com' }, domain: 'finance', description: 'Invoices.', audience: 'external', users: [{ who: 'partners', action: 'reconcile' }], source: table('marts.partner_invoices'), contract: { columns: [{ name: 'amount', type: 'numeric(14,2)' }] }, serve: [files({ name: 'monthly', format: 'csv', to: './out' })] });\n",
    );
    await project.write('products/_shared.ts', 'export const owner = 1;\n');
    await project.write('products/types.d.ts', 'export type X = 1;\n');
    await project.write('products/leads.test.ts', 'throw new Error("not a product");\n');
    const scan = await scanProducts({ dir: project.productsDir });
    expect(scan.problems).toEqual([]);
    expect(scan.files.map((file) => path.relative(project.productsDir, file))).toEqual(['finance/invoices.js', 'sales/leads.mts']);
    expect(scan.products.map((product) => product.name)).toEqual(['invoices', 'leads']);
  });

  it('throws one ValidationError carrying every problem of every file', async () => {
    await project.write('products/a.ts', edit(validProductModule('a_product'), [["version: '1.2.0'", "version: 'x'"], ["cron: '0 5 * * *'", "cron: '61 * * * *'"]]));
    await project.write('products/b.ts', edit(validProductModule('b_product'), [["audience: 'internal'", "audience: 'world'"]]));
    await project.write('products/c.ts', 'export default 42;\n');
    const error = await loadProducts({ dir: project.productsDir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    const problems = (error as ValidationError).problems;
    expect(problems.map((problem) => `${path.basename(problem.file ?? '')} ${problem.path}`)).toEqual([
      'a.ts version',
      'a.ts serve[0].schedule.cron',
      'b.ts audience',
      'c.ts ',
    ]);
    expect((error as ValidationError).message).toMatch(/^4 problems found:/);
    expect((error as ValidationError).message.split('\n\n')).toHaveLength(5);
  });

  it('reports a missing products folder', async () => {
    const dir = path.join(project.root, 'no-such-folder');
    const { problems } = await scanProducts({ dir });
    expect(problems).toMatchObject([{ file: dir, message: expect.stringMatching(/does not exist/) }]);
  });

  it('sees edits on the next load (no stale module cache)', async () => {
    await project.write('products/live.ts', validProductModule('live_v1'));
    expect((await loadProducts({ dir: project.productsDir })).map((product) => product.name)).toEqual(['live_v1']);
    await project.write('products/live.ts', validProductModule('live_v2'));
    expect((await loadProducts({ dir: project.productsDir })).map((product) => product.name)).toEqual(['live_v2']);
  });
});

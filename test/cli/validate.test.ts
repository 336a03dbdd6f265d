/**
 * `lastmile validate`: config and products, then every contract against the environment's warehouse (zero-row
 * queries on embedded Postgres, seeded on first use), unless `--offline`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCliProject, json, killStrays, productModule, runCli, stackLines, type CliProject } from '../support/cli.js';

interface ValidateJson {
  ok: boolean;
  products: string[];
  warehouseChecked: boolean;
  problems: { file: string; path: string; message: string; fix: string; product?: string }[];
}

/** The contract promises `discount`, which the source does not select (4th column: contract.columns[3]). */
const MISSING_COLUMN = productModule({
  name: 'returns_discounted',
  columns: [
    { name: 'supplier_id', type: 'text' },
    { name: 'week', type: 'date' },
    { name: 'units', type: 'bigint' },
    { name: 'discount', type: 'numeric' },
  ],
});

const REPO_PRODUCTS = ['ad_bids', 'lead_scores', 'partner_invoices', 'returns_by_supplier', 'supplier_quality_share'];

describe('lastmile validate', () => {
  let project: CliProject;

  beforeAll(async () => {
    project = await createCliProject();
  });

  afterEach(async () => {
    await killStrays();
  });

  afterAll(async () => {
    await killStrays();
    await project?.remove();
  });

  it('accepts the example project and checks the contracts against the warehouse (exit 0)', async () => {
    const result = await runCli(['validate', '--json', '--root', project.root]);
    expect(result.code, result.stderr).toBe(0);
    expect(json<ValidateJson>(result)).toEqual({ ok: true, products: REPO_PRODUCTS, warehouseChecked: true, problems: [] });
    expect(result.stderr).toContain('checking contracts against the dev warehouse');
    // The warehouse lives in the project (a mkdtemp folder, 0700 — reachable by the postgres user all the same).
    expect(existsSync(path.join(project.dataDir, 'PG_VERSION'))).toBe(true);

    const text = await runCli(['validate'], { cwd: project.root });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trim()).toBe('5 products valid; contracts match the dev warehouse');
  }, 90_000);

  it('reports a broken product with its file and field (exit 1)', async () => {
    const file = await project.write(
      'products/broken_version.ts',
      productModule({ name: 'broken_version', version: '1.2' }),
    );
    try {
      const text = await runCli(['validate', '--root', project.root], { cwd: project.root });
      expect(text.code, text.stderr).toBe(1);
      expect(text.stdout).toMatch(/^1 problem found:/);
      expect(text.stdout).toContain("products/broken_version.ts, version (product broken_version): '1.2' is not a semantic version");
      expect(text.stdout).toContain('Fix:');
      // The warehouse is not opened while the modules themselves are invalid.
      expect(text.stderr).not.toContain('checking contracts');
      expect(stackLines(text.stdout + text.stderr)).toEqual([]);

      const asJson = await runCli(['validate', '--json', '--root', project.root]);
      expect(asJson.code).toBe(1);
      const out = json<ValidateJson>(asJson);
      expect(out.ok).toBe(false);
      expect(out.problems).toEqual([expect.objectContaining({ file, path: 'version', message: expect.stringMatching(/not a semantic version/) })]);
    } finally {
      await project.unlink('products/broken_version.ts');
    }
  }, 60_000);

  it('reports a contract column the source does not return, naming contract.columns[i].name (exit 1)', async () => {
    const file = await project.write('products/returns_discounted.ts', MISSING_COLUMN);
    try {
      const result = await runCli(['validate', '--json', '--root', project.root]);
      expect(result.code, result.stderr).toBe(1);
      const out = json<ValidateJson>(result);
      expect(out).toMatchObject({ ok: false, warehouseChecked: true });
      expect(out.problems).toEqual([
        expect.objectContaining({
          file,
          path: 'contract.columns[3].name',
          product: 'returns_discounted',
          message: expect.stringMatching(/promises column 'discount', but the source does not return it/),
        }),
      ]);
      const text = await runCli(['validate', '--root', project.root]);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain(`products/returns_discounted.ts, contract.columns[3].name (product returns_discounted): the contract promises column 'discount'`);
    } finally {
      await project.unlink('products/returns_discounted.ts');
    }
  }, 60_000);

  it('--offline checks the modules only and never starts a warehouse', async () => {
    const fresh = await createCliProject();
    try {
      await fresh.write('products/returns_discounted.ts', MISSING_COLUMN);
      const result = await runCli(['validate', '--offline', '--json', '--root', fresh.root]);
      expect(result.code, result.stderr).toBe(0);
      expect(json<ValidateJson>(result)).toEqual({ ok: true, products: [...REPO_PRODUCTS, 'returns_discounted'].sort(), warehouseChecked: false, problems: [] });
      expect(result.stderr).not.toContain('checking contracts');
      const text = await runCli(['validate', '--offline'], { cwd: fresh.root });
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('6 products valid (warehouse not checked: --offline)');
      expect(existsSync(path.join(fresh.root, '.lastmile'))).toBe(false);
    } finally {
      await fresh.remove();
    }
  }, 60_000);
});

/** `lastmile diff` on a real git history: the verdicts, the version gate, JSON and Markdown. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliProject, productModule, runCli, type CliProject } from '../support/cli.js';

const COLUMNS = [
  { name: 'supplier_id', type: 'text' },
  { name: 'week', type: 'date' },
  { name: 'units', type: 'bigint' },
];

let project: CliProject;
let v1: string;
let dropped: string;
let bumped: string;

beforeAll(async () => {
  project = await createCliProject({ products: 'none', git: true });
  await project.write('products/weekly.ts', productModule({ name: 'weekly', version: '1.2.0', columns: COLUMNS }));
  await project.write('products/other.ts', productModule({ name: 'other', version: '1.0.0', columns: COLUMNS }));
  v1 = project.commit('v1');
  // a column dropped, the version only bumped minor: breaking, refused
  await project.write('products/weekly.ts', productModule({ name: 'weekly', version: '1.3.0', columns: COLUMNS.slice(0, 2) }));
  // reformatted only: the same product
  await project.write('products/other.ts', productModule({ name: 'other', version: '1.0.0', columns: COLUMNS }).replace('select supplier_id, week, units', 'select supplier_id,\n       week,   units  -- the weekly figures\n'));
  dropped = project.commit('drop units');
  await project.write('products/weekly.ts', productModule({ name: 'weekly', version: '2.0.0', columns: COLUMNS.slice(0, 2) }));
  bumped = project.commit('major bump');
}, 60_000);

afterAll(async () => {
  await project?.remove();
});

describe('lastmile diff', () => {
  it('refuses a breaking change without a major version bump, and says how to fix it', async () => {
    const result = await runCli(['diff', '--root', project.root, '--from', v1, '--to', dropped]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('weekly (products/weekly.ts): changed, breaking, version 1.2.0 → 1.3.0 (minor) — REFUSED');
    expect(result.stdout).toMatch(/breaking\s+column units: removed/);
    expect(result.stdout).toContain('set version to 2.0.0');
    // the reformatted product is not a change
    expect(result.stdout).not.toContain('other (');
    expect(result.stdout).toContain('1 of 2 products changed: 1 breaking');
  });

  it('accepts it with the major bump', async () => {
    const result = await runCli(['diff', '--root', project.root, '--from', v1, '--to', bumped, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const diff = JSON.parse(result.stdout) as { ok: boolean; from: string; to: string; products: { product: string; verdict?: string; accepted: boolean; status: string; version: { bump: string } }[] };
    expect(diff.ok).toBe(true);
    expect(diff.from).toBe(v1);
    expect(diff.to).toBe(bumped);
    expect(diff.products.find((p) => p.product === 'weekly')).toMatchObject({ status: 'changed', verdict: 'breaking', accepted: true, version: { bump: 'major' } });
    expect(diff.products.find((p) => p.product === 'other')).toMatchObject({ status: 'unchanged', accepted: true });
  });

  it('compares HEAD with the work tree by default, and treats a module that no longer validates as a problem, not a removal', async () => {
    await project.write('products/other.ts', productModule({ name: 'other', version: '1.0.0', columns: COLUMNS, key: ['nope'] }));
    try {
      const result = await runCli(['diff', '--root', project.root]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('have problems, so the diff cannot judge them');
      expect(result.stdout).toContain('nope');
      expect(result.stdout).toContain('other (products/other.ts): invalid, cannot be judged');
      expect(result.stdout).not.toContain('removed (products/other.ts is gone)');
    } finally {
      await project.write('products/other.ts', productModule({ name: 'other', version: '1.0.0', columns: COLUMNS }));
    }
  });

  it('writes Markdown for a pull-request comment', async () => {
    const result = await runCli(['diff', '--root', project.root, '--from', v1, '--to', dropped, '--markdown']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('### lastmile contract diff');
    expect(result.stdout).toContain('| `weekly` | changed | 🔴 breaking | version 1.2.0 → 1.3.0 (minor) | **refused** |');
    expect(result.stdout).toContain('> **Refused:**');
  });

  it('names a revision git does not know', async () => {
    const result = await runCli(['diff', '--root', project.root, '--from', 'v9.9.9']);
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).toContain("git knows no commit 'v9.9.9'");
  });
});

/** Reading products without running them: the examples, a git revision, computed fields and their fallback. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanProducts } from '../../src/product/loader.js';
import { readProducts } from '../../src/static/read.js';
import { createCliProject, productModule, type CliProject } from '../support/cli.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const projects: CliProject[] = [];
afterEach(async () => {
  for (const project of projects.splice(0)) await project.remove();
});

async function project(git = true): Promise<CliProject> {
  const p = await createCliProject({ products: 'none', git });
  projects.push(p);
  return p;
}

describe('readProducts', () => {
  it('reads every example exactly as the loader loads it, without running any', async () => {
    const read = await readProducts(REPO, { load: false });
    const loaded = await scanProducts({ dir: path.join(REPO, 'products') });
    expect(read.problems).toEqual([]);
    expect(read.products.map((p) => p.how)).toEqual(loaded.products.map(() => 'static'));
    for (const p of read.products) {
      const same = loaded.products.find((q) => q.name === p.product.name);
      expect(p.product).toEqual(same);
      expect(p.file).toMatch(/^products\/[a-z_]+\.ts$/);
      expect(p.position.line).toBeGreaterThan(0);
    }
    expect(read.products).toHaveLength(5);
  });

  it('reads a git revision from git objects, leaving the work tree as it is', async () => {
    const p = await project();
    await p.write('products/weekly.ts', productModule({ name: 'weekly', version: '1.0.0' }));
    const first = p.commit('v1');
    await p.write('products/weekly.ts', productModule({ name: 'weekly', version: '1.1.0', columns: [{ name: 'supplier_id', type: 'text' }, { name: 'week', type: 'date' }, { name: 'units', type: 'bigint' }, { name: 'region', type: 'text' }] }));
    p.commit('v2');
    await p.write('products/weekly.ts', productModule({ name: 'weekly', version: '2.0.0', columns: [{ name: 'week', type: 'date' }] }));

    const atFirst = await readProducts(p.root, { revision: first });
    const atHead = await readProducts(p.root, { revision: 'HEAD' });
    const worktree = await readProducts(p.root);
    expect(atFirst.revision).toBe(first);
    expect(atFirst.products.map((x) => [x.product.version, x.product.contract.columns.map((c) => c.name)])).toEqual([['1.0.0', ['supplier_id', 'week', 'units']]]);
    expect(atHead.products[0]!.product.contract.columns.map((c) => c.name)).toEqual(['supplier_id', 'week', 'units', 'region']);
    expect(worktree.revision).toBe('worktree');
    expect(worktree.products[0]!.product.version).toBe('2.0.0');
    // nothing was checked out: the work tree still holds the uncommitted version
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: p.root }).toString();
    expect(status).toContain('products/weekly.ts');
  });

  it('names an unknown revision', async () => {
    const p = await project();
    await expect(readProducts(p.root, { revision: 'no-such-branch' })).rejects.toThrow(/git knows no commit 'no-such-branch'/);
  });

  it('follows const variables and a helper module of the same read', async () => {
    const p = await project();
    await p.write('products/_columns.ts', `export const COLUMNS = [{ name: 'supplier_id', type: 'text' }, { name: 'week', type: 'date' }] as const;\nexport const OWNER = { team: 'quality', email: 'q@example.com' } as const;\n`);
    await p.write(
      'products/shared.ts',
      `import { defineProduct, sql, table, files } from 'lastmile';
import { COLUMNS, OWNER as owner } from './_columns.js';

const SCHEMA = 'marts';

/** Weekly figures for the partners. */
export default defineProduct({
  name: 'shared',
  version: '1.0.0',
  owner,
  domain: 'quality',
  description: \`Weekly rows from \${SCHEMA}\`,
  audience: 'internal',
  users: [{ who: 'analysts', action: 'read' }],
  source: sql\`select supplier_id, week from \${table('marts.returns_weekly')}\`,
  contract: { key: ['supplier_id', 'week'], columns: [...COLUMNS] },
  serve: [files({ name: 'weekly_csv', format: 'csv', to: './exchange/shared' })],
});
`,
    );
    const read = await readProducts(p.root, { load: false });
    expect(read.problems).toEqual([]);
    const [shared] = read.products;
    expect(shared!.how).toBe('static');
    expect(shared!.product.owner.team).toBe('quality');
    expect(shared!.product.description).toBe('Weekly rows from marts');
    expect(shared!.product.contract.columns.map((c) => c.name)).toEqual(['supplier_id', 'week']);
    expect(shared!.product.source).toMatchObject({ kind: 'sql', tables: [{ schema: 'marts', name: 'returns_weekly' }] });
    expect(shared!.docs).toBe('Weekly figures for the partners.');
  });

  it('says which field is computed and loads that module instead, never guessing', async () => {
    const p = await project();
    await p.write(
      'products/computed.ts',
      `import { defineProduct, sql, table, files } from 'lastmile';

function cron(hour: number) {
  return \`0 \${hour} * * *\`;
}

export default defineProduct({
  name: 'computed',
  version: '1.0.0',
  owner: { team: 'quality', email: 'q@example.com' },
  domain: 'quality',
  description: 'A product with a computed schedule',
  audience: 'internal',
  users: [{ who: 'analysts', action: 'read' }],
  source: sql\`select supplier_id, week from \${table('marts.returns_weekly')}\`,
  contract: { key: ['supplier_id', 'week'], columns: [{ name: 'supplier_id', type: 'text' }, { name: 'week', type: 'date' }] },
  serve: [files({ name: 'weekly_csv', format: 'csv', to: './exchange/computed', schedule: { cron: cron(5), timezone: 'UTC' } })],
});
`,
    );
    const read = await readProducts(p.root);
    expect(read.problems).toEqual([]);
    const [computed] = read.products;
    expect(computed!.how).toBe('loaded');
    const line17 = (await readFile(path.join(p.root, 'products/computed.ts'), 'utf8')).split('\n')[16]!;
    expect(computed!.computed).toEqual([{ path: 'serve[0].schedule.cron', reason: 'a call to cron()', position: { line: 17, column: line17.indexOf('cron(5)') + 1 } }]);
    // loaded, so the value is the real one
    expect(computed!.product.serve[0]!.schedule?.cron).toBe('0 5 * * *');

    const refused = await readProducts(p.root, { load: false });
    expect(refused.products).toEqual([]);
    expect(refused.problems[0]!.message).toMatch(/serve\[0\]\.schedule\.cron is a call to cron\(\) \(line 17\)/);
  });

  it('loads a computed module at a git revision from a copy, and removes the copy', async () => {
    const p = await project();
    await p.write('products/env_owner.ts', productModule({ name: 'env_owner', extra: "slo: { window: ['28', 'd'].join('') as '28d' }," }));
    const commit = p.commit('computed');
    await p.unlink('products/env_owner.ts');
    const read = await readProducts(p.root, { revision: commit });
    expect(read.problems).toEqual([]);
    expect(read.products[0]!.how).toBe('loaded');
    expect(read.products[0]!.computed[0]!.path).toBe('slo.window');
    expect(read.products[0]!.product.slo?.window).toBe('28d');
    expect(existsSync(path.join(p.root, '.lastmile', 'revisions', commit))).toBe(false);
  });

  it('reports an invalid product with its file and field, as the loader does', async () => {
    const p = await project(false);
    await p.write('products/bad.ts', productModule({ name: 'bad', key: ['nope'] }));
    const read = await readProducts(p.root);
    const loaded = await scanProducts({ dir: path.join(p.root, 'products') });
    expect(read.products).toEqual([]);
    expect(read.problems).toEqual(loaded.problems);
    expect(read.problems[0]!.file).toBe(path.join(p.root, 'products', 'bad.ts'));
  });
});

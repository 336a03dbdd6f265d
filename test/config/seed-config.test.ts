/**
 * `seed` in lastmile.config.ts: the module embedded warehouses are seeded with, loaded like a product module. A
 * missing file, a module whose default export is not a seed, or an unsound seed is a problem naming file and field.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSeedDefinition, loadConfig, resolveEnvironment, ValidationError } from '../../src/index.js';
import type { Problem } from '../../src/index.js';
import { createProject, type TempProject } from '../product/support/project.js';
import { validProductModule } from '../product/support/modules.js';

const config = (seed: string, promotion = "['dev', 'prod']"): string => `import { defineConfig } from 'lastmile';

export default defineConfig({
  environments: { dev: {}, prod: { warehouse: { urlEnv: 'SHOP_WAREHOUSE_URL' } } },
  promotion: ${promotion},
  seed: ${seed},
});
`;

const seedModule = (schemas = "['paint']"): string => `import { checksumTables, defineSeed } from 'lastmile';

export default defineSeed({
  name: 'paint',
  version: 1,
  schemas: ${schemas},
  async build({ query }) {
    await query('create table paint.colours (colour_id int primary key); insert into paint.colours select generate_series(1, 3)');
  },
  checksum: (db) => checksumTables(db, 'paint', ['colours']),
});
`;

let project: TempProject;
beforeAll(async () => {
  project = await createProject();
});
afterAll(async () => {
  await project?.remove();
});

/** Writes `files` into a fresh folder of the project and loads its config; the problems it fails with. */
async function problemsOf(dir: string, files: Record<string, string>): Promise<{ file: string; problems: readonly Problem[]; report: string }> {
  for (const [name, text] of Object.entries(files)) await project.write(`${dir}/${name}`, text);
  const error = await loadConfig(path.join(project.root, dir)).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ValidationError)) throw new Error(`${dir}: the config did not fail validation: ${String(error)}`);
  return { file: path.join(project.root, dir, 'lastmile.config.ts'), problems: error.problems, report: error.message };
}

describe('seed in lastmile.config.ts', () => {
  it('loads the seed module and hands the seed to embedded environments only', async () => {
    await project.write('valid/lastmile.config.ts', config("'./seed/paint/index.ts'"));
    await project.write('valid/seed/paint/index.ts', seedModule());
    const loaded = await loadConfig(path.join(project.root, 'valid'));
    expect(loaded.seedModule).toBe('./seed/paint/index.ts');
    expect(isSeedDefinition(loaded.seed)).toBe(true);
    expect(loaded.seed).toMatchObject({ name: 'paint', version: 1, schemas: ['paint'] });
    const dev = resolveEnvironment(loaded, 'dev');
    expect(dev.warehouse).toEqual({ kind: 'embedded', schemas: {}, seed: loaded.seed });
    expect(resolveEnvironment(loaded, 'prod').warehouse).toEqual({ kind: 'url', urlEnv: 'SHOP_WAREHOUSE_URL', schemas: {} });
  });

  it('is optional: without it, embedded warehouses get no seed', async () => {
    await project.write('bare/lastmile.config.ts', "import { defineConfig } from 'lastmile';\nexport default defineConfig({ environments: { dev: {} }, promotion: ['dev'] });\n");
    const loaded = await loadConfig(path.join(project.root, 'bare'));
    expect(loaded.seed).toBeUndefined();
    expect(loaded.seedModule).toBeUndefined();
    expect(resolveEnvironment(loaded, 'dev').warehouse).toEqual({ kind: 'embedded', schemas: {} });
  });

  it('reports a seed module that does not exist, naming the field, along with the other problems', async () => {
    const { file, problems, report } = await problemsOf('missing', { 'lastmile.config.ts': config("'./seed/nope.ts'", "['dev', 'prd']") });
    expect(problems).toEqual([
      expect.objectContaining({ file, path: 'promotion[1]', message: "unknown environment 'prd' in the promotion order" }),
      {
        file,
        path: 'seed',
        message: `the seed module './seed/nope.ts' does not exist (there is no ${path.join(project.root, 'missing', 'seed', 'nope.ts')})`,
        fix: expect.stringMatching(/relative to the project root.*or remove seed/),
      },
    ]);
    expect(report.split('\n\n').some((paragraph) => paragraph.startsWith(`${file}, seed: the seed module './seed/nope.ts' does not exist`) && paragraph.includes('Fix:'))).toBe(true);
  });

  it('reports a folder instead of a module', async () => {
    await project.write('folder/seed/paint/index.ts', seedModule());
    const { problems } = await problemsOf('folder', { 'lastmile.config.ts': config("'./seed/paint/'") });
    expect(problems).toEqual([expect.objectContaining({ path: 'seed', message: "'./seed/paint/' is a folder, not a module", fix: "name the seed's entry module, e.g. seed: './seed/paint/index.ts'" })]);
  });

  it.each([
    { title: 'a plain object', module: 'export default { name: "paint", version: 1 };\n', says: "has a default export that is not the result of defineSeed(...)" },
    { title: 'a product', module: validProductModule('paint_product'), says: 'exports a product, not a seed' },
    { title: 'no default export', module: seedModule().replace('export default defineSeed(', 'export const paint = defineSeed('), says: 'has no default export' },
  ])('reports a module whose default export is $title', async ({ title, module, says }) => {
    const dir = `not_seed_${title.replace(/\W+/g, '_')}`;
    const { file, problems } = await problemsOf(dir, { 'lastmile.config.ts': config("'./seed.ts'"), 'seed.ts': module });
    expect(problems).toEqual([{ file, path: 'seed', message: `the seed module './seed.ts' ${says}`, fix: expect.stringContaining('export default defineSeed(') }]);
  });

  it('reports a seed module that does not compile', async () => {
    const { file, problems } = await problemsOf('broken', { 'lastmile.config.ts': config("'./seed.ts'"), 'seed.ts': seedModule().replace("version: 1,", 'version: 1,,') });
    expect(problems).toEqual([expect.objectContaining({ file, path: 'seed', message: expect.stringMatching(/^the seed module '\.\/seed\.ts' cannot be loaded: the module does not compile: line \d+/) })]);
  });

  it('reports an unsound seed in the seed module, at its field', async () => {
    const { problems } = await problemsOf('unsound', { 'lastmile.config.ts': config("'./seed.ts'"), 'seed.ts': seedModule("['paint', 'paint-2']") });
    expect(problems).toEqual([
      { file: path.join(project.root, 'unsound', 'seed.ts'), path: 'schemas[1]', message: "paint-2 is not a plain schema name", fix: expect.any(String) },
    ]);
  });

  it.each([
    { title: 'an absolute path', seed: "'/srv/seed/index.ts'", says: /'\/srv\/seed\/index\.ts' is an absolute path/ },
    { title: 'an empty path', seed: "''", says: /'seed' is empty/ },
    { title: 'not a string', seed: '42', says: /'seed' should be a string/ },
  ])('rejects $title', async ({ title, seed, says }) => {
    const { file, problems } = await problemsOf(`field_${title.replace(/\W+/g, '_')}`, { 'lastmile.config.ts': config(seed) });
    expect(problems).toEqual([expect.objectContaining({ file, path: 'seed', message: expect.stringMatching(says) })]);
  });
});

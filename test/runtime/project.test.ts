/**
 * Loading the project: the git SHA says whether the work tree differs from the commit in what lastmile loads
 * (products/, the config, the seed folder), and an invalid module leaves the valid products loadable.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitSha, loadProject, scanProject } from '../../src/runtime/project.js';
import { ValidationError } from '../../src/product/problems.js';
import { createCliProject, productModule, type CliProject } from '../support/cli.js';

describe('the project on disk', () => {
  let project: CliProject;
  let head: string;

  beforeAll(async () => {
    project = await createCliProject({ git: true });
    head = project.commit('again');
  }, 60_000);

  afterAll(async () => {
    await project?.remove();
  });

  it('records the plain SHA for a clean tree and <sha>-dirty when products/, the config or the seed folder changed', async () => {
    expect(gitSha(project.root)).toBe(head);
    expect((await scanProject(project.root)).project).toMatchObject({ gitSha: head, gitDirty: false });

    // a change outside what lastmile loads does not count
    await project.write('notes.md', 'not loaded by lastmile\n');
    expect((await scanProject(project.root)).project).toMatchObject({ gitSha: head, gitDirty: false });

    await project.write('products/extra_returns.ts', productModule({ name: 'extra_returns' }));
    expect((await scanProject(project.root)).project).toMatchObject({ gitSha: `${head}-dirty`, gitDirty: true });
    const committed = project.commit('extra_returns');
    expect((await scanProject(project.root)).project).toMatchObject({ gitSha: committed, gitDirty: false });

    await project.write('lastmile.config.ts', `${readFileSync(`${project.root}/lastmile.config.ts`, 'utf8')}\n// edited\n`);
    expect(gitSha(project.root)).toBe(`${committed}-dirty`);
    project.commit('config');

    await project.write('seed/retailer/notes.txt', 'a new file in the seed folder\n');
    const config = (await scanProject(project.root)).project.config;
    expect(config.seedModule).toBe('./seed/retailer/index.ts');
    expect(gitSha(project.root, config.seedModule)).toMatch(/-dirty$/);
    expect((await scanProject(project.root)).project.gitDirty).toBe(true);
  }, 60_000);

  it('keeps the valid products when a module is invalid; loadProject insists on all of them', async () => {
    await project.write('products/bad_cron.ts', productModule({
      name: 'bad_cron',
      serve: ["files({ name: 'nightly', format: 'csv', to: './out', schedule: { cron: '0 25 * * *', timezone: 'UTC' } })"],
    }));
    try {
      const scan = await scanProject(project.root);
      expect([...scan.project.products.keys()]).toContain('partner_invoices');
      expect(scan.project.products.has('bad_cron')).toBe(false);
      expect(scan.invalid).toEqual([expect.objectContaining({ file: `${project.root}/products/bad_cron.ts`, product: 'bad_cron', problems: [expect.objectContaining({ path: 'serve[0].schedule.cron' })] })]);
      await expect(loadProject(project.root)).rejects.toBeInstanceOf(ValidationError);
    } finally {
      await project.unlink('products/bad_cron.ts');
    }
  }, 60_000);
});

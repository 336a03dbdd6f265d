import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: what `node_modules/lastmile` points at in a temporary project. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A throwaway project folder shaped like a user's repo: package.json, node_modules/lastmile, products/. */
export interface TempProject {
  root: string;
  productsDir: string;
  /** Writes a file relative to the project root and returns its absolute path. */
  write(relative: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function createProject(): Promise<TempProject> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'lastmile-test-'));
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'shop-data', private: true, type: 'module' }));
  await mkdir(path.join(root, 'node_modules'), { recursive: true });
  // An installed package, as in a user's project: resolved through package.json `exports`.
  await symlink(REPO_ROOT, path.join(root, 'node_modules', 'lastmile'), 'dir');
  const productsDir = path.join(root, 'products');
  await mkdir(productsDir, { recursive: true });
  return {
    root,
    productsDir,
    async write(relative, text) {
      const file = path.join(root, relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text);
      return file;
    },
    async remove() {
      await rm(root, { recursive: true, force: true });
    },
  };
}

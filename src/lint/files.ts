/** The files `lastmile lint` reads in a project: products/ (helpers too), lastmile.config.ts and workflows/. */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { FileRole } from './types.js';

export interface LintFile {
  readonly absolutePath: string;
  /** relative to the project root, with `/` */
  readonly file: string;
  readonly role: FileRole;
}

const MODULE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const SKIPPED = /\.d\.(ts|mts|cts)$|\.(test|spec)\.[cm]?[tj]s$/;

/** Every module under `dir` (hidden folders, node_modules, declaration files and tests left out), sorted. */
async function modulesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && MODULE.test(entry.name) && !SKIPPED.test(entry.name)) found.push(full);
    }
  };
  await walk(dir);
  return found.sort();
}

export async function lintFiles(root: string): Promise<LintFile[]> {
  const relative = (absolutePath: string): string => path.relative(root, absolutePath).split(path.sep).join('/');
  const config = path.join(root, 'lastmile.config.ts');
  const files: LintFile[] = [];
  if (existsSync(config)) files.push({ absolutePath: config, file: relative(config), role: 'config' });
  for (const product of await modulesUnder(path.join(root, 'products'))) files.push({ absolutePath: product, file: relative(product), role: 'product' });
  for (const workflow of await modulesUnder(path.join(root, 'workflows'))) files.push({ absolutePath: workflow, file: relative(workflow), role: 'workflow' });
  return files;
}

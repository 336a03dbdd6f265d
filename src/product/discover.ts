import { readdir } from 'node:fs/promises';
import path from 'node:path';

const MODULE = /\.(ts|mts|js|mjs)$/;
const SKIPPED = /\.d\.(ts|mts)$|\.(test|spec)\.(ts|mts|js|mjs)$/;

/** Whether a file at `relative` (to the products folder, `/`-separated) is a product module by the rules below. */
export function isProductModulePath(relative: string): boolean {
  const parts = relative.split('/');
  if (parts.some((part) => part.startsWith('_') || part.startsWith('.') || part === 'node_modules')) return false;
  const name = parts[parts.length - 1] ?? '';
  return MODULE.test(name) && !SKIPPED.test(name);
}

/** Whether a file at `relative` is a module a product could import (helpers in `_` files included). */
export function isModulePath(relative: string): boolean {
  return MODULE.test(relative) && !relative.split('/').includes('node_modules');
}

/**
 * The product modules under `dir`, sorted: `**\/*.ts`, `.mts`, `.js` and `.mjs`. Declaration files, tests, and files
 * or folders starting with `_` or `.` (shared helpers, hidden folders) and `node_modules` are skipped.
 */
export async function discoverModules(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('_') || entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && MODULE.test(entry.name) && !SKIPPED.test(entry.name)) found.push(full);
    }
  };
  await walk(root);
  return found.sort();
}

import { readdir } from 'node:fs/promises';
import path from 'node:path';

const MODULE = /\.(ts|mts|js|mjs)$/;
const SKIPPED = /\.d\.(ts|mts)$|\.(test|spec)\.(ts|mts|js|mjs)$/;

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

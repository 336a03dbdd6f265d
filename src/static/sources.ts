/**
 * The text of the product modules at the work tree or at a git revision. A revision is read from git's objects
 * (`git ls-tree`, `git cat-file --batch`): no checkout, nothing in the work tree changes.
 */
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { InputError } from '../errors.js';
import { isModulePath } from '../product/discover.js';

const run = promisify(execFile);

/** A module's text and its path relative to the project root (`products/ad_bids.ts`). */
export interface ModuleText {
  readonly path: string;
  readonly text: string;
}

export interface ModuleTexts {
  /** the commit read, or `worktree` */
  readonly revision: string;
  readonly files: readonly ModuleText[];
}

export const WORKTREE = 'worktree';
const PRODUCTS = 'products';

export async function readModuleTexts(root: string, revision?: string): Promise<ModuleTexts> {
  if (revision === undefined || revision === WORKTREE) return { revision: WORKTREE, files: await worktreeTexts(root) };
  const commit = await resolveRevision(root, revision);
  return { revision: commit, files: await revisionTexts(root, commit) };
}

async function worktreeTexts(root: string): Promise<ModuleText[]> {
  const base = path.join(root, PRODUCTS);
  const found: ModuleText[] = [];
  const walk = async (folder: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && folder === base) return;
      throw error;
    }
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) await walk(full);
      else if (entry.isFile()) {
        const relative = path.relative(root, full).split(path.sep).join('/');
        if (isModulePath(relative)) found.push({ path: relative, text: await readFile(full, 'utf8') });
      }
    }
  };
  await walk(base);
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/** The commit a revision names (a branch, tag, `HEAD~1`, a sha); an input error naming it when git does not know it. */
export async function resolveRevision(root: string, revision: string): Promise<string> {
  if (revision.startsWith('-')) throw new InputError(`'${revision}' is not a git revision`);
  try {
    const { stdout } = await run('git', ['-C', root, 'rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
    return stdout.trim();
  } catch {
    const inRepo = await run('git', ['-C', root, 'rev-parse', '--git-dir']).then(
      () => true,
      () => false,
    );
    if (!inRepo) throw new InputError(`${root} is not in a git repository, so revision '${revision}' cannot be read; use the work tree (leave out the revision) or run it in the project's clone`);
    throw new InputError(`git knows no commit '${revision}' in ${root}; name a branch, tag or commit (e.g. main, HEAD~1, a sha)`);
  }
}

async function revisionTexts(root: string, commit: string): Promise<ModuleText[]> {
  // the products folder may live below the repository's top level: ls-tree paths are relative to the repository
  const prefix = (await run('git', ['-C', root, 'rev-parse', '--show-prefix'])).stdout.trim();
  const listing = await run('git', ['-C', root, 'ls-tree', '-r', '-z', '--full-tree', '--name-only', commit, '--', `${prefix}${PRODUCTS}`], { maxBuffer: 64 * 1024 * 1024 });
  const paths = listing.stdout
    .split('\0')
    .filter((p) => p.length > 0)
    .map((p) => p.slice(prefix.length))
    .filter(isModulePath)
    .sort();
  const texts = await catFiles(root, paths.map((p) => `${commit}:${prefix}${p}`));
  return paths.map((p, index) => ({ path: p, text: texts[index]! }));
}

/** Every object named, through one `git cat-file --batch`. */
function catFiles(root: string, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', root, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`git cat-file failed (${code}): ${stderr.trim()}`));
      const all = Buffer.concat(chunks);
      const texts: string[] = [];
      let at = 0;
      for (const name of names) {
        const end = all.indexOf(10, at);
        const header = all.subarray(at, end).toString();
        const match = /^[0-9a-f]+ blob (\d+)$/.exec(header);
        if (!match) return reject(new Error(`git cat-file could not read ${name}: ${header}`));
        const size = Number(match[1]);
        texts.push(all.subarray(end + 1, end + 1 + size).toString('utf8'));
        at = end + 1 + size + 1;
      }
      resolve(texts);
    });
    child.stdin.end(names.map((n) => `${n}\n`).join(''));
  });
}

/**
 * The project on disk: lastmile.config.ts, the product modules under products/, and the git commit they come from.
 * `scanProject` keeps the valid products when some modules are invalid (commands that only read the metadata store
 * go on with them); `loadProject` insists on every module being valid.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { CONFIG_FILES, loadConfig } from '../config/load.js';
import type { Config } from '../config/spec.js';
import { scanProducts } from '../product/loader.js';
import { openModuleImporter } from '../product/module-import.js';
import type { Product } from '../product/model.js';
import { ValidationError, type Problem } from '../product/problems.js';

/** The project on disk: its configuration and validated products. */
export interface Project {
  root: string;
  config: Config;
  products: Map<string, Product>;
  /**
   * The git commit the products were loaded from (recorded with every run and deployment), with `-dirty` appended
   * when the work tree had uncommitted changes to what lastmile loads (products/, the config, the seed folder).
   */
  gitSha?: string;
  /** True when `gitSha` carries `-dirty`: what ran is not exactly what the commit holds. */
  gitDirty?: boolean;
}

/** A product module that did not load or validate, with its problems. */
export interface InvalidModule {
  /** absolute path of the module */
  file: string;
  /** the product it declares, when that much could be read (else the file's base name) */
  product: string;
  problems: Problem[];
}

/** The project with its valid products, and the modules left out because they are invalid. */
export interface ProjectScan {
  project: Project;
  invalid: InvalidModule[];
  /** every problem of every module */
  problems: readonly Problem[];
}

/** Loads the config and every product module, keeping the valid products when others are invalid. */
export async function scanProject(root: string): Promise<ProjectScan> {
  // one module graph for the config, its seed and the products: the framework they import loads once
  const importer = openModuleImporter();
  let config: Config;
  let scan: Awaited<ReturnType<typeof scanProducts>>;
  try {
    config = await loadConfig(root, importer);
    scan = await scanProducts({ dir: path.join(root, 'products'), importer });
  } finally {
    await importer.close();
  }
  const state = gitState(root, config.seedModule);
  const project: Project = {
    root,
    config,
    products: new Map(scan.products.map((p) => [p.name, p])),
    ...(state && { gitSha: state.dirty ? `${state.sha}-dirty` : state.sha, gitDirty: state.dirty }),
  };
  return { project, invalid: invalidModules(scan.problems), problems: scan.problems };
}

/** Loads the project; throws `ValidationError` with every problem of every module when any is invalid. */
export async function loadProject(root: string): Promise<Project> {
  const { project, problems } = await scanProject(root);
  if (problems.length > 0) throw new ValidationError(problems);
  return project;
}

function invalidModules(problems: readonly Problem[]): InvalidModule[] {
  const byFile = new Map<string, InvalidModule>();
  for (const problem of problems) {
    const file = problem.file ?? '';
    let entry = byFile.get(file);
    if (!entry) {
      entry = { file, product: path.basename(file).replace(/\.[cm]?[jt]s$/, ''), problems: [] };
      byFile.set(file, entry);
    }
    if (problem.product !== undefined && entry.problems.every((p) => p.product === undefined)) entry.product = problem.product;
    entry.problems.push(problem);
  }
  return [...byFile.values()];
}

/**
 * The git commit of the project, or undefined outside a repository; `<sha>-dirty` when products/, the config or the
 * seed folder have uncommitted changes (new files included).
 */
export function gitSha(root: string, seedModule?: string): string | undefined {
  const state = gitState(root, seedModule);
  return state && (state.dirty ? `${state.sha}-dirty` : state.sha);
}

/** HEAD of the repository holding `root`, and whether what lastmile loads differs from it. */
export function gitState(root: string, seedModule?: string): { sha: string; dirty: boolean } | undefined {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  let sha: string;
  try {
    sha = git('rev-parse', 'HEAD').trim();
  } catch {
    return undefined;
  }
  if (!sha) return undefined;
  const loaded = ['products', ...CONFIG_FILES, ...(seedModule ? [seedFolder(seedModule)] : [])];
  try {
    return { sha, dirty: git('status', '--porcelain', '--untracked-files=all', '--', ...loaded).trim() !== '' };
  } catch {
    return { sha, dirty: false };
  }
}

/** `./seed/retailer/index.ts` → `seed/retailer`: the folder a seed module's data lives in (the module itself at the root). */
function seedFolder(seedModule: string): string {
  const module = path.posix.normalize(seedModule.replace(/\\/g, '/'));
  const folder = path.posix.dirname(module);
  return folder === '.' ? module : folder;
}

/**
 * The workflow code a worker runs, bundled for Temporal's sandbox. Bundling takes seconds, so a bundle is kept in
 * `<project>/.lastmile/cache/` under a key made of everything it is built from — every file of `workflows/` and the
 * versions of the SDK packages — and reused until one of them changes. A damaged cache file is ignored and rebuilt.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** The folder of lastmile's workflow code. */
export const WORKFLOWS_DIR = fileURLToPath(new URL('../../workflows/', import.meta.url));
export const WORKFLOWS_PATH = path.join(WORKFLOWS_DIR, 'index.ts');
/** The workflow interceptor that reports each workflow's outcome to the worker's log. */
const OUTCOME_LOG_PATH = path.join(WORKFLOWS_DIR, 'outcome-log.ts');
const SDK_PACKAGES = ['@temporalio/workflow', '@temporalio/worker', '@temporalio/common'];

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => process.stderr.write(`workflow bundle: ${message}\n`),
  error: (message: string) => process.stderr.write(`workflow bundle: ${message}\n`),
};

/** Builds the bundle anew. */
export function buildWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: [OUTCOME_LOG_PATH], logger: quietLogger });
}

/** What the bundle is made from, as a hex digest: the workflow code's build, as the deployments ledger records it. */
export async function bundleKey(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(WORKFLOWS_DIR, { recursive: true })).filter((f) => f.endsWith('.ts')).sort();
  for (const file of files) hash.update(file).update('\0').update(await readFile(path.join(WORKFLOWS_DIR, file))).update('\0');
  const require = createRequire(import.meta.url);
  for (const name of SDK_PACKAGES) {
    const manifest = JSON.parse(await readFile(require.resolve(`${name}/package.json`), 'utf8')) as { version?: string };
    hash.update(`${name}@${manifest.version ?? '?'}\0`);
  }
  return hash.digest('hex').slice(0, 20);
}

const memory = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** The bundle: from this process, else from the project's cache, else built (and cached). */
export function workflowBundle(root?: string): Promise<WorkflowBundleWithSourceMap> {
  const slot = root ?? '';
  let bundle = memory.get(slot);
  if (!bundle) {
    bundle = cachedBundle(root);
    memory.set(slot, bundle);
    bundle.catch(() => memory.delete(slot));
  }
  return bundle;
}

async function cachedBundle(root: string | undefined): Promise<WorkflowBundleWithSourceMap> {
  if (root === undefined) return await buildWorkflowBundle();
  const key = await bundleKey();
  const file = path.join(root, '.lastmile', 'cache', `workflows-${key}.json`);
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as Partial<WorkflowBundleWithSourceMap>;
    if (typeof cached.code === 'string' && typeof cached.sourceMap === 'string') return { code: cached.code, sourceMap: cached.sourceMap };
  } catch {
    // not cached yet, or unreadable: build it
  }
  const built = await buildWorkflowBundle();
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    await writeFile(partial, JSON.stringify({ code: built.code, sourceMap: built.sourceMap }));
    await rename(partial, file);
  } catch {
    // a cache that cannot be written only costs the next command the build
  }
  return built;
}

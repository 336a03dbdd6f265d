import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

/** What importing one module gave: its exports, or the error it failed with. */
export type ImportResult =
  | { readonly ok: true; readonly exports: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly error: unknown };

/**
 * One fresh module graph (a tsx namespace): the modules imported through it share it — the config, the seed and the
 * products of one load import the framework ('lastmile') once between them — and a later importer sees edited files.
 */
export interface ModuleImporter {
  import(files: readonly string[]): Promise<Map<string, ImportResult>>;
  close(): Promise<void>;
}

export function openModuleImporter(): ModuleImporter {
  const api = register({ namespace: `lastmile-${randomUUID()}` });
  return {
    async import(files) {
      const results = new Map<string, ImportResult>();
      const settled = await Promise.allSettled(files.map((file) => api.import(pathToFileURL(file).href, import.meta.url)));
      settled.forEach((outcome, index) => {
        results.set(
          files[index]!,
          outcome.status === 'fulfilled' ? { ok: true, exports: exportsOf(outcome.value) } : { ok: false, error: outcome.reason },
        );
      });
      return results;
    },
    close: () => api.unregister(),
  };
}

/**
 * Imports TypeScript or JavaScript modules at run time, with no build step (tsx), through `importer` when given, else
 * in a fresh module graph of their own; a module that fails to compile or throws while loading gives an error result
 * instead of failing the others.
 */
export async function importModules(files: readonly string[], importer?: ModuleImporter): Promise<Map<string, ImportResult>> {
  if (files.length === 0) return new Map();
  if (importer) return await importer.import(files);
  const own = openModuleImporter();
  try {
    return await own.import(files);
  } finally {
    await own.close();
  }
}

function exportsOf(namespace: unknown): Readonly<Record<string, unknown>> {
  return typeof namespace === 'object' && namespace !== null ? (namespace as Record<string, unknown>) : {};
}

/** A readable one-paragraph reason a module failed to load, from a compiler or runtime error. */
export function importErrorMessage(error: unknown, file: string): { message: string; fix: string } {
  const raw = error instanceof Error ? error.message : String(error);
  const lines = raw
    .replace(/^Transform failed with \d+ errors?:\s*/i, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const compile = lines.find((line) => /ERROR:/.test(line));
  if (compile) {
    const location = /:(\d+):(\d+):\s*ERROR:\s*(.*)$/.exec(compile);
    return {
      message: location
        ? `the module does not compile: line ${location[1]}, column ${location[2]}: ${location[3]}`
        : `the module does not compile: ${compile.replace(/^.*ERROR:\s*/, '')}`,
      fix: 'correct the syntax at that position (run `npx tsc --noEmit` for details)',
    };
  }
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(raw)) {
    return {
      message: `the module imports something that cannot be found: ${lines[0] ?? raw}`,
      fix: "import the framework from 'lastmile' and check relative import paths; run npm install if a package is missing",
    };
  }
  if (/Unexpected token 'export'|Cannot use import statement outside a module/.test(raw)) {
    return {
      message: `the module was loaded as CommonJS, so its import/export syntax is refused: ${lines[0] ?? raw}`,
      fix: 'product modules are ES modules: add "type": "module" to the package.json of the project (next to lastmile.config.ts)',
    };
  }
  const where = error instanceof Error ? stackLine(error, file) : undefined;
  return {
    message: `the module threw while loading${where ? ` (${where})` : ''}: ${lines[0] ?? raw}`,
    fix: 'a product module should only declare data: remove code that runs at import time, or fix the error it throws',
  };
}

function stackLine(error: Error, file: string): string | undefined {
  const line = error.stack?.split('\n').find((entry) => entry.includes(file));
  const match = line ? /:(\d+):(\d+)\)?$/.exec(line) : null;
  return match ? `line ${match[1]}` : undefined;
}

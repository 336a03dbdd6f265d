import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasBrand, PRODUCT_BRAND } from '../product/brand.js';
import { importErrorMessage, importModules, type ModuleImporter } from '../product/module-import.js';
import type { Problem } from '../product/problems.js';
import { ValidationError } from '../product/problems.js';
import { at, isRecord } from '../product/raw.js';
import { loadSeedModule } from './seed-module.js';
import type { Config } from './spec.js';
import { isConfigDefinition } from './spec.js';
import { validateConfig } from './validate.js';

export const CONFIG_FILES = ['lastmile.config.ts', 'lastmile.config.mts', 'lastmile.config.js', 'lastmile.config.mjs'];

/**
 * Finds, imports and validates `lastmile.config.ts` in `dir`, and loads the seed module it names; throws
 * `ValidationError` with every problem.
 */
export async function loadConfig(dir: string, importer?: ModuleImporter): Promise<Config> {
  const root = path.resolve(dir);
  const file = CONFIG_FILES.map((name) => path.join(root, name)).find((candidate) => existsSync(candidate));
  if (!file) {
    throw new ValidationError([
      {
        file: path.join(root, CONFIG_FILES[0]),
        path: '',
        message: `there is no lastmile.config.ts in ${root}`,
        fix: "create it: import { defineConfig } from 'lastmile'; export default defineConfig({ environments: { dev: {} }, promotion: ['dev'] })",
      },
    ]);
  }
  const result = (await importModules([file], importer)).get(file);
  if (!result || !result.ok) {
    throw new ValidationError([{ file, path: '', ...importErrorMessage(result?.ok === false ? result.error : undefined, file) }]);
  }
  const declaration = result.exports.default;
  const problems: Problem[] = [];
  if (!isConfigDefinition(declaration)) {
    problems.push({
      file,
      path: '',
      message:
        declaration === undefined
          ? 'the config module has no default export'
          : hasBrand(declaration, PRODUCT_BRAND)
            ? 'the config module exports a product, not a configuration'
            : 'the default export is not the result of defineConfig(...)',
      fix: "export default defineConfig({ environments: {...}, promotion: [...] }), importing defineConfig from 'lastmile'",
    });
    if (!isRecord(declaration) || hasBrand(declaration, PRODUCT_BRAND)) throw new ValidationError(problems);
  }
  const validation = validateConfig(declaration, file);
  problems.push(...validation.problems);
  // The seed module is checked even when other fields are wrong, so every problem is reported at once.
  const seedModule = at(declaration, 'seed');
  const seed = typeof seedModule === 'string' && seedModule.trim() !== '' && !path.isAbsolute(seedModule) ? await loadSeedModule(root, seedModule, file, importer) : undefined;
  problems.push(...(seed?.problems ?? []));
  if (problems.length > 0 || !validation.config) throw new ValidationError(problems);
  return seed?.seed ? { ...validation.config, seed: seed.seed } : validation.config;
}

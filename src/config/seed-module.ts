/**
 * Loading the module `seed` in lastmile.config.ts names, the way product modules are loaded (tsx, a fresh module
 * graph): the file must exist and its default export must be a sound `defineSeed(...)` declaration.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_BRAND, hasBrand, PRODUCT_BRAND } from '../product/brand.js';
import { importErrorMessage, importModules, type ModuleImporter } from '../product/module-import.js';
import type { Problem } from '../product/problems.js';
import { isSeedDefinition, seedSpecProblems, type SeedDefinition } from '../warehouse/seeding/spec.js';

export interface SeedModuleLoad {
  /** Absolute path of the seed module. */
  file: string;
  seed?: SeedDefinition;
  problems: Problem[];
}

const DECLARE = "export default defineSeed({ name, version, schemas, build, checksum }) in that module, importing defineSeed from 'lastmile'";

/** Loads the seed module `module` (relative to `root`) that `configFile` names; every problem names field `seed`. */
export async function loadSeedModule(root: string, module: string, configFile: string, importer?: ModuleImporter): Promise<SeedModuleLoad> {
  const file = path.resolve(root, module);
  const problem = (message: string, fix: string): SeedModuleLoad => ({ file, problems: [{ file: configFile, path: 'seed', message, fix }] });
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) {
    return problem(
      `the seed module '${module}' does not exist (there is no ${file})`,
      'correct the path, relative to the project root (the folder of lastmile.config.ts), or remove seed so that embedded warehouses start empty',
    );
  }
  if (stat.isDirectory()) {
    return problem(`'${module}' is a folder, not a module`, `name the seed's entry module, e.g. seed: '${module.replace(/[\\/]+$/, '')}/index.ts'`);
  }
  const result = (await importModules([file], importer)).get(file);
  if (!result || !result.ok) {
    const reason = importErrorMessage(result?.ok === false ? result.error : undefined, file);
    return problem(`the seed module '${module}' cannot be loaded: ${reason.message}`, reason.fix.replace(/\bproduct module/g, 'seed module'));
  }
  const declaration = result.exports.default;
  if (!isSeedDefinition(declaration)) {
    const what =
      declaration === undefined
        ? 'has no default export'
        : hasBrand(declaration, PRODUCT_BRAND)
          ? 'exports a product, not a seed'
          : hasBrand(declaration, CONFIG_BRAND)
            ? 'exports a configuration, not a seed'
            : 'has a default export that is not the result of defineSeed(...)';
    return problem(`the seed module '${module}' ${what}`, DECLARE);
  }
  const problems = seedSpecProblems(declaration).map((p): Problem => ({ file, path: p.path, message: p.message, fix: p.fix }));
  return { file, seed: declaration, problems };
}

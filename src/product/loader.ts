import { stat } from 'node:fs/promises';
import path from 'node:path';
import { hasBrand, CONFIG_BRAND } from './brand.js';
import { discoverModules } from './discover.js';
import type { Product } from './model.js';
import { importErrorMessage, importModules, type ModuleImporter } from './module-import.js';
import type { Problem } from './problems.js';
import { displayPath, ValidationError } from './problems.js';
import { at, isRecord } from './raw.js';
import { isProductDefinition } from './spec.js';
import { validateProduct } from './validate.js';

export interface LoadProductsOptions {
  /** The folder holding product modules, e.g. `products`. */
  dir: string;
  /** the module graph to import them in (shared with the config's, so the framework loads once); a fresh one when absent */
  importer?: ModuleImporter;
}

export interface ProductScan {
  /** Every valid product (also when other modules have problems). */
  products: Product[];
  /** Every problem of every module. */
  problems: Problem[];
  /** The modules found. */
  files: string[];
}

/**
 * Loads and validates every product module under `dir` and returns the products. Throws `ValidationError` carrying
 * every problem of every module (not only the first) when any module is invalid.
 */
export async function loadProducts(options: LoadProductsOptions): Promise<Product[]> {
  const { products, problems } = await scanProducts(options);
  if (problems.length > 0) throw new ValidationError(problems);
  return products;
}

/** Like `loadProducts`, but returns the valid products and the problems side by side instead of throwing. */
export async function scanProducts(options: LoadProductsOptions): Promise<ProductScan> {
  const dir = path.resolve(options.dir);
  const missing = await missingFolderProblem(dir);
  if (missing) return { products: [], problems: [missing], files: [] };

  const files = await discoverModules(dir);
  const imported = await importModules(files, options.importer);
  const problems: Problem[] = [];
  const products: Product[] = [];
  const names: { name: string; file: string }[] = [];

  for (const file of files) {
    const result = imported.get(file);
    if (!result) continue;
    if (!result.ok) {
      problems.push({ file, path: '', ...importErrorMessage(result.error, file) });
      continue;
    }
    const declaration = defaultDeclaration(result.exports, file, problems);
    if (declaration === undefined) continue;
    const name = at(declaration, 'name');
    if (typeof name === 'string') names.push({ name, file });
    const validation = validateProduct(declaration, file);
    problems.push(...validation.problems);
    if (validation.product) products.push(validation.product);
  }

  const duplicates = duplicateNameProblems(names);
  problems.push(...duplicates);
  const duplicated = new Set(duplicates.map((problem) => problem.file));
  return { products: products.filter((product) => !duplicated.has(product.file)), problems, files };
}

/** The declaration a module exports by default, or undefined (with a problem recorded) when there is none. */
export function defaultDeclaration(exports: Readonly<Record<string, unknown>>, file: string, problems: Problem[]): unknown {
  const value = exports.default;
  if (isProductDefinition(value)) return value;
  if (value === undefined) {
    const named = Object.entries(exports).find(([, exported]) => isProductDefinition(exported));
    problems.push({
      file,
      path: '',
      message: named
        ? `the module has no default export; the product is exported as '${named[0]}'`
        : 'the module has no default export, so it declares no product',
      fix: named
        ? `export it as the default: export default defineProduct({...}) (instead of export const ${named[0]} = ...)`
        : "end the module with export default defineProduct({...}); put shared helpers in files starting with '_' so they are not loaded as products",
    });
    return undefined;
  }
  if (hasBrand(value, CONFIG_BRAND)) {
    problems.push({
      file,
      path: '',
      message: 'the default export is a defineConfig(...) configuration, not a product',
      fix: 'move it to lastmile.config.ts at the project root; product modules export defineProduct({...})',
    });
    return undefined;
  }
  if (isRecord(value)) {
    // Validate it anyway, so its other problems show up in the same run.
    problems.push({
      file,
      path: '',
      message: 'the default export is a plain object, not the result of defineProduct(...)',
      fix: "wrap it: import { defineProduct } from 'lastmile'; export default defineProduct({...}) — that also gives type checking of every column and metric name",
    });
    return value;
  }
  problems.push({
    file,
    path: '',
    message: `the default export is ${typeof value === 'function' ? 'a function' : typeof value}, not a product`,
    fix: "export the declaration itself: export default defineProduct({...})",
  });
  return undefined;
}

export function duplicateNameProblems(names: readonly { name: string; file: string }[]): Problem[] {
  const byName = new Map<string, string[]>();
  for (const { name, file } of names) byName.set(name, [...(byName.get(name) ?? []), file]);
  const problems: Problem[] = [];
  for (const [name, files] of byName) {
    if (files.length < 2) continue;
    for (const file of files) {
      const others = files.filter((other) => other !== file).map((other) => displayPath(other));
      problems.push({
        file,
        path: 'name',
        product: name,
        message: `the product name '${name}' is also used by ${others.join(', ')}; product names must be unique`,
        fix: `rename one of them (${[file, ...files.filter((other) => other !== file)].map((f) => displayPath(f)).join(' or ')}); names identify schedules, workflows and served objects`,
      });
    }
  }
  return problems;
}

async function missingFolderProblem(dir: string): Promise<Problem | undefined> {
  try {
    if ((await stat(dir)).isDirectory()) return undefined;
  } catch {
    // Reported below.
  }
  return {
    file: dir,
    path: '',
    message: `the products folder ${displayPath(dir)} does not exist`,
    fix: 'create it and add one module per product (products/<name>.ts), or point lastmile at the right folder',
  };
}

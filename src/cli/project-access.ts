/**
 * How much of the project a command needs. An invalid product module blocks only the commands that need it:
 * - `whole`: every module valid (validate, dev, worker) — else every problem, exit 1;
 * - `readable`: the valid products (status, slo, list, runs, …) — the invalid modules named in one warning on stderr;
 * - `product`: one product valid (run X, revoke X) — X's own problems when X is the invalid one, a warning otherwise.
 */
import { displayPath, ValidationError } from '../product/problems.js';
import type { Product } from '../product/model.js';
import { loadProject, scanProject, type InvalidModule, type Project, type ProjectScan } from '../runtime/project.js';
import { didYouMean } from '../text/suggest.js';
import { UsageError } from './exit-codes.js';
import type { Output } from './output.js';

/** Every module valid, or `ValidationError` with every problem. */
export async function wholeProject(root: string): Promise<Project> {
  return await loadProject(root);
}

/** The valid products; the invalid modules are named in one warning paragraph on stderr. */
export async function readableProject(root: string, out: Output): Promise<ProjectScan> {
  const scan = await scanProject(root);
  warnInvalid(scan.invalid, out);
  return scan;
}

/**
 * The project with product `name` valid. Its own problems (`ValidationError`) when its module is invalid; a
 * `UsageError` naming the products when there is no such product; other invalid modules only warn.
 */
export async function projectWithProduct(root: string, name: string, out: Output): Promise<{ project: Project; product: Product }> {
  const scan = await scanProject(root);
  const own = scan.invalid.filter((module) => module.product === name);
  if (own.length > 0) throw new ValidationError(own.flatMap((module) => module.problems));
  const product = scan.project.products.get(name);
  if (!product) throw unknownProduct(scan, name);
  warnInvalid(scan.invalid, out);
  return { project: scan.project, product };
}

/**
 * A product named on the command line that is neither valid nor the name of an invalid module: `no product named
 * X in <root>/products; the products are …`.
 */
export function unknownProduct(scan: ProjectScan, name: string): UsageError {
  const names = [...scan.project.products.keys()].sort();
  const invalid = scan.invalid.map((module) => module.product);
  const suggestion = didYouMean(name, [...names, ...invalid]).trim();
  return new UsageError(
    `no product named ${name} in ${scan.project.root}/products; the products are ${names.join(', ') || 'none'}` +
      (invalid.length > 0 ? ` (and the invalid ${invalid.join(', ')})` : '') +
      (suggestion ? `. ${suggestion}` : ''),
  );
}

/** True when `name` is a valid product or the product of an invalid module (its records can still be read). */
export function knownProduct(scan: ProjectScan, name: string): boolean {
  return scan.project.products.has(name) || scan.invalid.some((module) => module.product === name);
}

/** One paragraph on stderr naming each invalid module and how many problems it has. */
export function warnInvalid(invalid: readonly InvalidModule[], out: Output): void {
  if (invalid.length === 0) return;
  const named = invalid.map((module) => {
    const count = module.problems.length === 1 ? '1 problem' : `${module.problems.length} problems`;
    return `${displayPath(module.file)} (product ${module.product}, ${count})`;
  });
  const what = invalid.length === 1 ? '1 product module is invalid and left out' : `${invalid.length} product modules are invalid and left out`;
  out.note(`lastmile: warning: ${what}: ${named.join(', ')}. Run lastmile validate to see every problem and how to fix it.`);
}

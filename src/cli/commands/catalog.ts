import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildCatalog } from '../../catalog/model.js';
import { offlineStatus, readStoreStatus, type StoreStatus } from '../../catalog/store-status.js';
import { pageName } from '../../catalog/escape.js';
import { writeCatalog } from '../../catalog/write.js';
import { loadConfig } from '../../config/load.js';
import { resolveEnvironment } from '../../config/resolve.js';
import { displayPath } from '../../product/problems.js';
import { readProducts } from '../../static/read.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface CatalogCommandOptions {
  env: string;
  offline: boolean;
  /** the folder to write; relative to the working directory (default `<root>/.lastmile/catalog`) */
  out?: string;
  /** a git revision to read the products at */
  revision?: string;
}

/** The default output folder: inside `.lastmile/`, which every lastmile project ignores in git. */
export const DEFAULT_CATALOG_DIR = path.join('.lastmile', 'catalog');

/**
 * `lastmile catalog [--out DIR] [--offline] [--revision REV] [--env E]`: the products read statically, their latest
 * runs and SLOs from the metadata store where it can be opened, written as a static site and Markdown.
 */
export async function catalogCommand(root: string, options: CatalogCommandOptions, out: Output): Promise<number> {
  const read = await readProducts(root, options.revision !== undefined ? { revision: options.revision } : {});
  const invalid = [...new Set(read.problems.map((p) => (p.file ? displayPath(p.file, root) : 'the project')))];
  if (invalid.length > 0) {
    out.note(`lastmile: warning: ${invalid.length === 1 ? '1 product module is' : `${invalid.length} product modules are`} invalid and left out of the catalog: ${invalid.join(', ')}. Run lastmile validate to see every problem and how to fix it.`);
  }
  const products = read.products.map((p) => p.product);
  // the environment is checked with --offline too: the pages name it
  const config = await loadConfig(root);
  const env = resolveEnvironment(config, options.env).name;
  const store: StoreStatus = options.offline ? offlineStatus(env) : await readStoreStatus({ config, env, root, products });
  const model = buildCatalog(read, store);
  const outDir = path.resolve(options.out ?? path.join(root, DEFAULT_CATALOG_DIR));
  const written = await writeCatalog(model, outDir, root);

  if (out.json) {
    out.printJson({
      out: outDir,
      index: written.index,
      markdown: written.markdown,
      revision: model.revision,
      products: model.products.map((p) => ({ name: p.name, page: written.pages.find((page) => path.basename(page) === pageName(p.name)) ?? null })),
      invalidModules: invalid,
      store: store.reachable ? { env: store.env, reachable: true, description: store.description } : { env: store.env, reachable: false, reason: store.reason },
    });
    return EXIT.ok;
  }
  const count = model.products.length === 1 ? '1 product' : `${model.products.length} products`;
  out.print(`catalog of ${count} written to ${outDir}`);
  out.print(`  open ${pathToFileURL(written.index).href}`);
  out.print(`  markdown ${written.markdown}`);
  out.print(store.reachable ? `run status from the ${store.env} metadata store (${store.description})` : `no run status: ${store.reason}`);
  return EXIT.ok;
}

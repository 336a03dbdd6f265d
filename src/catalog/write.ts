/** Writes a catalog model to a folder: `index.html`, `products/<name>.html` for each product, and `catalog.md`. */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pageName } from './escape.js';
import { indexPage } from './html-index.js';
import { productPage } from './html-product.js';
import { catalogMarkdown } from './markdown.js';
import type { CatalogModel } from './model.js';

export interface WrittenCatalog {
  /** absolute paths */
  readonly index: string;
  readonly markdown: string;
  readonly pages: readonly string[];
}

/**
 * Writes the catalog into `outDir` (created when missing). Pages of products no longer in the catalog are removed
 * from `products/`; nothing else in the folder is touched.
 */
export async function writeCatalog(model: CatalogModel, outDir: string, root: string): Promise<WrittenCatalog> {
  const productsDir = path.join(outDir, 'products');
  await mkdir(productsDir, { recursive: true });
  const pages: string[] = [];
  for (const entry of model.products) {
    const file = path.join(productsDir, pageName(entry.name));
    await writeFile(file, productPage(model, entry));
    pages.push(file);
  }
  const keep = new Set(pages.map((p) => path.basename(p)));
  for (const name of await readdir(productsDir)) {
    if (name.endsWith('.html') && !keep.has(name)) await rm(path.join(productsDir, name), { force: true });
  }
  const index = path.join(outDir, 'index.html');
  await writeFile(index, indexPage(model, root));
  const markdown = path.join(outDir, 'catalog.md');
  await writeFile(markdown, catalogMarkdown(model));
  return { index, markdown, pages };
}

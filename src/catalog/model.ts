/**
 * The catalog as data: every product of a static read with its lineage and, where the metadata store was read, its
 * latest run and SLOs. The HTML and Markdown writers render this and nothing else.
 */
import type { Product } from '../product/model.js';
import type { Problem } from '../product/problems.js';
import type { SloState } from '../slo/index.js';
import type { StaticProduct, StaticRead } from '../static/types.js';
import { deriveLineage, type ProductEdge, type ProductLineage } from './lineage.js';
import type { ProductStatus, StoreStatus } from './store-status.js';

export interface CatalogProduct {
  readonly name: string;
  readonly product: Product;
  readonly read: StaticProduct;
  readonly lineage: ProductLineage;
  /** from the metadata store; undefined when it was not read */
  readonly status?: ProductStatus;
  /** the worst state of its SLOs and the least error budget left; `none` without SLOs, `unknown` without a store */
  readonly slo: { readonly state: SloState | 'none' | 'unknown'; readonly budgetRemaining: number | null };
}

export interface CatalogModel {
  /** the revision read (`worktree` or a commit id) */
  readonly revision: string;
  readonly generatedAt: Date;
  /** products by name */
  readonly products: readonly CatalogProduct[];
  /** problems of the modules left out because they are invalid */
  readonly problems: readonly Problem[];
  readonly store: StoreStatus;
  /** every product-reads-product edge */
  readonly edges: readonly ProductEdge[];
}

const SEVERITY: Readonly<Record<SloState, number>> = { breached: 3, at_risk: 2, ok: 1, no_data: 0 };

export function buildCatalog(read: StaticRead, store: StoreStatus, generatedAt: Date = new Date()): CatalogModel {
  const sorted = [...read.products].sort((a, b) => a.product.name.localeCompare(b.product.name));
  const lineage = deriveLineage(sorted.map((p) => p.product));
  const products = sorted.map((entry): CatalogProduct => {
    const product = entry.product;
    const status = store.reachable ? store.products.get(product.name) : undefined;
    return {
      name: product.name,
      product,
      read: entry,
      lineage: lineage.get(product.name)!,
      ...(status && { status }),
      slo: sloSummary(product, status),
    };
  });
  return {
    revision: read.revision,
    generatedAt,
    products,
    problems: read.problems,
    store,
    edges: products.flatMap((p) => p.lineage.downstream),
  };
}

function sloSummary(product: Product, status: ProductStatus | undefined): CatalogProduct['slo'] {
  if (!product.slo) return { state: 'none', budgetRemaining: null };
  if (!status) return { state: 'unknown', budgetRemaining: null };
  if (status.slos.length === 0) return { state: 'none', budgetRemaining: null };
  const worst = status.slos.reduce((a, b) => (SEVERITY[b.status] > SEVERITY[a.status] ? b : a));
  const budgets = status.slos.flatMap((s) => (s.budgetRemaining === null ? [] : [s.budgetRemaining]));
  return { state: worst.status, budgetRemaining: budgets.length > 0 ? Math.min(...budgets) : null };
}

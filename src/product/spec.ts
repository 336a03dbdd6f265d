import { brand, hasBrand, PRODUCT_BRAND } from './brand.js';
import type { CheckSpec } from './checks.js';
import type { ColumnType } from './column-types.js';
import type { Audience, Metric, OnDefects, Owner, ProductUser, SloSpec } from './model.js';
import type { SemVer } from './names.js';
import type { Source } from './source.js';
import type { Classification, TargetSpec } from './targets.js';

/** A contract column as written. */
export interface ColumnSpec<C extends string = string> {
  readonly name: C;
  readonly type: ColumnType;
  /** Default true. */
  readonly nullable?: boolean;
  readonly description?: string;
  /** Default `internal`. */
  readonly classification?: Classification;
}

/** A metric as declared; the same shape as the validated one. */
export type MetricSpec<C extends string = string> = Metric<C>;

/**
 * A product module's declaration. `C` is the union of contract column names and `M` of metric names, both inferred
 * from the declaration itself, so a misspelt column or metric anywhere else is a type error.
 */
export interface ProductSpec<C extends string = string, M extends string = string> {
  /** snake_case, unique across products. */
  readonly name: string;
  readonly version: SemVer;
  readonly owner: Owner;
  readonly domain: string;
  readonly description: string;
  readonly audience: Audience;
  readonly users: readonly ProductUser[];
  readonly source: Source;
  readonly contract: {
    readonly key?: readonly NoInfer<C>[];
    readonly columns: readonly ColumnSpec<C>[];
  };
  readonly metrics?: { readonly [K in M]: MetricSpec<NoInfer<C>> };
  readonly checks?: readonly CheckSpec<NoInfer<C>>[];
  readonly slo?: SloSpec;
  /** What rows failing a row-level check do: `block` the run (default), or `quarantine` them and serve the rest. */
  readonly onDefects?: OnDefects;
  readonly serve: readonly TargetSpec<NoInfer<C>, NoInfer<M>>[];
}

/** What `defineProduct` returns: the declaration, marked so the loader recognises it. */
export type ProductDefinition<C extends string = string, M extends string = string> = ProductSpec<C, M> & {
  readonly [PRODUCT_BRAND]: true;
};

/**
 * Declares a data product. It does not throw: the loader validates every product module and reports all problems
 * of all modules at once, with file and field.
 */
export function defineProduct<const C extends string, const M extends string = never>(
  spec: ProductSpec<C, M>,
): ProductDefinition<C, M> {
  return brand(spec, PRODUCT_BRAND) as ProductDefinition<C, M>;
}

export function isProductDefinition(value: unknown): value is ProductDefinition {
  return hasBrand(value, PRODUCT_BRAND);
}

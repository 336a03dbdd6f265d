/**
 * What reading products statically gives: each product module of `products/`, read with the TypeScript compiler
 * (ts-morph) at the work tree or at a git revision, without running it, and validated like a loaded one.
 */
import type { Product } from '../product/model.js';
import type { Problem } from '../product/problems.js';

/** A place in a module, 1-based as editors show it. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A field whose value is computed (a call, a variable from elsewhere, a spread) rather than written literally. */
export interface ComputedField {
  /** the field's path in the declaration, e.g. `serve[1].schedule.cron` */
  readonly path: string;
  /** what the expression is, e.g. `a call to buildColumns()` */
  readonly reason: string;
  readonly position: SourcePosition;
}

export interface StaticProduct {
  /** the module's path relative to the project root, with `/` (e.g. `products/ad_bids.ts`) */
  readonly file: string;
  readonly product: Product;
  /**
   * `static`: every field was read from the source text; `loaded`: some field was computed, so the module was
   * loaded (run) to read it — `computed` says which.
   */
  readonly how: 'static' | 'loaded';
  readonly computed: readonly ComputedField[];
  /** the doc comment written above `defineProduct` (or the default export), without the comment markers */
  readonly docs?: string;
  /** where `defineProduct(` is */
  readonly position: SourcePosition;
}

export interface StaticRead {
  /** the git revision read (a commit id), or `worktree` */
  readonly revision: string;
  readonly products: readonly StaticProduct[];
  /** every problem of every module (invalid products are left out of `products`) */
  readonly problems: readonly Problem[];
}

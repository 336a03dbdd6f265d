/** What a change between two revisions of a product means for its consumers. */
export type ChangeClass = 'breaking' | 'needs-review' | 'non-breaking';

export interface Change {
  readonly class: ChangeClass;
  /** what changed, e.g. `column units`, `metric return_rate`, `target bid_sync`, `share supplier_portal, consumer SUP-001` */
  readonly subject: string;
  /** one sentence: what changed and why it counts as this class */
  readonly message: string;
}

/** `invalid`: the module is there at the new revision but does not validate, so nothing can be judged */
export type ProductStatus = 'added' | 'removed' | 'changed' | 'unchanged' | 'invalid';
export type VersionBump = 'major' | 'minor' | 'patch' | 'none' | 'lower';

export interface ProductDiff {
  readonly product: string;
  readonly file: string;
  readonly status: ProductStatus;
  /** the most severe class of its changes; undefined when nothing changed */
  readonly verdict?: ChangeClass;
  readonly version: { readonly from?: string; readonly to?: string; readonly bump: VersionBump };
  /** false when a breaking change comes without a major version bump (the promotion gate refuses it) */
  readonly accepted: boolean;
  /** why it is not accepted, and the fix */
  readonly refusal?: string;
  readonly changes: readonly Change[];
}

export interface ContractDiff {
  readonly from: string;
  readonly to: string;
  readonly products: readonly ProductDiff[];
  readonly summary: { readonly breaking: number; readonly needsReview: number; readonly nonBreaking: number; readonly refused: number };
}

export const CLASS_ORDER: readonly ChangeClass[] = ['breaking', 'needs-review', 'non-breaking'];

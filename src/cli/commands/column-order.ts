import type { JsonValue } from '../../meta/types.js';
import type { Product } from '../../product/model.js';

/**
 * The fields of a stored row (jsonb keeps its own key order: shortest first) in the product's order: its contract's
 * key, then its other contract columns, then any others as found.
 */
export function columnOrder(product: Product | undefined, rows: readonly { [column: string]: JsonValue }[]): string[] {
  const declared = product ? [...product.contract.key, ...product.contract.columns.map((c) => c.name)] : [];
  const found = new Set(rows.flatMap((row) => Object.keys(row)));
  return [...new Set([...declared.filter((name) => found.has(name)), ...found])];
}

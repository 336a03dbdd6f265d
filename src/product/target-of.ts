import type { Product } from './model.js';
import type { Target } from './targets.js';

/** The target `name` of kind `kind` of a product, or an error naming the targets of that kind it has. */
export function targetOf<K extends Target['kind']>(product: Product, name: string, kind: K): Extract<Target, { kind: K }> {
  const target = product.serve.find((t) => t.name === name);
  if (!target || target.kind !== kind) {
    const names = product.serve.filter((t) => t.kind === kind).map((t) => t.name);
    throw new Error(`product ${product.name} has no ${kind} target ${name}; its ${kind} targets are ${names.join(', ') || 'none'}`);
  }
  return target as Extract<Target, { kind: K }>;
}

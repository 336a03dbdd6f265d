/**
 * Marks what `defineProduct` / `defineConfig` / `defineSeed` return. The loader imports modules in a fresh module
 * graph, so a module-local symbol or class would differ between the framework's copy and the module's copy; a
 * registered symbol (`Symbol.for`) is the same everywhere in the process.
 */
export const PRODUCT_BRAND: unique symbol = Symbol.for('lastmile.product') as never;
export const CONFIG_BRAND: unique symbol = Symbol.for('lastmile.config') as never;
export const SEED_BRAND: unique symbol = Symbol.for('lastmile.seed') as never;

/** Adds a non-enumerable brand, leaving the declaration's own fields untouched. */
export function brand<T extends object>(value: T, symbol: symbol): T {
  const copy = { ...value };
  Object.defineProperty(copy, symbol, { value: true, enumerable: false });
  return copy;
}

export function hasBrand(value: unknown, symbol: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
}

/** Sources compiled to the SQL of one environment: logical schemas mapped to physical ones, every name quoted. */
import { renderSource, type SchemaMap, type Source, type TableRef } from '../product/source.js';
import { quoteIdent, quoteQualified } from '../warehouse/quote.js';

/** The physical, quoted name of a table in an environment: `"marts_test"."returns_weekly"`. */
export function resolveTable(ref: TableRef, schemas: SchemaMap = {}): string {
  return quoteQualified(schemas[ref.schema] ?? ref.schema, ref.name);
}

/**
 * The physical SQL of a source: a query text, with every table placeholder replaced by its quoted physical name (or
 * by what `nameOf` says for it).
 */
export function resolveSql(source: Source, schemas: SchemaMap = {}, nameOf: (ref: TableRef) => string = (ref) => resolveTable(ref, schemas)): string {
  return renderSource(source, nameOf);
}

/** The physical SQL of a product's source in an environment. */
export function resolveSource(product: { readonly source: Source }, schemas: SchemaMap = {}): string {
  return resolveSql(product.source, schemas);
}

/** Only the contract's columns, in contract order, from the product's source. */
export function compileContractQuery(
  product: { readonly source: Source; readonly contract: { readonly columns: readonly { readonly name: string }[] } },
  schemas: SchemaMap = {},
): string {
  const columns = product.contract.columns.map((column) => quoteIdent(column.name)).join(', ');
  return `select ${columns} from (${resolveSource(product, schemas)}) as s`;
}

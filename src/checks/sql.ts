/** Small SQL-building helpers shared by the check compilers. Values become parameters, names go through quoteIdent. */
import type { Product } from '../product/model.js';
import { quoteIdent } from '../warehouse/quote.js';
import { resolveSource } from '../sql/resolve.js';
import { type SchemaMap } from '../product/source.js';

/** A value lastmile passes as a query parameter. */
export type SqlParam = string | number | boolean | Date | null | readonly (string | number | boolean)[];

/** A statement and its parameters, ready for `pg`'s `query({ text, values })`. */
export interface CompiledQuery {
  readonly text: string;
  readonly values: SqlParam[];
}

/**
 * Collects the parameters of one statement: `add(value)` returns its placeholder (`$3`). `offset` shifts the
 * numbering, so a compiled fragment can follow parameters of an enclosing statement.
 */
export class Params {
  readonly values: SqlParam[] = [];
  constructor(private readonly offset = 0) {}

  add(value: SqlParam, cast?: string): string {
    this.values.push(value);
    return `$${this.offset + this.values.length}${cast ? `::${cast}` : ''}`;
  }
}

/** `s."column"` */
export function col(name: string, alias = 's'): string {
  return `${alias}.${quoteIdent(name)}`;
}

/**
 * The product's source as a derived table, `(<source>) as s`. The SQL sits on lines of its own, so a trailing
 * `-- comment` in the source (or in a predicate) cannot swallow what lastmile writes after it.
 *
 * With `fence`, Postgres is kept from merging the source into the query around it, so each source row is computed
 * once however often the checks refer to its columns. Without it, Postgres substitutes a computed column's
 * expression at every reference (it does not share common subexpressions): a source with an expensive column (the
 * example lead_scores computes a logistic score with exp()) is computed once per reference — a range check alone
 * refers to its column three times. The fence is a one-element set-returning function in the select list
 * (`unnest(array[1])`, one row out per row in), which blocks the merge but, unlike `offset 0`, keeps the pass
 * parallel. It costs ≈25 % on a source with only stored columns, which is why tables go without it (`fenceFor`).
 */
export function fromSource(product: Pick<Product, 'source'>, schemas: SchemaMap, alias = 's', fence = false): string {
  const source = `(\n${resolveSource(product, schemas)}\n)`;
  return fence ? `(select lastmile_source.*, unnest(array[1]) as lastmile_fence from ${source} as lastmile_source) as ${alias}` : `${source} as ${alias}`;
}

/** Whether the check passes fence the source: a table's columns are stored values, nothing to recompute; a query's may not be. */
export function fenceFor(product: Pick<Product, 'source'>): boolean {
  return product.source.kind === 'sql';
}

/** User SQL (a row predicate, an assertion) on lines of its own, for the same reason. */
export function userSql(text: string): string {
  return `\n${text.trim().replace(/;\s*$/, '')}\n`;
}

/**
 * The columns that identify a row in samples and the quarantine: the contract key, or every contract column when
 * the contract has no key.
 */
export function keyColumns(product: Pick<Product, 'contract'>): readonly string[] {
  const key = product.contract.key;
  return key.length > 0 ? key : product.contract.columns.map((column) => column.name);
}

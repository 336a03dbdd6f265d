/**
 * Serving only the valid rows: `validRowsQuery` is the product's source without the rows that fail a row-level
 * check; `quarantineQuery` selects exactly those rows, with the checks each one failed, for `lastmile.quarantine`.
 * The two split the source: every row is in exactly one of them (the failure conditions are never NULL).
 *
 * Only row-level checks decide (notNull, acceptedValues, range, pattern, rowPredicate): they are properties of a
 * row. unique, references and assertions judge groups of rows or the whole result and do not remove rows.
 */
import type { Product } from '../product/model.js';
import type { SchemaMap } from '../product/source.js';
import { failureCondition, rowLevelChecks } from './compile.js';
import { Params, col, fromSource, keyColumns, type CompiledQuery } from './sql.js';

export interface QuarantineOptions {
  /**
   * Number of the parameters that come before this query's own (default 0): with 2, its first parameter is `$3`.
   * For embedding the SQL in a statement that has parameters of its own.
   */
  paramOffset?: number;
}

/**
 * Rows of the source that fail at least one row-level check, ordered by the key: columns `key` (json: the contract
 * key, or all contract columns), `row` (jsonb: the whole source row) and `failed_checks` (text[]: check names, in
 * declaration order). A product without row-level checks gets a query returning no rows.
 */
export function quarantineQuery(product: Pick<Product, 'source' | 'contract' | 'checks'>, schemas: SchemaMap = {}, options: QuarantineOptions = {}): CompiledQuery {
  const params = new Params(options.paramOffset ?? 0);
  const checks = rowLevelChecks(product);
  const key = keyColumns(product);
  const failures = checks.map((check) => failureCondition(check, params));
  const names = checks.map((check, i) => `case when ${failures[i]} then ${params.add(check.name, 'text')} end`);
  const failedChecks = names.length > 0 ? `array_remove(array[${names.join(', ')}], null)` : `array[]::text[]`;
  const text =
    `select (select row_to_json(k) from (select ${key.map((name) => col(name)).join(', ')}) as k) as key,\n` +
    `  to_jsonb(s) as row,\n  ${failedChecks} as failed_checks\n` +
    `from ${fromSource(product, schemas)}\n` +
    `where ${failures.length > 0 ? failures.join('\n   or ') : 'false'}\n` +
    `order by ${key.map((name) => col(name)).join(', ')}`;
  return { text, values: params.values };
}

/** The source restricted to rows that pass every row-level check (all source columns, `select s.*`). */
export function validRowsQuery(product: Pick<Product, 'source' | 'checks'>, schemas: SchemaMap = {}, options: QuarantineOptions = {}): CompiledQuery {
  const params = new Params(options.paramOffset ?? 0);
  const failures = rowLevelChecks(product).map((check) => failureCondition(check, params));
  const where = failures.length > 0 ? `\nwhere not (${failures.join('\n   or ')})` : '';
  return { text: `select s.* from ${fromSource(product, schemas)}${where}`, values: params.values };
}

/**
 * Copies the failing rows of a run into `lastmile.quarantine` (one row per failing row and check) in one statement
 * — for when the lastmile schema lives in the warehouse database. Otherwise read `quarantineQuery` and write the
 * rows with the metadata store. Idempotent: rows of an earlier attempt of the same run are replaced. Its row count
 * is the number of quarantine rows written.
 */
export function quarantineInsert(
  product: Pick<Product, 'name' | 'source' | 'contract' | 'checks'>,
  runId: string,
  schemas: SchemaMap = {},
): CompiledQuery {
  const select = quarantineQuery(product, schemas, { paramOffset: 2 });
  const text =
    `with earlier as (delete from lastmile.quarantine where run_id = $1::text and product = $2::text)\n` +
    `insert into lastmile.quarantine (run_id, product, check_name, row)\n` +
    `select $1::text, $2::text, c.check_name, q.row\nfrom (\n${select.text}\n) as q\n` +
    `cross join lateral unnest(q.failed_checks) as c(check_name)`;
  return { text, values: [runId, product.name, ...select.values] };
}

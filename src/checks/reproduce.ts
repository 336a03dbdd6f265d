/**
 * The SQL a person runs to see what a check found — recorded with every result (`lastmile.check_results.sql`, with
 * its values written in as literals, so it can be pasted into psql as is) and shown by `lastmile checks`:
 * - row-level checks (notNull, acceptedValues, range, pattern, rowPredicate) and references: the failing rows of
 *   the source, whole, ordered by the contract key;
 * - unique: each duplicated key with how many rows share it;
 * - assertion: the rows the assertion query returns (it may read the product's rows as `source`);
 * - freshness: the newest value and its age at the run's time; rowCount: the row count.
 * The failure conditions are the ones the scan uses (`failureCondition`), so the rows listed are exactly the ones
 * counted.
 */
import type { Check } from '../product/checks.js';
import type { Product } from '../product/model.js';
import { resolveSql, resolveTable } from '../sql/resolve.js';
import { quoteIdent } from '../warehouse/quote.js';
import { inlineParameters } from '../warehouse/inline.js';
import { compileCheckQuery, failureCondition, isRowLevel, type CheckQueryOptions } from './compile.js';
import { Params, col, fromSource, keyColumns, userSql, type CompiledQuery } from './sql.js';

/** A statement listing what `check` found in the product's source (see the top of this file). */
export function reproductionQuery(product: Pick<Product, 'source' | 'contract'>, check: Check, options: CheckQueryOptions = {}): CompiledQuery {
  const schemas = options.schemas ?? {};
  const orderByKey = keyColumns(product)
    .map((name) => col(name))
    .join(', ');
  if (isRowLevel(check)) {
    const params = new Params();
    const failure = failureCondition(check, params);
    return { text: `select s.*\nfrom ${fromSource(product, schemas)}\nwhere ${failure}\norder by ${orderByKey}`, values: params.values };
  }
  switch (check.type) {
    case 'unique': {
      const columns = check.columns.map((name) => col(name));
      return {
        text:
          `select ${columns.join(', ')}, count(*) as rows\nfrom ${fromSource(product, schemas)}\n` +
          `where ${columns.map((c) => `${c} is not null`).join(' and ')}\n` +
          `group by ${columns.join(', ')}\nhaving count(*) > 1\norder by ${columns.join(', ')}`,
        values: [],
      };
    }
    case 'references': {
      const value = col(check.column);
      return {
        text:
          `select s.*\nfrom ${fromSource(product, schemas)}\nwhere ${value} is not null and not exists (\n` +
          `  select 1 from ${resolveTable(check.to.table, schemas)} as t where t.${quoteIdent(check.to.column)} = ${value}\n)\n` +
          `order by ${orderByKey}`,
        values: [],
      };
    }
    case 'assertion':
      return {
        text: `with source as (\n${resolveSql(product.source, schemas)}\n)\nselect * from (${userSql(resolveSql(check.query, schemas))}) as assertion`,
        values: [],
      };
    default:
      return compileCheckQuery(product, check, options);
  }
}

/** A compiled statement as one text with its values inlined as literals: what a person pastes into psql. */
export function pastableSql(query: { text: string; values: readonly unknown[] }): string {
  return inlineParameters(query.text, query.values);
}

/**
 * The SQL of a `lastmile.check_results` row as a person can paste it. Rows recorded before the values were inlined
 * carry them in a trailing `-- params: [...]` comment (JSON); those are inlined here. Anything else is returned as is.
 */
export function pastableRecordedSql(sql: string): string {
  const trailer = /\n-- params: (\[.*\])\s*$/.exec(sql);
  if (!trailer) return sql;
  let values: unknown;
  try {
    values = JSON.parse(trailer[1]!);
  } catch {
    return sql;
  }
  if (!Array.isArray(values)) return sql;
  try {
    return inlineParameters(sql.slice(0, trailer.index), values);
  } catch {
    return sql;
  }
}

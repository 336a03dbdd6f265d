import { quoteIdent } from '../warehouse/quote.js';
import type { Product } from '../product/model.js';
import type { Problem } from '../product/problems.js';
import { ValidationError } from '../product/problems.js';
import type { SchemaMap } from '../product/source.js';
import { resolveSource } from './resolve.js';
import type { ProductDefinition } from '../product/spec.js';
import { didYouMean, listOf } from '../text/suggest.js';
import { toProduct } from '../product/validate.js';

export type SqlValue = string | number | boolean | null;

/** Which metrics, grouped by which dimensions, filtered how. */
export interface MetricQuery<C extends string = string, M extends string = string> {
  readonly metrics: readonly M[];
  /** Dimensions: contract columns each metric allows (its `by`, or any column when it has none). */
  readonly by?: readonly C[];
  /** Equality filters on contract columns; a list means "any of"; null means "is null". Values become parameters. */
  readonly where?: { readonly [K in C]?: SqlValue | readonly SqlValue[] };
}

/** A query and its parameters, ready for `pg`'s `query(text, values)`. */
export interface CompiledQuery {
  readonly text: string;
  readonly values: (SqlValue | SqlValue[])[];
}

/**
 * The SQL of a metric query against a product's source: the semantic layer's single definition of each metric,
 * usable by any target. Throws `ValidationError` naming every unknown metric or column.
 */
export function compileMetricQuery<C extends string, M extends string>(
  product: Product<C, M> | ProductDefinition<C, M>,
  query: MetricQuery<NoInfer<C>, NoInfer<M>>,
  schemas: SchemaMap = {},
  /** The rows to aggregate, as SQL without parameters; default the product's source. */
  from?: string,
): CompiledQuery {
  const valid: Product = toProduct(product);
  const problems = metricQueryProblems(valid, query);
  if (problems.length > 0) throw new ValidationError(problems);

  const dimensions = [...(query.by ?? [])].map(quoteIdent);
  const measures = query.metrics.map((name) => `(${valid.metrics[name].sql}) as ${quoteIdent(name)}`);
  const values: (SqlValue | SqlValue[])[] = [];
  const conditions = Object.entries<SqlValue | readonly SqlValue[] | undefined>(query.where ?? {}).flatMap(([column, value]) => {
    if (value === undefined) return [];
    if (value === null) return [`${quoteIdent(column)} is null`];
    if (Array.isArray(value)) {
      values.push([...(value as readonly SqlValue[])]);
      return [`${quoteIdent(column)} = any($${values.length})`];
    }
    values.push(value as SqlValue);
    return [`${quoteIdent(column)} = $${values.length}`];
  });

  const lines = [
    `select ${[...dimensions, ...measures].join(', ')}`,
    `from (${from ?? resolveSource(valid, schemas)}) as s`,
    ...(conditions.length > 0 ? [`where ${conditions.join(' and ')}`] : []),
    ...(dimensions.length > 0 ? [`group by ${dimensions.join(', ')}`, `order by ${dimensions.join(', ')}`] : []),
  ];
  return { text: lines.join('\n'), values };
}

/** Everything wrong with a metric query for a product (unknown metrics, columns, dimensions a metric does not allow). */
export function metricQueryProblems(product: Product, query: MetricQuery): Problem[] {
  const problems: Problem[] = [];
  const base = { file: product.file, product: product.name };
  const metricNames = Object.keys(product.metrics);
  const columnNames = product.contract.columns.map((column) => column.name);
  if (query.metrics.length === 0) {
    problems.push({ ...base, path: 'query.metrics', message: 'the query names no metrics', fix: `name at least one of ${listOf(metricNames, 'or')}` });
  }
  query.metrics.forEach((name, index) => {
    if (!(name in product.metrics)) {
      problems.push({
        ...base,
        path: `query.metrics[${index}]`,
        message: `unknown metric '${name}' in product ${product.name}`,
        fix: `${didYouMean(name, metricNames)}The product's metrics are ${listOf(metricNames, 'and') || 'none'}.`,
      });
    }
  });
  (query.by ?? []).forEach((dimension, index) => {
    if (!columnNames.includes(dimension)) {
      problems.push({
        ...base,
        path: `query.by[${index}]`,
        message: `unknown column '${dimension}' in product ${product.name}`,
        fix: `${didYouMean(dimension, columnNames)}The contract's columns are ${listOf(columnNames, 'and')}.`,
      });
      return;
    }
    for (const name of query.metrics) {
      const allowed = product.metrics[name]?.by;
      if (allowed && !allowed.includes(dimension)) {
        problems.push({
          ...base,
          path: `query.by[${index}]`,
          message: `metric '${name}' may not be grouped by '${dimension}'`,
          fix: `group by its dimensions (${listOf(allowed, 'or')}), or add '${dimension}' to metrics.${name}.by`,
        });
      }
    }
  });
  for (const column of Object.keys(query.where ?? {})) {
    if (!columnNames.includes(column)) {
      problems.push({
        ...base,
        path: `query.where.${column}`,
        message: `unknown column '${column}' in product ${product.name}`,
        fix: `${didYouMean(column, columnNames)}The contract's columns are ${listOf(columnNames, 'and')}.`,
      });
    }
  }
  return problems;
}

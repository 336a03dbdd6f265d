import { probeDashboard } from '../dashboards/probe.js';
import { DATE_TYPE_OIDS, oidName, typeOid } from '../product/column-types.js';
import { quoteIdent } from '../warehouse/quote.js';
import type { Product } from '../product/model.js';
import type { Problem } from '../product/problems.js';
import type { SchemaMap } from '../product/source.js';
import { resolveSource, resolveSql, resolveTable } from '../sql/resolve.js';
import { tableName } from '../product/source.js';
import { didYouMean, listOf } from '../text/suggest.js';

/** A result column as a Postgres driver describes it (`pg` gives exactly this in `result.fields`). */
export interface WarehouseField {
  readonly name: string;
  readonly dataTypeID: number;
}

/** Runs SQL in the warehouse; `(text) => pool.query(text)` with `pg`. */
export type WarehouseQuery = (sql: string) => Promise<{ readonly fields: readonly WarehouseField[] }>;

export interface ContractCheckOptions {
  query: WarehouseQuery;
  /** Logical → physical schemas of the environment checked. */
  schemas?: SchemaMap;
}

/**
 * Checks each product against the warehouse without reading data (every probe is `limit 0`): the source runs, it
 * returns every contract column with the promised type, and each metric, row predicate, assertion and reference
 * compiles, and each dashboard object and query runs (see src/dashboards/probe.ts). Returns every problem found,
 * naming the file and field.
 */
export async function checkContractAgainstWarehouse(products: readonly Product[], options: ContractCheckOptions): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const product of products) problems.push(...(await checkProduct(product, options)));
  return problems;
}

async function checkProduct(product: Product, { query, schemas = {} }: ContractCheckOptions): Promise<Problem[]> {
  const problems: Problem[] = [];
  const add = (path: string, message: string, fix: string) =>
    problems.push({ file: product.file, path, product: product.name, message, fix });
  const probe = async (text: string): Promise<{ fields: readonly WarehouseField[] } | { error: string }> => {
    try {
      return { fields: (await query(text)).fields };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };

  const source = resolveSource(product, schemas);
  const from = `from (${source}) as s`;
  const result = await probe(`select * ${from} limit 0`);
  if ('error' in result) {
    add(
      'source',
      `the source query fails in the warehouse: ${result.error}`,
      "check the table and column names in the source; write tables as ${table('schema.table')} so the environment's schema map (warehouse.schemas in lastmile.config.ts) applies",
    );
    return problems;
  }

  const fields = new Map(result.fields.map((field) => [field.name, field.dataTypeID]));
  const returned = [...fields.keys()];
  product.contract.columns.forEach((column, index) => {
    const oid = fields.get(column.name);
    if (oid === undefined) {
      add(
        `contract.columns[${index}].name`,
        `the contract promises column '${column.name}', but the source does not return it (it returns ${listOf(returned, 'and') || 'no columns'})`,
        `${didYouMean(column.name, returned)}Select it in the source, or remove it from the contract (a breaking change: bump the major version).`,
      );
      return;
    }
    const promised = typeOid(column.type);
    if (promised !== undefined && promised !== oid) {
      add(
        `contract.columns[${index}].type`,
        `the contract says '${column.name}' is ${column.type}, but the source returns ${oidName(oid)}`,
        `cast it in the source (e.g. ${column.name}::${column.type}) or change the contract's type to '${oidName(oid)}'`,
      );
    }
  });

  for (const [name, metric] of Object.entries(product.metrics)) {
    const outcome = await probe(`select (${metric.sql}) as ${quoteIdent(name)} ${from} limit 0`);
    if ('error' in outcome) {
      add(`metrics.${name}.sql`, `the metric's SQL fails in the warehouse: ${outcome.error}`, "write an aggregate expression over the contract's columns, e.g. 'sum(units)'");
    }
  }

  for (const [index, check] of product.checks.entries()) {
    if (check.type === 'rowPredicate') {
      const outcome = await probe(`select (${check.expression})::boolean as ok ${from} limit 0`);
      if ('error' in outcome) {
        add(`checks[${index}].expression`, `the row predicate fails in the warehouse: ${outcome.error}`, "write a boolean SQL expression over the contract's columns, e.g. 'returns <= units'");
      }
    } else if (check.type === 'assertion') {
      const outcome = await probe(`select * from (${resolveSql(check.query, schemas)}) as a limit 0`);
      if ('error' in outcome) {
        add(`checks[${index}].query`, `the assertion query fails in the warehouse: ${outcome.error}`, 'fix the query; it should return the offending rows (none when the check passes)');
      }
    } else if (check.type === 'references') {
      const outcome = await probe(`select ${quoteIdent(check.to.column)} from ${resolveTable(check.to.table, schemas)} limit 0`);
      if ('error' in outcome) {
        add(
          `checks[${index}].to`,
          `the referenced column ${tableName(check.to.table)}.${check.to.column} cannot be read: ${outcome.error}`,
          'name an existing table and column: check.references(column, { table: table(\'schema.table\'), column: \'id\' })',
        );
      }
    } else if (check.type === 'freshness') {
      const oid = fields.get(check.column);
      if (oid !== undefined && !DATE_TYPE_OIDS.has(oid)) {
        add(`checks[${index}].column`, `freshness needs a date or timestamp column, but '${check.column}' is ${oidName(oid)}`, 'point the check at a date, timestamp or timestamptz column');
      }
    }
  }
  for (const [index, target] of product.serve.entries()) {
    if (target.kind !== 'dashboard') continue;
    for (const problem of await probeDashboard(product, target, index, probe, schemas)) add(problem.path, problem.message, problem.fix);
  }
  return problems;
}

/** A dashboard target's objects compiled for one environment: physical names, SQL, keys, strategy, dependencies. */
import { createHash } from 'node:crypto';
import { compileMetricQuery } from '../sql/metrics.js';
import type { Product } from '../product/model.js';
import { quoteQualified } from '../warehouse/quote.js';
import { resolveSql } from '../sql/resolve.js';
import { type SchemaMap } from '../product/source.js';
import type { DashboardObject, DashboardTarget, RefreshStrategy } from '../product/targets.js';
import { DASHBOARD_SCHEMA, dependencies } from '../product/dashboard-graph.js';

/** One object, ready to build or refresh. */
export interface CompiledObject {
  name: string;
  /** physical schema */
  schema: string;
  strategy: RefreshStrategy;
  /** the defining query, without parameters (a view definition cannot take any) */
  sql: string;
  /** unique index columns (empty: none) */
  uniqueKey: string[];
  indexes: string[][];
  /** objects of the same dashboard it reads */
  dependsOn: string[];
  /** changes whenever the definition does: a materialized view whose hash differs is rebuilt */
  hash: string;
}

/** `concurrently` when the object has a unique key, else `swap`, unless it says. */
function strategyOf(object: DashboardObject): RefreshStrategy {
  return object.refresh ?? (uniqueKeyOf(object).length > 0 ? 'concurrently' : 'swap');
}

function uniqueKeyOf(object: DashboardObject): string[] {
  return [...('sql' in object ? (object.uniqueKey ?? []) : (object.by ?? []))];
}

/** The logical schema of a dashboard target's objects. */
export function schemaOf(target: Pick<DashboardTarget, 'schema'>): string {
  return target.schema ?? DASHBOARD_SCHEMA;
}

/** The quoted physical name of an object: `"dashboards"."return_rate_weekly"`. */
export function relationOf(object: Pick<CompiledObject, 'schema' | 'name'>): string {
  return quoteQualified(object.schema, object.name);
}

/**
 * Compiles every object of `target`. Metric objects aggregate `served` — the rows the product serves in this
 * environment (without quarantined rows), as SQL without parameters; SQL objects resolve their `table()` references.
 */
export function compileDashboard(product: Product, target: DashboardTarget, schemas: SchemaMap, served: string): CompiledObject[] {
  const logical = schemaOf(target);
  const schema = schemas[logical] ?? logical;
  const graph = dependencies(
    target.objects.map((object) => ({ name: object.name, dependsOn: object.dependsOn, reads: !('sql' in object) ? [] : object.sql.kind === 'sql' ? object.sql.tables : [object.sql] })),
    logical,
  );
  return target.objects.map((object): CompiledObject => {
    const sql = 'sql' in object ? resolveSql(object.sql, schemas) : compileMetricQuery(product, { metrics: object.metrics, by: object.by }, schemas, served).text;
    const strategy = strategyOf(object);
    const uniqueKey = uniqueKeyOf(object);
    const indexes = (object.indexes ?? []).map((columns) => [...columns]);
    const hash = createHash('sha256').update(JSON.stringify({ strategy, sql, uniqueKey, indexes })).digest('hex').slice(0, 16);
    return { name: object.name, schema, strategy, sql, uniqueKey, indexes, dependsOn: graph.get(object.name) ?? [], hash };
  });
}

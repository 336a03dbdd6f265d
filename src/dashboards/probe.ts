/**
 * Checks a product's dashboard targets against the warehouse without reading data, as `lastmile validate` does for
 * sources: every object's SQL runs (`limit 0`), with the objects it reads given as common table expressions of their
 * own definitions — so the check works before any object exists — and the columns it returns hold its unique key,
 * indexes and freshness column; every dashboard query runs over the objects the same way.
 */
import { DATE_TYPE_OIDS } from '../product/column-types.js';
import { compileMetricQuery } from '../sql/metrics.js';
import type { Product } from '../product/model.js';
import { quoteIdent } from '../warehouse/quote.js';
import { resolveSource, resolveSql, resolveTable } from '../sql/resolve.js';
import { type SchemaMap, type Source } from '../product/source.js';
import { didYouMean, listOf } from '../text/suggest.js';
import type { DashboardTarget } from '../product/targets.js';
import { findCycle } from '../product/dashboard-graph.js';
import { compileDashboard, schemaOf } from './objects.js';

/** One probe: its result columns (name, type oid), or the warehouse's error. */
export type Probe = (text: string) => Promise<{ fields: readonly { name: string; dataTypeID: number }[] } | { error: string }>;

export interface ProbeProblem {
  path: string;
  message: string;
  fix: string;
}

/** SQL of `source` where references to the dashboard's objects become the bare names of their CTEs. */
function withObjectNames(source: Source, schema: string, objects: ReadonlySet<string>, schemas: SchemaMap): string {
  return resolveSql(source, schemas, (ref) => (ref.schema === schema && objects.has(ref.name) ? quoteIdent(ref.name) : resolveTable(ref, schemas)));
}

/** Problems of the dashboard target at `serve[index]`. */
export async function probeDashboard(product: Product, target: DashboardTarget, index: number, probe: Probe, schemas: SchemaMap): Promise<ProbeProblem[]> {
  const problems: ProbeProblem[] = [];
  const at = `serve[${index}]`;
  const logical = schemaOf(target);
  const names = new Set(target.objects.map((object) => object.name));
  const compiled = compileDashboard(product, target, schemas, resolveSource(product, schemas));
  const graph = new Map(compiled.map((object) => [object.name, object.dependsOn]));
  if (findCycle(graph)) return problems; // reported by validation already

  // each object's SQL, with references to other objects as CTE names
  const bodies = new Map(
    target.objects.map((object) => [
      object.name,
      'sql' in object
        ? withObjectNames(object.sql, logical, names, schemas)
        : compileMetricQuery(product, { metrics: object.metrics, by: object.by }, schemas).text,
    ]),
  );
  const ctes = (wanted: Iterable<string>): string => {
    const order: string[] = [];
    const visit = (name: string): void => {
      if (order.includes(name)) return;
      (graph.get(name) ?? []).forEach(visit);
      order.push(name);
    };
    [...wanted].forEach(visit);
    return order.length > 0 ? `with ${order.map((name) => `${quoteIdent(name)} as (${bodies.get(name)})`).join(',\n')}\n` : '';
  };

  const columns = new Map<string, Map<string, number>>();
  for (const [objectIndex, object] of target.objects.entries()) {
    const path = `${at}.objects[${objectIndex}]`;
    const result = await probe(`${ctes(graph.get(object.name) ?? [])}select * from (${bodies.get(object.name)}) as o limit 0`);
    if ('error' in result) {
      const failing = (graph.get(object.name) ?? []).filter((dep) => !columns.has(dep));
      problems.push({
        path: 'sql' in object ? `${path}.sql` : `${path}.metrics`,
        message: `the object's SQL fails in the warehouse: ${result.error}`,
        fix: failing.length > 0 ? `fix ${listOf(failing, 'and')} first, which it reads` : "check the table and column names; write tables as ${table('schema.table')} and this dashboard's objects as ${table('" + logical + ".<object>')}",
      });
      continue;
    }
    const fields = new Map(result.fields.map((field) => [field.name, field.dataTypeID]));
    columns.set(object.name, fields);
    const returned = [...fields.keys()];
    const require = (column: string, where: string, role: string) => {
      if (fields.has(column)) return;
      problems.push({
        path: where,
        message: `${role} '${column}' is not a column of object '${object.name}' (it returns ${listOf(returned, 'and') || 'no columns'})`,
        fix: `${didYouMean(column, returned)}name one of its columns, or select '${column}' in its SQL`,
      });
    };
    if ('sql' in object) (object.uniqueKey ?? []).forEach((column, i) => require(column, `${path}.uniqueKey[${i}]`, 'the unique key column'));
    (object.indexes ?? []).forEach((index, i) => index.forEach((column, j) => require(column, `${path}.indexes[${i}][${j}]`, 'the index column')));
  }

  if (target.freshness) {
    const fields = columns.get(target.freshness.object);
    const oid = fields?.get(target.freshness.column);
    if (fields && oid === undefined && 'sql' in (target.objects.find((o) => o.name === target.freshness!.object) ?? {})) {
      problems.push({
        path: `${at}.freshness.column`,
        message: `object '${target.freshness.object}' has no column '${target.freshness.column}'`,
        fix: `${didYouMean(target.freshness.column, [...fields.keys()])}name a date or timestamp column it returns`,
      });
    } else if (oid !== undefined && !DATE_TYPE_OIDS.has(oid)) {
      problems.push({ path: `${at}.freshness.column`, message: `'${target.freshness.column}' of object '${target.freshness.object}' is not a date or timestamp`, fix: 'point freshness at a date, timestamp or timestamptz column: its newest value is the data’s age' });
    }
  }

  for (const [name, query] of Object.entries(target.queries ?? {})) {
    const reads = query.kind === 'table' ? [query] : query.tables;
    const used = reads.filter((ref) => ref.schema === logical && names.has(ref.name)).map((ref) => ref.name);
    if (used.some((object) => !columns.has(object))) continue; // the object's own problem is reported
    const result = await probe(`${ctes(used)}select * from (${withObjectNames(query, logical, names, schemas)}) as q limit 0`);
    if ('error' in result) {
      problems.push({ path: `${at}.queries.${name}`, message: `the dashboard query fails in the warehouse: ${result.error}`, fix: `check its table and column names; this dashboard's objects are ${listOf([...names], 'and')}` });
    }
  }
  return problems;
}

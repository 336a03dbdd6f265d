/** Cross-field rules of a dashboard target: dependencies exist and form no cycle, strategies fit, freshness is found. */
import { DASHBOARD_SCHEMA, dependencies, findCycle } from './dashboard-graph.js';
import { at, isRecord } from './raw.js';
import { didYouMean, listOf } from '../text/suggest.js';

interface RawObject {
  index: number;
  name: string;
  dependsOn: string[];
  reads: { schema: string; name: string }[];
  strategy: 'concurrently' | 'swap';
  columns?: string[];
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

function readsOf(source: unknown): { schema: string; name: string }[] {
  if (at(source, 'kind') === 'table') return [{ schema: String(at(source, 'schema')), name: String(at(source, 'name')) }];
  const tables = at(source, 'tables');
  return Array.isArray(tables) ? tables.flatMap((table) => readsOf(table)) : [];
}

function rawObjects(target: unknown): RawObject[] {
  const objects = at(target, 'objects');
  if (!Array.isArray(objects)) return [];
  return objects.flatMap((object, index): RawObject[] => {
    const name = at(object, 'name');
    if (typeof name !== 'string') return [];
    const isSql = at(object, 'sql') !== undefined;
    const key = strings(at(object, isSql ? 'uniqueKey' : 'by'));
    const refresh = at(object, 'refresh');
    const strategy = refresh === 'concurrently' || refresh === 'swap' ? refresh : key.length > 0 ? 'concurrently' : 'swap';
    return [
      {
        index,
        name,
        dependsOn: strings(at(object, 'dependsOn')),
        reads: isSql ? readsOf(at(object, 'sql')) : [],
        strategy,
        ...(!isSql && { columns: [...strings(at(object, 'by')), ...strings(at(object, 'metrics'))] }),
      },
    ];
  });
}

/** Problems of one dashboard target, with paths relative to the target. */
export function dashboardProblems(target: unknown): { path: (string | number)[]; message: string; fix: string }[] {
  const problems: { path: (string | number)[]; message: string; fix: string }[] = [];
  const objects = rawObjects(target);
  const names = objects.map((object) => object.name);
  const byName = new Map(objects.map((object) => [object.name, object]));

  for (const object of objects) {
    object.dependsOn.forEach((dependency, index) => {
      if (dependency === object.name) {
        problems.push({ path: ['objects', object.index, 'dependsOn', index], message: `object '${object.name}' depends on itself`, fix: 'remove it from its own dependsOn' });
      } else if (!byName.has(dependency)) {
        problems.push({
          path: ['objects', object.index, 'dependsOn', index],
          message: `unknown object '${dependency}': the dashboard has no such object`,
          fix: `${didYouMean(dependency, names)}The dashboard's objects are ${listOf(names, 'and')}.`,
        });
      }
    });
  }

  const schema = typeof at(target, 'schema') === 'string' ? String(at(target, 'schema')) : DASHBOARD_SCHEMA;
  const graph = dependencies(objects, schema);
  const cycle = findCycle(graph);
  if (cycle) {
    problems.push({
      path: ['objects', byName.get(cycle[0]!)!.index, 'dependsOn'],
      message: `the objects depend on each other in a cycle: ${cycle.join(' → ')}`,
      fix: 'an object can only read objects refreshed before it; remove one of these dependencies',
    });
  }
  for (const object of objects) {
    if (object.strategy !== 'concurrently') continue;
    for (const dependency of graph.get(object.name) ?? []) {
      if (byName.get(dependency)?.strategy !== 'swap') continue;
      problems.push({
        path: ['objects', object.index, 'refresh'],
        message: `'${object.name}' is refreshed concurrently but reads '${dependency}', which is rebuilt by swap on every refresh`,
        fix: `a materialized view stays bound to the table it was built from, so '${object.name}' would be rebuilt on every refresh as well: refresh '${dependency}' concurrently (give it a unique key), or '${object.name}' by swap`,
      });
    }
  }

  const freshness = at(target, 'freshness');
  if (isRecord(freshness) && typeof freshness.object === 'string') {
    const object = byName.get(freshness.object);
    if (!object) {
      problems.push({
        path: ['freshness', 'object'],
        message: `unknown object '${freshness.object}': the dashboard has no such object`,
        fix: `${didYouMean(freshness.object, names)}The dashboard's objects are ${listOf(names, 'and')}.`,
      });
    } else if (object.columns && typeof freshness.column === 'string' && !object.columns.includes(freshness.column)) {
      problems.push({
        path: ['freshness', 'column'],
        message: `object '${object.name}' has no column '${freshness.column}'`,
        fix: `${didYouMean(freshness.column, object.columns)}Its columns are ${listOf(object.columns, 'and')}; the newest value of a date or timestamp column among them is the data's age.`,
      });
    }
  }

  const tools = at(target, 'bi');
  if (Array.isArray(tools)) {
    const seen = new Map<string, number>();
    tools.forEach((tool, index) => {
      const name = at(tool, 'name') ?? at(tool, 'tool');
      if (typeof name !== 'string') return;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, index);
      else problems.push({ path: ['bi', index, 'name'], message: `two BI tools are named '${name}' (also bi[${first}])`, fix: "give each its own name: name: '…'" });
    });
  }
  return problems;
}

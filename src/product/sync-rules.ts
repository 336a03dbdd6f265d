/**
 * Cross-field rules of a reverse ETL target: the destination can identify each record (every key column is sent),
 * HubSpot's unique property carries the key, guardrails name columns that are sent, and a total is over numbers.
 */
import { baseType } from './column-types.js';
import { at, isRecord } from './raw.js';
import { listOf } from '../text/suggest.js';

interface SyncProblem {
  path: (string | number)[];
  message: string;
  fix: string;
}

const NUMERIC = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);

const strings = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/** `columnTypes`: contract column → its declared type. */
export function syncProblems(target: unknown, columnTypes: ReadonlyMap<string, string>): SyncProblem[] {
  const problems: SyncProblem[] = [];
  const mapping = at(target, 'mapping');
  if (!isRecord(mapping)) return problems;
  const fieldOf = new Map<string, string>();
  for (const [field, column] of Object.entries(mapping)) if (typeof column === 'string' && !fieldOf.has(column)) fieldOf.set(column, field);
  const known = (column: string) => columnTypes.size === 0 || columnTypes.has(column);

  const key = strings(at(target, 'key'));
  for (const column of key) {
    if (!known(column) || fieldOf.has(column)) continue;
    problems.push({
      path: ['key'],
      message: `key column '${column}' is not sent: no destination field is mapped to it, so the destination could not tell records apart`,
      fix: `map it to the destination's identifying field, e.g. mapping: { externalId: '${column}', ... }`,
    });
  }

  const destination = at(target, 'destination');
  if (at(destination, 'type') === 'hubspot') {
    const idProperty = at(destination, 'idProperty');
    if (key.length > 1) {
      problems.push({
        path: ['key'],
        message: `HubSpot matches records by one unique property, but the key has ${key.length} columns (${listOf(key, 'and')})`,
        fix: 'key the sync by one column, e.g. a lead id, and map it to destination.idProperty',
      });
    } else if (typeof idProperty === 'string' && key.length === 1 && mapping[idProperty] !== key[0]) {
      problems.push({
        path: ['destination', 'idProperty'],
        message: `idProperty '${idProperty}' is not mapped to the key column '${key[0]}'`,
        fix: `add mapping: { ${idProperty}: '${key[0]}', ... } so HubSpot finds each record by its key`,
      });
    }
  }

  const guarded = (kind: 'values' | 'totals') =>
    (Array.isArray(at(target, 'guardrails', kind)) ? (at(target, 'guardrails', kind) as unknown[]) : []).forEach((guardrail, index) => {
      const column = at(guardrail, 'column');
      if (typeof column !== 'string' || !known(column)) return;
      if (!fieldOf.has(column)) {
        problems.push({
          path: ['guardrails', kind, index, 'column'],
          message: `guardrail column '${column}' is not sent to the destination (no field is mapped to it)`,
          fix: `guard a mapped column (${listOf([...fieldOf.keys()], 'or')}), or map '${column}'`,
        });
        return;
      }
      const type = columnTypes.get(column);
      const base = type === undefined ? undefined : baseType(type);
      if (base !== undefined && !NUMERIC.has(base)) {
        problems.push({
          path: ['guardrails', kind, index, 'column'],
          message: `guardrail column '${column}' is ${type}, not a number`,
          fix: 'guard a numeric column (integer, bigint, numeric, real or double precision)',
        });
      }
    });
  guarded('values');
  guarded('totals');
  return problems;
}

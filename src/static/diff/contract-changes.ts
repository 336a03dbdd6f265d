/** Changes of a product's contract (columns, key, nullability, classifications) and of its metrics. */
import type { Column, Product } from '../../product/model.js';
import type { Classification } from '../../product/targets.js';
import { normalizeSql } from '../../sql/normalize.js';
import { typeChange } from './column-types.js';
import type { Change } from './types.js';
import { canonicalJson } from '../../text/canonical-json.js';

/** Less protected to more protected. */
const PROTECTION: readonly Classification[] = ['public', 'internal', 'pii'];

export function contractChanges(from: Product, to: Product): Change[] {
  const changes: Change[] = [];
  const before = new Map(from.contract.columns.map((c) => [c.name, c]));
  const after = new Map(to.contract.columns.map((c) => [c.name, c]));
  const removed = from.contract.columns.filter((c) => !after.has(c.name));
  const added = to.contract.columns.filter((c) => !before.has(c.name));
  const renamed = renames(removed, added);

  for (const column of removed) {
    const into = renamed.get(column.name);
    changes.push(
      into
        ? { class: 'breaking', subject: `column ${column.name}`, message: `renamed to ${into.name} (a column of the same type took its place): consumers reading ${column.name} break` }
        : { class: 'breaking', subject: `column ${column.name}`, message: `removed: consumers reading it break` },
    );
  }
  const renamedTo = new Set([...renamed.values()].map((c) => c.name));
  for (const column of added) {
    if (renamedTo.has(column.name)) continue;
    changes.push({ class: 'non-breaking', subject: `column ${column.name}`, message: `added (${column.type}${column.nullable ? '' : ', not null'})` });
  }
  for (const old of from.contract.columns) {
    const now = after.get(old.name);
    if (now) changes.push(...columnChanges(old, now));
  }
  const keyBefore = from.contract.key.join(', ');
  const keyAfter = to.contract.key.join(', ');
  if (keyBefore !== keyAfter) {
    changes.push({ class: 'breaking', subject: 'contract key', message: `changed from (${keyBefore || 'none'}) to (${keyAfter || 'none'}): what identifies a row is different, consumers joining or upserting on it break` });
  }
  changes.push(...metricChanges(from, to));
  return changes;
}

/** A removed column and an added one of the same type at the same place count as a rename. */
function renames(removed: readonly Column[], added: readonly Column[]): Map<string, Column> {
  const result = new Map<string, Column>();
  const free = [...added];
  for (const column of removed) {
    const index = free.findIndex((candidate) => typeChange(column.type, candidate.type) === 'same');
    if (index >= 0 && removed.length === added.length) {
      result.set(column.name, free[index]!);
      free.splice(index, 1);
    }
  }
  return result;
}

function columnChanges(old: Column, now: Column): Change[] {
  const changes: Change[] = [];
  const subject = `column ${old.name}`;
  const type = typeChange(old.type, now.type);
  if (type === 'changed') changes.push({ class: 'breaking', subject, message: `type changed from ${old.type} to ${now.type}, which not every consumer reads as before` });
  if (type === 'widened') changes.push({ class: 'non-breaking', subject, message: `type widened from ${old.type} to ${now.type}: every old value still fits` });
  if (!old.nullable && now.nullable) changes.push({ class: 'breaking', subject, message: 'may now be NULL: consumers relying on a value in every row break' });
  if (old.nullable && !now.nullable) changes.push({ class: 'non-breaking', subject, message: 'now promised NOT NULL' });
  if ((old.description ?? '') !== (now.description ?? '')) changes.push({ class: 'non-breaking', subject, message: 'description changed' });
  const protectionBefore = PROTECTION.indexOf(old.classification);
  const protectionAfter = PROTECTION.indexOf(now.classification);
  if (protectionAfter < protectionBefore) {
    changes.push({ class: 'needs-review', subject, message: `classification lowered from ${old.classification} to ${now.classification}: the data becomes less protected (masks and shares that go by classification see it)` });
  } else if (protectionAfter > protectionBefore) {
    changes.push({ class: 'non-breaking', subject, message: `classification raised from ${old.classification} to ${now.classification}` });
  }
  return changes;
}

function metricChanges(from: Product, to: Product): Change[] {
  const changes: Change[] = [];
  const before = from.metrics as Readonly<Record<string, Product['metrics'][string]>>;
  const after = to.metrics as Readonly<Record<string, Product['metrics'][string]>>;
  for (const [name, metric] of Object.entries(before)) {
    const subject = `metric ${name}`;
    const now = after[name];
    if (!now) {
      changes.push({ class: 'breaking', subject, message: 'removed: dashboards and queries using it break' });
      continue;
    }
    if (normalizeSql(metric.sql) !== normalizeSql(now.sql)) {
      changes.push({ class: 'breaking', subject, message: `definition changed from \`${normalizeSql(metric.sql)}\` to \`${normalizeSql(now.sql)}\`: the same name now means something else` });
    }
    const byBefore = metric.by ? new Set(metric.by) : undefined;
    const byAfter = now.by ? new Set(now.by) : undefined;
    const lost = byBefore ? [...byBefore].filter((d) => byAfter !== undefined && !byAfter.has(d)) : byAfter ? from.contract.columns.map((c) => c.name).filter((d) => !byAfter.has(d)) : [];
    if (lost.length > 0) changes.push({ class: 'breaking', subject, message: `can no longer be grouped by ${lost.join(', ')}` });
    else if (canonicalJson(metric.by ?? null) !== canonicalJson(now.by ?? null)) changes.push({ class: 'non-breaking', subject, message: 'may be grouped by more dimensions' });
    if ((metric.description ?? '') !== (now.description ?? '')) changes.push({ class: 'non-breaking', subject, message: 'description changed' });
  }
  for (const name of Object.keys(after)) if (!(name in before)) changes.push({ class: 'non-breaking', subject: `metric ${name}`, message: 'added' });
  return changes;
}

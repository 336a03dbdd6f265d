/** Changes of a product's targets: removed or added, where and how they serve, and what each share consumer sees. */
import type { Product } from '../../product/model.js';
import { scheduleText as describeSchedule } from '../../product/schedule.js';
import type { ShareTarget, Target } from '../../product/targets.js';
import { consumerSpec, resolveMasks } from '../../sharing/plan.js';
import { normalizedSource } from '../../sql/normalize.js';
import type { Change } from './types.js';
import { canonicalJson } from '../../text/canonical-json.js';

export function targetChanges(from: Product, to: Product): Change[] {
  const changes: Change[] = [];
  const after = new Map(to.serve.map((t) => [t.name, t]));
  for (const old of from.serve) {
    const subject = `target ${old.name}`;
    const now = after.get(old.name);
    if (!now) {
      changes.push({ class: 'breaking', subject, message: `removed: the ${old.kind} its consumers rely on is no longer served` });
      continue;
    }
    if (now.kind !== old.kind) {
      changes.push({ class: 'breaking', subject, message: `changed from a ${old.kind} target to a ${now.kind} target` });
      continue;
    }
    if (canonicalJson(old.schedule ?? null) !== canonicalJson(now.schedule ?? null)) {
      changes.push({ class: 'non-breaking', subject, message: `schedule changed from ${scheduleText(old)} to ${scheduleText(now)}` });
    }
    changes.push(...kindChanges(old, now, from, to));
  }
  const before = new Set(from.serve.map((t) => t.name));
  for (const target of to.serve) if (!before.has(target.name)) changes.push({ class: 'non-breaking', subject: `target ${target.name}`, message: `added (${target.kind})` });
  return changes;
}

function scheduleText(target: Target): string {
  return target.schedule ? describeSchedule(target.schedule) : 'none';
}

function kindChanges(old: Target, now: Target, from: Product, to: Product): Change[] {
  const subject = `target ${old.name}`;
  const changes: Change[] = [];
  const changed = (field: string, a: unknown, b: unknown) => canonicalJson(a ?? null) !== canonicalJson(b ?? null) && field;
  if (old.kind === 'files' && now.kind === 'files') {
    for (const field of [changed('format', old.format, now.format), changed('to', old.to, now.to), changed('compression', old.compression, now.compression), changed('fileName', old.fileName, now.fileName)]) {
      if (field) changes.push({ class: 'breaking', subject, message: `${field} changed: consumers fetching the files find them elsewhere or in another form` });
    }
    const columnsBefore = old.columns ?? from.contract.columns.map((c) => c.name);
    const columnsAfter = new Set(now.columns ?? to.contract.columns.map((c) => c.name));
    const lost = columnsBefore.filter((c) => !columnsAfter.has(c));
    if (lost.length > 0) changes.push({ class: 'breaking', subject, message: `the files no longer carry ${lost.join(', ')}` });
    const consumersAfter = new Set(now.consumers ?? []);
    const gone = (old.consumers ?? []).filter((c) => !consumersAfter.has(c));
    if (gone.length > 0) changes.push({ class: 'breaking', subject, message: `consumers ${gone.join(', ')} no longer receive the files` });
    const newcomers = (now.consumers ?? []).filter((c) => !(old.consumers ?? []).includes(c));
    if (newcomers.length > 0) changes.push({ class: 'needs-review', subject, message: `files now also go to ${newcomers.join(', ')}: the audience widened` });
  }
  if (old.kind === 'dashboard' && now.kind === 'dashboard') {
    const objects = new Map(now.objects.map((o) => [o.name, o]));
    for (const object of old.objects) {
      const next = objects.get(object.name);
      if (!next) {
        changes.push({ class: 'breaking', subject, message: `dashboard object ${object.name} removed: reports reading it break` });
        continue;
      }
      if ('metrics' in object && 'metrics' in next) {
        const lost = object.metrics.filter((m) => !next.metrics.includes(m));
        if (lost.length > 0) changes.push({ class: 'breaking', subject, message: `dashboard object ${object.name} no longer holds ${lost.join(', ')}` });
        const dropped = (object.by ?? []).filter((d) => !(next.by ?? []).includes(d));
        if (dropped.length > 0) changes.push({ class: 'breaking', subject, message: `dashboard object ${object.name} is no longer grouped by ${dropped.join(', ')}: reports reading those columns break` });
      } else if ('sql' in object && 'sql' in next && normalizedSource(object.sql) !== normalizedSource(next.sql)) {
        changes.push({ class: 'non-breaking', subject, message: `dashboard object ${object.name}: its query changed` });
      }
    }
    for (const object of now.objects) if (!old.objects.some((o) => o.name === object.name)) changes.push({ class: 'non-breaking', subject, message: `dashboard object ${object.name} added` });
  }
  if (old.kind === 'share' && now.kind === 'share') changes.push(...shareChanges(old, now, from, to));
  if (old.kind === 'reverseEtl' && now.kind === 'reverseEtl') {
    if (changed('destination', old.destination, now.destination)) changes.push({ class: 'needs-review', subject, message: 'destination changed: records go to another system' });
    if (changed('key', old.key, now.key)) changes.push({ class: 'breaking', subject, message: 'sync key changed: destination records are matched differently (duplicates or orphans)' });
    const fieldsAfter = now.mapping as Readonly<Record<string, string>>;
    for (const [field, column] of Object.entries(old.mapping as Readonly<Record<string, string>>)) {
      if (!(field in fieldsAfter)) changes.push({ class: 'breaking', subject, message: `destination field ${field} is no longer synced` });
      else if (fieldsAfter[field] !== column) changes.push({ class: 'needs-review', subject, message: `destination field ${field} now comes from ${fieldsAfter[field]} instead of ${column}` });
    }
    for (const field of Object.keys(fieldsAfter)) if (!(field in old.mapping)) changes.push({ class: 'non-breaking', subject, message: `destination field ${field} added` });
    if ((old.mode ?? 'upsert') !== (now.mode ?? 'upsert')) changes.push({ class: 'needs-review', subject, message: `mode changed from ${old.mode ?? 'upsert'} to ${now.mode ?? 'upsert'}${now.mode === 'mirror' ? ' (it deletes records that leave the result)' : ''}` });
    if ((old.nulls ?? 'send') !== (now.nulls ?? 'send')) changes.push({ class: 'needs-review', subject, message: `nulls changed from ${old.nulls ?? 'send'} to ${now.nulls ?? 'send'}` });
    if (changed('guardrails', old.guardrails, now.guardrails)) changes.push({ class: 'needs-review', subject, message: 'guardrails changed: check they still stop a runaway sync' });
  }
  return changes;
}

/** What each consumer of a share sees: its columns and the mask on each. */
function shareChanges(old: ShareTarget, now: ShareTarget, from: Product, to: Product): Change[] {
  const changes: Change[] = [];
  // one change per consumer, then those saying the same thing merged into one naming every consumer
  const perConsumer: { class: Change['class']; id: string; message: string }[] = [];
  const view = (target: ShareTarget, product: Product) =>
    new Map(
      (target.consumers ?? []).map((entry) => {
        const spec = consumerSpec(entry);
        const columns = spec.columns ?? product.contract.columns.map((c) => c.name);
        return [spec.id, { spec, columns, masks: resolveMasks(spec.mask ?? target.mask, product.contract.columns) }] as const;
      }),
    );
  const before = view(old, from);
  const after = view(now, to);
  if (old.to !== now.to) changes.push({ class: 'breaking', subject: `share ${old.name}`, message: `moved from schema ${old.to} to ${now.to}: consumers' queries name the old views` });
  for (const [id, seen] of before) {
    const next = after.get(id);
    if (!next) {
      perConsumer.push({ class: 'breaking', id: id, message: 'loses its access to the share' });
      continue;
    }
    const lost = seen.columns.filter((c) => !next.columns.includes(c));
    if (lost.length > 0) perConsumer.push({ class: 'breaking', id: id, message: `loses the columns ${lost.join(', ')}` });
    const gained = next.columns.filter((c) => !seen.columns.includes(c));
    if (gained.length > 0) perConsumer.push({ class: 'needs-review', id: id, message: `now also sees ${gained.join(', ')}: the share widened` });
    for (const column of next.columns.filter((c) => seen.columns.includes(c))) {
      const a = seen.masks[column];
      const b = next.masks[column];
      if (a !== undefined && b === undefined) perConsumer.push({ class: 'needs-review', id: id, message: `mask removed from ${column}: it now sees the values in the clear` });
      else if (a === undefined && b !== undefined) perConsumer.push({ class: 'breaking', id: id, message: `now sees ${column} masked (${canonicalJson(b)}), not its values` });
      else if (canonicalJson(a) !== canonicalJson(b)) perConsumer.push({ class: 'needs-review', id: id, message: `mask of ${column} changed from ${canonicalJson(a)} to ${canonicalJson(b)}` });
    }
    if (canonicalJson([seen.spec.tenant, seen.spec.attributes]) !== canonicalJson([next.spec.tenant, next.spec.attributes])) {
      perConsumer.push({ class: 'needs-review', id: id, message: 'its tenant or attributes changed: it may see other rows' });
    }
  }
  for (const id of after.keys()) if (!before.has(id)) perConsumer.push({ class: 'needs-review', id: id, message: 'added: the share widened to a new consumer' });
  const merged = new Map<string, { class: Change['class']; message: string; ids: string[] }>();
  for (const change of perConsumer) {
    const key = `${change.class}\u0000${change.message}`;
    const entry = merged.get(key) ?? { class: change.class, message: change.message, ids: [] };
    entry.ids.push(change.id);
    merged.set(key, entry);
  }
  for (const entry of merged.values()) {
    const who = entry.ids.length === 1 ? `consumer ${entry.ids[0]}` : `consumers ${entry.ids.length > 4 ? `${entry.ids.slice(0, 3).join(', ')} and ${entry.ids.length - 3} more` : entry.ids.join(', ')}`;
    changes.push({ class: entry.class, subject: `share ${old.name}, ${who}`, message: entry.message });
  }
  if (canonicalJson(old.rowFilter ?? null) !== canonicalJson(now.rowFilter ?? null)) {
    changes.push({ class: 'needs-review', subject: `share ${old.name}`, message: now.rowFilter === undefined ? 'row filter removed: every consumer sees every row' : 'row filter changed: consumers may see other rows' });
  }
  return changes;
}

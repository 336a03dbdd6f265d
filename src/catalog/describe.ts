/** Plain-text readings of a product's parts — checks, targets, schedules, sources — shared by the HTML and Markdown pages. */
import type { Check } from '../product/checks.js';
import { isSecretRef, type SecretRef } from '../product/secret.js';
import { renderSource, tableName, type Source } from '../product/source.js';
import type { BiTool, Destination, MaskSpec, Target, TargetKind } from '../product/targets.js';
import { percent } from '../slo/format.js';

export const KIND_LABELS: Readonly<Record<TargetKind, string>> = {
  files: 'file exchange',
  share: 'data sharing',
  dashboard: 'dashboard refresh',
  reverseEtl: 'reverse ETL',
};

/** The source as SQL with logical table names (a table source is `select * from` it). */
export function sourceText(source: Source): string {
  return dedent(renderSource(source, tableName));
}

/**
 * SQL as written in a template, without the indentation its lines share: `renderSource` trims the text, so the first
 * line has lost its indentation and the others are dedented by what they share.
 */
function dedent(text: string): string {
  const [first = '', ...rest] = text.split('\n');
  const shared = Math.min(...rest.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length));
  return [first, ...(Number.isFinite(shared) ? rest.map((l) => l.slice(Math.min(shared, l.length))) : rest)].join('\n');
}

/** `0 5 * * * (Europe/Berlin)`, or that it runs only when started. */
export function scheduleText(target: Target): string {
  return target.schedule ? `${target.schedule.cron} (${target.schedule.timezone})` : 'no schedule: runs when started (lastmile run)';
}

/** What a check holds, in one line. */
export function checkText(check: Check): string {
  switch (check.type) {
    case 'notNull':
      return `${check.columns.join(', ')} never null`;
    case 'unique':
      return `${check.columns.length > 1 ? `(${check.columns.join(', ')})` : check.columns.join('')} unique`;
    case 'acceptedValues':
      return `${check.column} one of ${check.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'range': {
      const low = check.min === undefined ? '' : `${check.min} ${check.exclusiveMin ? '<' : '≤'} `;
      const high = check.max === undefined ? '' : ` ${check.exclusiveMax ? '<' : '≤'} ${check.max}`;
      return `${low}${check.column}${high}`;
    }
    case 'pattern':
      return `${check.column} matches ${check.pattern}`;
    case 'rowCount': {
      const parts = [
        check.min !== undefined ? `at least ${check.min} rows` : '',
        check.max !== undefined ? `at most ${check.max} rows` : '',
        check.maxChange !== undefined ? `within ±${percent(check.maxChange)} of the previous run` : '',
      ].filter(Boolean);
      return `row count ${parts.join(', ')}`;
    }
    case 'freshness':
      return `newest ${check.column} younger than ${check.maxAge}`;
    case 'references':
      return `${check.column} exists in ${tableName(check.to.table)}.${check.to.column}`;
    case 'rowPredicate':
      return `every row: ${check.expression}`;
    case 'assertion':
      return `no rows from: ${sourceText(check.query).replace(/\s+/g, ' ')}`;
  }
}

/** A secret by the variable that holds it (never a value). */
export function secretText(ref: SecretRef): string {
  return `from $${ref.env}`;
}

/** The facts of a target, as label/value pairs, kind by kind. */
export function targetDetails(target: Target): [label: string, value: string][] {
  const out: [string, string][] = [];
  const add = (label: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') out.push([label, String(value)]);
  };
  switch (target.kind) {
    case 'files':
      add('format', target.compression && target.compression !== 'none' ? `${target.format} (${target.compression})` : target.format);
      add('to', target.to);
      add('columns', target.columns?.join(', '));
      add('one file per', target.splitBy);
      add('rows per file', target.rowsPerFile);
      add('file names', target.fileName);
      add('consumers', target.consumers?.join(', '));
      add('download links expire after', target.linkExpiry);
      add('retention', retentionText(target.retention));
      break;
    case 'share':
      add('schema', target.to);
      add(
        'consumers',
        (target.consumers ?? []).map((c) => (typeof c === 'string' ? c : `${c.id}${c.tenant === null ? ' (every row)' : ''}`)).join(', '),
      );
      add('row filter', target.rowFilter === undefined ? undefined : typeof target.rowFilter === 'string' ? `${target.rowFilter} = the consumer's tenant` : target.rowFilter.where);
      add('masks', maskText(target.mask));
      add('access expires', target.expiresAfter && `${target.expiresAfter} after the last run that served it`);
      add('unused access ends', target.sunsetAfter && `after ${target.sunsetAfter} without reads`);
      add('owner told', target.noticeBefore && `${target.noticeBefore} before`);
      break;
    case 'dashboard':
      add('schema', target.schema ?? 'dashboards');
      add('objects', target.objects.map((o) => `${o.name} (${'metrics' in o ? `metrics ${o.metrics.join(', ')}` : 'sql'}${o.refresh ? `, ${o.refresh}` : ''})`).join('; '));
      add('BI tools', target.bi?.map(biText).join('; '));
      add('timed queries', Object.keys(target.queries ?? {}).join(', '));
      add('freshness from', target.freshness && `${target.freshness.object}.${target.freshness.column}`);
      break;
    case 'reverseEtl':
      add('destination', destinationText(target.destination));
      add('key', target.key.join(', '));
      add('mapping', Object.entries(target.mapping).map(([field, column]) => `${field} ← ${column}`).join(', '));
      add('mode', target.mode ?? 'upsert');
      add('nulls', target.nulls);
      add('rate limit', target.rateLimit && [target.rateLimit.requestsPerSecond && `${target.rateLimit.requestsPerSecond} requests/s`, target.rateLimit.rowsPerSecond && `${target.rateLimit.rowsPerSecond} rows/s`].filter(Boolean).join(', '));
      add('guardrails', guardrailText(target.guardrails));
      add('approval timeout', target.approvalTimeout);
      break;
  }
  return out;
}

function retentionText(retention: { keepLast?: number; keepDays?: number } | undefined): string | undefined {
  if (!retention) return undefined;
  return [retention.keepLast !== undefined && `last ${retention.keepLast} versions`, retention.keepDays !== undefined && `${retention.keepDays} days`].filter(Boolean).join(', ');
}

function maskText(mask: MaskSpec | undefined): string | undefined {
  if (mask === undefined) return undefined;
  if (Array.isArray(mask)) return `${mask.join(', ')} redacted`;
  return Object.entries(mask as Record<string, unknown>)
    .map(([what, method]) => `${what}: ${typeof method === 'string' ? method : JSON.stringify(method)}`)
    .join(', ');
}

function biText(tool: BiTool): string {
  const url = isSecretRef(tool.url) ? secretText(tool.url) : tool.url;
  return `${tool.name ?? tool.tool} (${tool.tool}, ${url})`;
}

function destinationText(destination: Destination): string {
  switch (destination.type) {
    case 'http':
      return `HTTP ${destination.method ?? 'POST'} ${destination.url}${destination.auth ? ` (token ${secretText(destination.auth)})` : ''}`;
    case 'hubspot':
      return `HubSpot ${destination.objectType} by ${destination.idProperty} (token ${secretText(destination.token)})`;
    case 'postgres':
      return `PostgreSQL table ${destination.table} (URL ${secretText(destination.url)})`;
  }
}

function guardrailText(guardrails: Extract<Target, { kind: 'reverseEtl' }>['guardrails']): string | undefined {
  if (!guardrails) return undefined;
  const parts = [
    ...(guardrails.values ?? []).map((g) => `${g.min ?? '-∞'} ≤ ${g.column} ≤ ${g.max ?? '∞'}`),
    ...(guardrails.totals ?? []).map((g) => `total ${g.column}${g.maxIncrease !== undefined ? ` +${percent(g.maxIncrease)} at most` : ''}${g.maxDecrease !== undefined ? ` −${percent(g.maxDecrease)} at most` : ''}`),
    guardrails.maxRows !== undefined ? `at most ${guardrails.maxRows} operations` : '',
    guardrails.maxChangedShare !== undefined ? `at most ${percent(guardrails.maxChangedShare)} changed` : '',
    guardrails.maxDeletedShare !== undefined ? `at most ${percent(guardrails.maxDeletedShare)} deleted` : '',
  ].filter(Boolean);
  return parts.join('; ');
}

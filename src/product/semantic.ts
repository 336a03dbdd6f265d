import { checkSpec } from './schemas/checks.js';
import { checkColumns, defaultCheckName } from './checks.js';
import { dashboardProblems } from './dashboard-rules.js';
import { syncProblems } from './sync-rules.js';
import type { Problem } from './problems.js';
import { fieldPath } from './problems.js';
import { at, isRecord } from './raw.js';
import { namedParameters } from '../text/named-parameters.js';
import { snakeId } from '../text/snake.js';
import { didYouMean, listOf } from '../text/suggest.js';

/**
 * Cross-field rules the schema cannot express: every column, metric, check and target name a product mentions must
 * exist and be unique. Works on the raw declaration so these problems are found even when other fields are invalid.
 */
export function referenceProblems(raw: unknown, file?: string): Problem[] {
  const problems: Problem[] = [];
  const add = (path: readonly (string | number)[], message: string, fix: string) =>
    problems.push({ file, path: fieldPath(path), message, fix });

  const columns = namedEntries(at(raw, 'contract', 'columns'));
  const columnNames = columns.map((entry) => entry.name);
  const columnSet = new Set(columnNames);
  const columnTypes = new Map(columns.map((entry) => [entry.name, String((asArray(at(raw, 'contract', 'columns'))[entry.index] as { type?: unknown } | undefined)?.type ?? '')]));
  const columnList = listOf([...columnSet], 'and');

  const requireColumn = (value: unknown, path: readonly (string | number)[]) => {
    if (typeof value !== 'string' || columnSet.has(value) || columnSet.size === 0) return;
    add(
      path,
      `unknown column '${value}': the contract has no such column`,
      `${didYouMean(value, columnSet)}The contract's columns are ${columnList}; add '${value}' to contract.columns if it is new.`,
    );
  };
  const requireColumns = (value: unknown, path: readonly (string | number)[]) =>
    asArray(value).forEach((item, index) => requireColumn(item, [...path, index]));

  // Contract: unique column names, key columns exist.
  reportDuplicates(columns, (entry, first) =>
    add(['contract', 'columns', entry.index, 'name'], `column '${entry.name}' is declared twice (also at contract.columns[${first.index}])`, 'remove or rename one of them'),
  );
  requireColumns(at(raw, 'contract', 'key'), ['contract', 'key']);

  // Metrics: `by` columns exist; metric names do not shadow columns.
  const metricsValue = at(raw, 'metrics');
  const metricNames = isRecord(metricsValue) ? Object.keys(metricsValue) : [];
  const metricSet = new Set(metricNames);
  for (const name of metricNames) {
    requireColumns(at(metricsValue, name, 'by'), ['metrics', name, 'by']);
    if (columnSet.has(name)) {
      add(['metrics', name], `metric '${name}' has the same name as a contract column`, `rename the metric, e.g. '${name}_total', so queries can tell them apart`);
    }
  }
  const requireMetric = (value: unknown, path: readonly (string | number)[]) => {
    if (typeof value !== 'string' || metricSet.has(value)) return;
    add(
      path,
      `unknown metric '${value}': the product defines no such metric`,
      metricNames.length > 0
        ? `${didYouMean(value, metricNames)}The product's metrics are ${listOf(metricNames, 'and')}; define new ones under metrics.`
        : `define it under metrics, e.g. metrics: { ${value}: { sql: 'sum(units)' } }`,
    );
  };

  // Checks: columns exist; names unique.
  const checkNames: { name: string; index: number }[] = [];
  asArray(at(raw, 'checks')).forEach((value, index) => {
    const parsed = checkSpec.safeParse(value);
    if (parsed.success) {
      for (const { column, path } of checkColumns(parsed.data)) requireColumn(column, ['checks', index, ...path]);
      checkNames.push({ name: parsed.data.name ?? defaultCheckName(parsed.data), index });
    } else {
      requireColumns(at(value, 'columns'), ['checks', index, 'columns']);
      requireColumn(at(value, 'column'), ['checks', index, 'column']);
    }
  });
  reportDuplicates(checkNames, (entry, first) =>
    add(
      ['checks', entry.index, 'name'],
      `two checks are named '${entry.name}' (also checks[${first.index}])`,
      "give one of them its own name with { name: '...' }, or remove the duplicate check",
    ),
  );

  // Targets: names unique; every column and metric they mention exists.
  const targets = asArray(at(raw, 'serve'));
  reportDuplicates(namedEntries(targets), (entry, first) =>
    add(['serve', entry.index, 'name'], `two targets are named '${entry.name}' (also serve[${first.index}])`, 'rename one of them; target names are unique within a product'),
  );
  targets.forEach((target, index) => {
    const path = ['serve', index];
    switch (at(target, 'kind')) {
      case 'files':
        requireColumns(at(target, 'columns'), [...path, 'columns']);
        requireColumn(at(target, 'splitBy'), [...path, 'splitBy']);
        for (const problem of filesProblems(target)) add([...path, ...problem.path], problem.message, problem.fix);
        break;
      case 'share': {
        const rowFilter = at(target, 'rowFilter');
        if (typeof rowFilter === 'string') requireColumn(rowFilter, [...path, 'rowFilter']);
        const maskKeys = (mask: unknown, maskPath: (string | number)[]) => {
          if (!isRecord(mask)) return;
          for (const key of Object.keys(mask)) if (key !== 'public' && key !== 'internal' && key !== 'pii') requireColumn(key, [...maskPath, key]);
        };
        maskKeys(at(target, 'mask'), [...path, 'mask']);
        const consumers = asArray(at(target, 'consumers'));
        const ids = consumers.flatMap((consumer, consumerIndex) => {
          const id = typeof consumer === 'string' ? consumer : at(consumer, 'id');
          return typeof id === 'string' ? [{ name: snakeId(id), index: consumerIndex, id }] : [];
        });
        reportDuplicates(ids, (entry, first) =>
          add([...path, 'consumers', entry.index], `consumer '${entry.id}' is listed twice (or reads as the same name as consumers[${first.index}])`, 'list each consumer once; ids that differ only in case or punctuation name the same view and role'),
        );
        const productName = at(raw, 'name');
        for (const entry of ids) {
          // PostgreSQL cuts longer identifiers silently: two consumers could end up one view
          const view = `${typeof productName === 'string' ? productName : ''}__${entry.name}`;
          if (Buffer.byteLength(view) > 63) {
            add([...path, 'consumers', entry.index], `the view name ${view} is longer than PostgreSQL's 63 bytes`, 'shorten the consumer id (or the product name)');
          }
        }
        const where = isRecord(rowFilter) ? at(rowFilter, 'where') : undefined;
        consumers.forEach((consumer, consumerIndex) => {
          if (typeof where === 'string') {
            // every :name of the predicate must be one of the consumer's values (a typo would otherwise fail at run time)
            const known = new Set(['id', ...(isRecord(consumer) && at(consumer, 'tenant') !== undefined && at(consumer, 'tenant') !== null ? ['tenant'] : []), ...(isRecord(consumer) && isRecord(at(consumer, 'attributes')) ? Object.keys(at(consumer, 'attributes') as object) : [])]);
            for (const name of new Set(namedParameters(where))) {
              if (known.has(name)) continue;
              add(
                [...path, 'consumers', consumerIndex],
                `the rowFilter uses :${name}, which consumer ${typeof consumer === 'string' ? consumer : String(at(consumer, 'id'))} does not define`,
                `give it attributes: { ${name}: ... } (its values: ${[...known].map((k) => `:${k}`).join(', ')})`,
              );
            }
          }
          if (!isRecord(consumer)) return;
          requireColumns(at(consumer, 'columns'), [...path, 'consumers', consumerIndex, 'columns']);
          maskKeys(at(consumer, 'mask'), [...path, 'consumers', consumerIndex, 'mask']);
          if (at(consumer, 'tenant') !== undefined && rowFilter === undefined) {
            add([...path, 'consumers', consumerIndex, 'tenant'], 'a tenant is set but the share has no rowFilter', "add rowFilter: '<tenant column>' to the share, or remove tenant");
          }
        });
        break;
      }
      case 'dashboard': {
        const objects = asArray(at(target, 'objects'));
        reportDuplicates(namedEntries(objects), (entry, first) =>
          add([...path, 'objects', entry.index, 'name'], `two dashboard objects are named '${entry.name}' (also objects[${first.index}])`, 'rename one of them'),
        );
        objects.forEach((object, objectIndex) => {
          const objectPath = [...path, 'objects', objectIndex];
          const objectMetrics = asArray(at(object, 'metrics'));
          objectMetrics.forEach((metric, metricIndex) => requireMetric(metric, [...objectPath, 'metrics', metricIndex]));
          asArray(at(object, 'by')).forEach((dimension, byIndex) => {
            requireColumn(dimension, [...objectPath, 'by', byIndex]);
            if (typeof dimension !== 'string' || !columnSet.has(dimension)) return;
            for (const metric of objectMetrics) {
              const allowed = typeof metric === 'string' && metricSet.has(metric) ? at(metricsValue, metric, 'by') : undefined;
              if (Array.isArray(allowed) && !allowed.includes(dimension)) {
                add(
                  [...objectPath, 'by', byIndex],
                  `metric '${String(metric)}' may not be grouped by '${dimension}'`,
                  `group by its dimensions (${listOf(allowed.map(String), 'or')}), or add '${dimension}' to metrics.${String(metric)}.by`,
                );
              }
            }
          });
        });
        for (const problem of dashboardProblems(target)) add([...path, ...problem.path], problem.message, problem.fix);
        break;
      }
      case 'reverseEtl': {
        const key = at(target, 'key');
        if (typeof key === 'string') requireColumn(key, [...path, 'key']);
        else requireColumns(key, [...path, 'key']);
        const mapping = at(target, 'mapping');
        if (isRecord(mapping)) for (const [field, column] of Object.entries(mapping)) requireColumn(column, [...path, 'mapping', field]);
        asArray(at(target, 'guardrails', 'values')).forEach((guardrail, guardIndex) =>
          requireColumn(at(guardrail, 'column'), [...path, 'guardrails', 'values', guardIndex, 'column']),
        );
        asArray(at(target, 'guardrails', 'totals')).forEach((guardrail, guardIndex) =>
          requireColumn(at(guardrail, 'column'), [...path, 'guardrails', 'totals', guardIndex, 'column']),
        );
        for (const problem of syncProblems(target, columnTypes)) add([...path, ...problem.path], problem.message, problem.fix);
        break;
      }
    }
  });

  // SLO: latency needs queries to time, its own or a dashboard's.
  if (isRecord(at(raw, 'slo', 'latency')) && at(raw, 'slo', 'latency', 'queries') === undefined) {
    const dashboardQueries = targets.some((target) => at(target, 'kind') === 'dashboard' && isRecord(at(target, 'queries')));
    if (!dashboardQueries) {
      add(
        ['slo', 'latency', 'queries'],
        'the latency objective has no queries to time',
        "name the queries consumers run, e.g. queries: { top_suppliers: sql`select ...` }, or give a dashboard target its queries",
      );
    }
  }

  // SLO: a delivery deadline needs a schedule that delivers.
  if (typeof at(raw, 'slo', 'deliverBy') === 'string' && targets.length > 0 && !targets.some((target) => isRecord(at(target, 'schedule')))) {
    add(
      ['slo', 'deliverBy'],
      'no target of this product runs on a schedule, so no delivery is ever due by this time',
      "give the target that delivers a schedule, e.g. schedule: { cron: '0 5 * * *', timezone: 'Europe/Berlin' }, or remove deliverBy",
    );
  }
  return problems;
}

const COMPRESSIONS: Record<string, readonly string[]> = { csv: ['none', 'gzip'], jsonl: ['none', 'gzip'], parquet: ['none', 'snappy', 'zstd'], xlsx: ['none'] };

/** What the options of a files target say about each other: compression fits the format, bucket options need a bucket. */
function filesProblems(target: unknown): { path: string[]; message: string; fix: string }[] {
  const problems: { path: string[]; message: string; fix: string }[] = [];
  const format = at(target, 'format');
  const compression = at(target, 'compression');
  const allowed = typeof format === 'string' ? COMPRESSIONS[format] : undefined;
  if (typeof compression === 'string' && allowed && !allowed.includes(compression)) {
    problems.push({
      path: ['compression'],
      message: `${format} files cannot be compressed with ${compression}`,
      fix: `use ${listOf(allowed, 'or')} for ${format}`,
    });
  }
  if (at(target, 'splitBy') !== undefined && at(target, 'rowsPerFile') !== undefined) {
    problems.push({ path: ['rowsPerFile'], message: 'splitBy and rowsPerFile are both set', fix: 'split files by a column or by a row count, not both' });
  }
  const to = at(target, 'to');
  const bucket = typeof to === 'string' && to.startsWith('s3://');
  if (bucket && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(to)) {
    problems.push({ path: ['to'], message: `'${to}' does not name a bucket`, fix: "write s3://<bucket>/<prefix>, e.g. 's3://exchange/invoices/'" });
  }
  if (typeof to === 'string' && !bucket && /^[a-z][a-z0-9+.-]*:\/\//i.test(to)) {
    problems.push({ path: ['to'], message: `'${to.split('://')[0]}://' is not a destination lastmile writes to`, fix: "write a local folder such as './exchange/invoices' or a bucket such as 's3://exchange/invoices/'" });
  }
  if (typeof to === 'string' && !bucket) {
    for (const option of ['endpoint', 'region', 'credentials', 'consumers', 'linkExpiry']) {
      if (at(target, option) === undefined) continue;
      problems.push({
        path: [option],
        message: `'${option}' only applies to a bucket, but this target writes to the folder '${to}'`,
        fix: option === 'consumers' || option === 'linkExpiry' ? 'download links need a bucket (s3://…); for a folder, share the folder instead' : `remove ${option}, or write to a bucket (s3://…)`,
      });
    }
  }
  return problems;
}

function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Entries of a list that have a string `name`, with their index. */
function namedEntries(value: unknown): { name: string; index: number }[] {
  return asArray(value).flatMap((item, index) => {
    const name = at(item, 'name');
    return typeof name === 'string' ? [{ name, index }] : [];
  });
}

function reportDuplicates<T extends { name: string; index: number }>(entries: readonly T[], report: (entry: T, first: T) => void): void {
  const first = new Map<string, T>();
  for (const entry of entries) {
    const earlier = first.get(entry.name);
    if (earlier) report(entry, earlier);
    else first.set(entry.name, entry);
  }
}

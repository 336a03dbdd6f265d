import { pastableRecordedSql } from '../../checks/reproduce.js';
import { latestCheckedRun } from '../../meta/check-history.js';
import type { CheckResultRecord, JsonValue, RunRecord } from '../../meta/types.js';
import type { Product } from '../../product/model.js';
import type { Project } from '../../runtime/project.js';
import { EXIT } from '../exit-codes.js';
import { table, type Output } from '../output.js';
import { columnOrder } from './column-order.js';
import { readStore, utc } from './read-store.js';
import { runOfProduct } from './select-run.js';

export interface ChecksOptions {
  env: string;
  product: string;
  /** this run instead of the latest one with check results */
  run?: string;
  /** only the checks that failed or could not run */
  failing: boolean;
}

/** A check result as `lastmile checks` shows it. */
export interface ShownCheck {
  name: string;
  type: string;
  severity: string;
  status: string;
  failing: number;
  /** up to 5 failing keys (duplicated keys for unique, the first rows for an assertion) */
  sampleKeys: JsonValue[];
  /** what went wrong, in a sentence, when the check failed or could not run */
  message: string | null;
  /** the SQL listing what the check found, with its values inlined: paste it into psql (`lastmile sql`) */
  sql: string | null;
}

/**
 * `lastmile checks <product> [--run R] [--failing]`: the check results of the product's latest run that has any (or
 * of run R), each with its failing keys and the SQL that lists what it found.
 */
export async function checksCommand(project: Project, options: ChecksOptions, out: Output): Promise<number> {
  return await readStore(project, options.env, async (warehouse, env) => {
    let run: RunRecord | undefined;
    if (options.run !== undefined) run = await runOfProduct(warehouse.meta, { env: env.name, product: options.product, runId: options.run });
    else {
      const runId = await latestCheckedRun(warehouse.pool, { env: env.name, product: options.product });
      run = runId === undefined ? undefined : await warehouse.meta.getRun(runId);
    }
    if (!run) {
      if (out.json) out.printJson({ env: env.name, product: options.product, run: null, checks: [] });
      else out.print(`no run of ${options.product} in ${env.name} has recorded check results yet: lastmile run ${options.product}${env.name === 'dev' ? '' : ` --env ${env.name}`} makes one`);
      return EXIT.ok;
    }
    const all = (await warehouse.meta.listChecks(run.runId)).map(shown);
    const checks = options.failing ? all.filter((c) => c.status === 'failed' || c.status === 'error') : all;
    if (out.json) {
      out.printJson({ env: env.name, product: options.product, run: { runId: run.runId, status: run.status, trigger: run.trigger, startedAt: run.startedAt }, checks });
      return EXIT.ok;
    }
    const failed = all.filter((c) => c.status === 'failed' || c.status === 'error').length;
    out.print(
      `${options.product} in ${env.name} — run ${run.runId} (${run.status}, ${run.trigger}, started ${utc(run.startedAt)} UTC): ` +
        `${failed === 0 ? `all ${all.length} checks passed` : `${failed} of ${all.length} checks failed or could not run`}`,
    );
    if (checks.length === 0) return EXIT.ok;
    out.print(
      table(
        ['check', 'type', 'severity', 'status', 'failing', 'sample failing keys'],
        checks.map((c) => [c.name, c.type, c.severity, c.status, c.failing, sampleText(c.sampleKeys, project.products.get(options.product))]),
      ),
    );
    for (const check of checks) {
      if (check.status === 'passed' || check.status === 'skipped') continue;
      out.print('');
      out.print(`${check.name}: ${check.message ?? `${check.status}, ${check.failing} failing`}`);
      if (check.sql) out.print(`${check.sql.trim().replace(/;\s*$/, '')};`);
    }
    return EXIT.ok;
  });
}

function shown(record: CheckResultRecord): ShownCheck {
  const sample = isObject(record.sample) ? record.sample : {};
  const keys = Array.isArray(sample.keys) ? sample.keys : [];
  const message = typeof sample.message === 'string' ? sample.message : typeof sample.error === 'string' ? sample.error : null;
  return {
    name: record.checkName,
    type: record.kind,
    severity: record.severity,
    status: record.status,
    failing: record.failing,
    sampleKeys: keys,
    message,
    sql: record.sql === null ? null : pastableRecordedSql(record.sql),
  };
}

function isObject(value: JsonValue | null): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SHOWN_KEYS = 3;

/** `campaign_id=C-104 keyword=trail shorts | …`: the first few keys, fields in the product's order. */
function sampleText(keys: readonly JsonValue[], product: Product | undefined): string {
  const objects = keys.filter(isObject);
  const order = columnOrder(product, objects);
  const text = keys.slice(0, SHOWN_KEYS).map((key) =>
    isObject(key) ? order.filter((name) => name in key).map((name) => `${name}=${valueText(key[name]!)}`).join(' ') : JSON.stringify(key),
  );
  return `${text.join(' | ')}${keys.length > SHOWN_KEYS ? ` | … (${keys.length - SHOWN_KEYS} more with --json)` : ''}`;
}

function valueText(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

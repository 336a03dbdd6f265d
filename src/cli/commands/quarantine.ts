import { latestQuarantineRun, listQuarantine } from '../../meta/quarantine.js';
import type { JsonValue } from '../../meta/types.js';
import type { Project } from '../../runtime/project.js';
import { EXIT } from '../exit-codes.js';
import { table, type Output } from '../output.js';
import { columnOrder } from './column-order.js';
import { readStore, utc } from './read-store.js';
import { runOfProduct } from './select-run.js';

export interface QuarantineOptions {
  env: string;
  product: string;
  /** this run instead of the latest one that quarantined rows */
  run?: string;
  limit: number;
}

/**
 * `lastmile quarantine <product> [--run R] [--limit N]`: the rows the latest run that quarantined any (or run R)
 * set aside, each with the checks it failed (from `lastmile.quarantine`).
 */
export async function quarantineCommand(project: Project, options: QuarantineOptions, out: Output): Promise<number> {
  return await readStore(project, options.env, async (warehouse, env) => {
    const runId =
      options.run !== undefined
        ? (await runOfProduct(warehouse.meta, { env: env.name, product: options.product, runId: options.run })).runId
        : await latestQuarantineRun(warehouse.pool, { env: env.name, product: options.product });
    if (runId === undefined) {
      if (out.json) out.printJson({ env: env.name, product: options.product, runId: null, total: 0, rows: [] });
      else out.print(`no run of ${options.product} in ${env.name} has quarantined rows${project.products.get(options.product)?.onDefects === 'quarantine' ? '' : ` (${options.product} does not quarantine: its onDefects is not 'quarantine')`}`);
      return EXIT.ok;
    }
    const page = await listQuarantine(warehouse.pool, { runId, product: options.product, limit: options.limit });
    if (out.json) {
      out.printJson({ env: env.name, product: options.product, ...page });
      return EXIT.ok;
    }
    const run = await warehouse.meta.getRun(runId);
    const showing = page.rows.length < page.total ? `, showing the first ${page.rows.length} (--limit)` : '';
    out.print(
      `${options.product} in ${env.name} — run ${runId}${run ? ` (${run.status}, started ${utc(run.startedAt)} UTC)` : ''}: ` +
        `${page.total} row${page.total === 1 ? '' : 's'} quarantined${showing}`,
    );
    if (page.rows.length === 0) return EXIT.ok;
    const columns = columnOrder(project.products.get(options.product), page.rows.map((r) => r.row));
    out.print(table([...columns, 'failed checks'], page.rows.map((r) => [...columns.map((c) => cell(r.row[c])), r.checks.join(', ')])));
    return EXIT.ok;
  });
}

function cell(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

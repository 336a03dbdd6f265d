import { resolveEnvironment } from '../../config/resolve.js';
import { durationMs } from '../../time/duration.js';
import type { Product } from '../../product/model.js';
import type { Project } from '../../runtime/session.js';
import { openWarehouse, stopEmbeddedPostgres } from '../../runtime/warehouse.js';
import { createAlertStore } from '../../alerts/index.js';
import { burnRuleText, evaluateSlos, percent, type SloStatus } from '../../slo/index.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { table, type Output } from '../output.js';

export interface SloCommandOptions {
  env: string;
  /** only this product */
  product?: string;
}

/**
 * `lastmile slo [--env E] [--product P]`: every SLO of every product (or of one) in the environment, judged from the
 * measurements in its metadata store now. Reads the warehouse only (no Temporal); exits 0 whatever the SLOs say.
 */
export async function sloCommand(project: Project, options: SloCommandOptions, out: Output): Promise<number> {
  const products = [...project.products.values()].sort((a, b) => a.name.localeCompare(b.name));
  if (options.product !== undefined && !project.products.has(options.product)) {
    throw new UsageError(`no product named ${options.product} in ${project.root}/products; the products are ${products.map((p) => p.name).join(', ') || 'none'}`);
  }
  const selected = products.filter((p) => options.product === undefined || p.name === options.product);
  const env = resolveEnvironment(project.config, options.env);
  const warehouse = await openWarehouse(env, { root: project.root, seed: false });
  try {
    const now = new Date();
    const statuses: SloStatus[] = [];
    for (const product of selected) statuses.push(...(await evaluateSlos(warehouse.pool, product, env.name, now)));
    if (out.json) {
      out.printJson(statuses);
      return EXIT.ok;
    }
    out.print(`environment ${env.name} — ${warehouse.description} — ${now.toISOString().replace('T', ' ').slice(0, 19)} UTC`);
    out.print(table(['product', 'slo', 'objective', 'threshold', 'current', 'window', 'sli', 'budget left', 'fast burn', 'status'], rows(selected, statuses)));
    for (const line of alertRules(selected)) out.print(line);
    const names = new Set(selected.map((p) => p.name));
    const open = (await createAlertStore(warehouse.pool).openAlerts({ env: env.name })).filter((a) => names.has(a.product));
    out.print(open.length === 0 ? 'open incidents: none' : `open incidents (${open.length}):`);
    for (const alert of open) out.print(`  [${alert.severity}] since ${alert.raisedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC — ${alert.message}`);
    return EXIT.ok;
  } finally {
    await warehouse.close();
    await stopEmbeddedPostgres(project.root);
  }
}

function rows(products: readonly Product[], statuses: readonly SloStatus[]): (string | null)[][] {
  return products.flatMap((product) => {
    const own = statuses.filter((s) => s.product === product.name);
    if (own.length === 0) return [[product.name, 'no SLO declared']];
    return own.map((s) => [
      s.product,
      s.slo,
      percent(s.objective),
      s.threshold,
      s.current?.text ?? '-',
      s.window,
      s.value === null ? '-' : percent(s.value),
      s.budgetRemaining === null ? '-' : percent(s.budgetRemaining),
      s.events === 0 ? '-' : s.fastBurn ? 'yes' : 'no',
      s.status.replace('_', ' '),
    ]);
  });
}

/** The fast-burn rule of each window in use, with its lookbacks. */
function alertRules(products: readonly Product[]): string[] {
  const windows = [...new Set(products.flatMap((p) => (p.slo ? [p.slo.window] : [])))];
  return windows.map((window) => `fast burn (${window} window): burn rate ${burnRuleText(durationMs(window)).join(', or ')}`);
}

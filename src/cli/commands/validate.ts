import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { resolveEnvironment } from '../../config/resolve.js';
import { checkContractAgainstWarehouse } from '../../probe/contract.js';
import { scanProducts } from '../../product/loader.js';
import { formatProblems, ValidationError, type Problem } from '../../product/problems.js';
import { openWarehouse, stopEmbeddedPostgres } from '../../runtime/warehouse.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { unservableLines } from './list.js';

/**
 * `lastmile validate [--env E] [--offline]`: checks lastmile.config.ts and every product module, then (unless
 * offline) each contract against the environment's warehouse with zero-row queries. Every problem is reported.
 */
export async function validateCommand(root: string, options: { env: string; offline: boolean }, out: Output): Promise<number> {
  const problems: Problem[] = [];
  let config;
  try {
    config = await loadConfig(root);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    problems.push(...error.problems);
  }
  const scan = await scanProducts({ dir: path.join(root, 'products') });
  problems.push(...scan.problems);
  let warehouseChecked = false;
  if (config && problems.length === 0 && !options.offline) {
    const env = resolveEnvironment(config, options.env);
    out.note(`checking contracts against the ${env.name} warehouse…`);
    const warehouse = await openWarehouse(env, { root });
    try {
      problems.push(
        ...(await checkContractAgainstWarehouse(scan.products, { query: (text) => warehouse.pool.query(text), schemas: warehouse.schemas })),
      );
      warehouseChecked = true;
    } finally {
      await warehouse.close();
      await stopEmbeddedPostgres(root);
    }
  }
  if (out.json) {
    out.printJson({ ok: problems.length === 0, products: scan.products.map((p) => p.name), warehouseChecked, problems });
  } else if (problems.length === 0) {
    for (const line of unservableLines(scan.products)) out.note(line);
    out.print(
      `${scan.products.length} product${scan.products.length === 1 ? '' : 's'} valid` +
        (warehouseChecked ? `; contracts match the ${options.env} warehouse` : ' (warehouse not checked: --offline)'),
    );
  } else {
    out.print(formatProblems(problems, { cwd: root }));
  }
  return problems.length === 0 ? EXIT.ok : EXIT.failed;
}

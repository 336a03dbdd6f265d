import { defineCommand } from '../command.js';
import { positiveInteger } from '../parse.js';
import { knownProduct, readableProject, unknownProduct } from '../project-access.js';

export const syncs = defineCommand({
  name: 'syncs',
  summary: "the sync log of a product's reverse ETL targets: recent sync runs (state, plan, outcome, decision) and one run's operations",
  description:
    'Reads lastmile.sync_runs and lastmile.sync_ops: the latest sync runs of each reverse ETL target of the product — held, ' +
    'approved, rejected, abandoned or applied, what the frozen plan meant to send and what the destination answered — then ' +
    'the operations of the latest run (or of the run given), each with its key, status, reason and attempts. Changes nothing.',
  arguments: [{ name: 'product', description: 'the product whose syncs to show' }],
  options: {
    target: { type: 'string', value: 'T', description: 'only the syncs of this reverse ETL target' },
    run: { type: 'string', value: 'R', description: 'the operations of this run (its id, or the first 8 or more characters of it)' },
    failed: { type: 'boolean', description: 'only the operations the destination rejected or that were not delivered (transient)' },
    limit: { type: 'string', value: 'N', description: 'at most N runs and N operations (default 20)' },
  },
  env: true,
  json: true,
  examples: ['lastmile syncs lead_scores', 'lastmile syncs lead_scores --target crm --failed', 'lastmile syncs lead_scores --run 0193a1b2 --json'],
  async handler({ options, args, root, env, out }) {
    const limit = positiveInteger(options.limit, 'limit', 'syncs', 20, 10_000);
    // the command's modules load while the project does
    const loading = import('../commands/syncs.js');
    loading.catch(() => undefined);
    const scan = await readableProject(root, out);
    const product = args[0]!;
    if (!knownProduct(scan, product)) throw unknownProduct(scan, product);
    const { syncsCommand } = await loading;
    return await syncsCommand(
      scan.project,
      { env, product, failed: options.failed, limit, ...(options.target !== undefined && { target: options.target }), ...(options.run !== undefined && { run: options.run }) },
      out,
    );
  },
});

import { defineCommand } from '../command.js';
import { positiveInteger } from '../parse.js';
import { knownProduct, readableProject, unknownProduct } from '../project-access.js';

export const quarantine = defineCommand({
  name: 'quarantine',
  summary: 'the rows a run of a product quarantined, with the checks each one failed',
  description:
    "Reads lastmile.quarantine: the rows the latest run that quarantined any (or the run given) set aside instead of serving them " +
    "(products with onDefects: 'quarantine').",
  arguments: [{ name: 'product', description: 'the product whose quarantined rows to show' }],
  options: {
    run: { type: 'string', value: 'R', description: 'the rows of this run (a run id, as lastmile runs shows it)' },
    limit: { type: 'string', value: 'N', description: 'at most N rows (default 20)' },
  },
  env: true,
  json: true,
  examples: ['lastmile quarantine ad_bids', 'lastmile quarantine ad_bids --limit 100 --json'],
  async handler({ options, args, root, env, out }) {
    const limit = positiveInteger(options.limit, 'limit', 'quarantine', 20, 10_000);
    // the command's modules load while the project does
    const loading = import('../commands/quarantine.js');
    loading.catch(() => undefined);
    const scan = await readableProject(root, out);
    const product = args[0]!;
    if (!knownProduct(scan, product)) throw unknownProduct(scan, product);
    const { quarantineCommand } = await loading;
    return await quarantineCommand(scan.project, { env, product, limit, ...(options.run !== undefined && { run: options.run }) }, out);
  },
});

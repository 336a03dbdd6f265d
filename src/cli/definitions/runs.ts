import { defineCommand } from '../command.js';
import { positiveInteger } from '../parse.js';
import { knownProduct, readableProject, unknownProduct } from '../project-access.js';

export const runs = defineCommand({
  name: 'runs',
  summary: 'recent runs of the environment, newest first: status, rows, defect-free share, time taken, why one failed',
  description: 'Reads the metadata store only (lastmile.runs).',
  arguments: [],
  options: {
    product: { type: 'string', value: 'P', description: 'only the runs of this product' },
    limit: { type: 'string', value: 'N', description: 'at most N runs (default 20)' },
  },
  env: true,
  json: true,
  examples: ['lastmile runs', 'lastmile runs --product ad_bids --limit 5'],
  async handler({ options, root, env, out }) {
    const limit = positiveInteger(options.limit, 'limit', 'runs', 20);
    // the command's modules load while the project does
    const loading = import('../commands/runs.js');
    loading.catch(() => undefined);
    const scan = await readableProject(root, out);
    if (options.product !== undefined && !knownProduct(scan, options.product)) throw unknownProduct(scan, options.product);
    const { runsCommand } = await loading;
    return await runsCommand(scan.project, { env, limit, ...(options.product !== undefined && { product: options.product }) }, out);
  },
});

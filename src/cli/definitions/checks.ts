import { defineCommand } from '../command.js';
import { knownProduct, readableProject, unknownProduct } from '../project-access.js';

export const checks = defineCommand({
  name: 'checks',
  summary: "the check results of a product's latest run: status, failing count, failing keys, and the SQL that lists them",
  description:
    'Reads lastmile.check_results of the latest run that recorded any (or of the run given). The SQL has its values written ' +
    'in: paste it into lastmile sql to see every failing row.',
  arguments: [{ name: 'product', description: 'the product whose checks to show' }],
  options: {
    run: { type: 'string', value: 'R', description: 'the checks of this run (a run id, as lastmile runs shows it)' },
    failing: { type: 'boolean', description: 'only the checks that failed or could not run' },
  },
  env: true,
  json: true,
  examples: ['lastmile checks ad_bids --failing', 'lastmile checks partner_invoices --json'],
  async handler({ options, args, root, env, out }) {
    // the command's modules load while the project does
    const loading = import('../commands/checks.js');
    loading.catch(() => undefined);
    const scan = await readableProject(root, out);
    const product = args[0]!;
    if (!knownProduct(scan, product)) throw unknownProduct(scan, product);
    const { checksCommand } = await loading;
    return await checksCommand(scan.project, { env, product, failing: options.failing, ...(options.run !== undefined && { run: options.run }) }, out);
  },
});

import { defineCommand } from '../command.js';
import { readableProject } from '../project-access.js';

export const slo = defineCommand({
  name: 'slo',
  summary: 'every SLO in the environment: SLI over the window, error budget left, fast burn, status',
  description: 'Judged now from the measurements in the metadata store (no Temporal); exits 0 whatever the SLOs say.',
  arguments: [],
  options: {
    product: { type: 'string', value: 'P', description: 'only the SLOs of this product' },
  },
  env: true,
  json: true,
  examples: ['lastmile slo', 'lastmile slo --product returns_by_supplier'],
  async handler({ options, root, env, out }) {
    // the command's modules load while the project does
    const [{ sloCommand }, scan] = await Promise.all([import('../commands/slo.js'), readableProject(root, out)]);
    return await sloCommand(scan.project, { env, ...(options.product !== undefined && { product: options.product }) }, out);
  },
});

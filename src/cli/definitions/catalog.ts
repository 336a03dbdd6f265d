import { defineCommand } from '../command.js';

export const catalog = defineCommand({
  name: 'catalog',
  summary: 'a static HTML (and Markdown) catalog of every product: contract, metrics, checks, SLOs, targets, lineage, latest run',
  description:
    'Reads products/ without running them and writes index.html (with a search that works from file://), products/<name>.html ' +
    "and catalog.md into the folder --out names (default .lastmile/catalog under the project). Each product's latest run, SLO " +
    "status and error budget come from the environment's metadata store when it can be opened; without one (or with --offline) " +
    'the catalog says so and is written from the declarations alone.',
  arguments: [],
  options: {
    out: { type: 'string', value: 'DIR', description: 'the folder to write (default: .lastmile/catalog in the project); relative to the current directory' },
    offline: { type: 'boolean', description: 'do not open the metadata store: no run or SLO status' },
    revision: { type: 'string', value: 'REV', description: 'read the products at this git revision (default: the work tree)' },
  },
  env: true,
  json: true,
  examples: ['lastmile catalog', 'lastmile catalog --out site/catalog --offline', 'lastmile catalog --env prod --json'],
  async handler({ options, root, env, out }) {
    const { catalogCommand } = await import('../commands/catalog.js');
    return await catalogCommand(
      root,
      { env, offline: options.offline, ...(options.out !== undefined && { out: options.out }), ...(options.revision !== undefined && { revision: options.revision }) },
      out,
    );
  },
});

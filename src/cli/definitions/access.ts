import { defineCommand } from '../command.js';
import { readableProject } from '../project-access.js';

export const access = defineCommand({
  name: 'access',
  summary: 'who can read which share, as the warehouse reports it (declared, drift, missing); --as shows what a consumer sees',
  description:
    "Reads the grants from the warehouse's catalog, not from the config, and marks each declared, drift (in the warehouse, " +
    'not declared) or missing (declared, not in the warehouse). With --as CONSUMER it reads that consumer\'s views through its ' +
    'own role in a read-only transaction: the columns, their masks, the row count and a few rows. Changes nothing.',
  arguments: [],
  options: {
    product: { type: 'string', value: 'P', description: "only this product's shares" },
    as: { type: 'string', value: 'CONSUMER', description: 'what this consumer (its id or role) actually sees' },
  },
  env: true,
  json: true,
  examples: ['lastmile access', 'lastmile access --product supplier_quality_share --as SUP-007'],
  async handler({ options, root, env, out }) {
    const [{ accessCommand }, scan] = await Promise.all([import('../commands/access.js'), readableProject(root, out)]);
    return await accessCommand(scan.project, { env, ...(options.product !== undefined && { product: options.product }), ...(options.as !== undefined && { as: options.as }) }, out);
  },
});

export const share = defineCommand({
  name: 'share',
  summary: 'share plan: what the next run of a share target would grant and revoke, changing nothing',
  arguments: [{ name: 'action', description: 'plan', choices: ['plan'] }],
  options: {},
  env: true,
  json: true,
  examples: ['lastmile share plan', 'lastmile share plan --env prod --json'],
  async handler({ root, env, out }) {
    const [{ sharePlanCommand }, scan] = await Promise.all([import('../commands/access.js'), readableProject(root, out)]);
    return await sharePlanCommand(scan.project, { env }, out);
  },
});

export const usage = defineCommand({
  name: 'usage',
  summary: 'when each share consumer last read its view (from pg_stat_statements); --unused lists the idle ones',
  description:
    "Samples the warehouse's statement statistics now and lists every consumer holding access: used, unused (no read seen " +
    'in the window, default 30d, or ever) or unknown (the warehouse has no pg_stat_statements, or hides other users\' ' +
    'statements from lastmile). A share target with sunsetAfter revokes a consumer unused that long, telling its owner first.',
  arguments: [],
  options: {
    product: { type: 'string', value: 'P', description: "only this product's consumers" },
    unused: { type: 'string', value: 'DURATION', description: 'only consumers with no read in this long (e.g. 30d)' },
  },
  env: true,
  json: true,
  examples: ['lastmile usage', 'lastmile usage --unused 30d --json'],
  async handler({ options, root, env, out }) {
    const [{ usageCommand }, scan] = await Promise.all([import('../commands/access.js'), readableProject(root, out)]);
    return await usageCommand(scan.project, { env, ...(options.product !== undefined && { product: options.product }), ...(options.unused !== undefined && { unused: options.unused }) }, out);
  },
});

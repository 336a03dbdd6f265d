import { defineCommand } from '../command.js';
import { positiveInteger } from '../parse.js';
import { wholeProject } from '../project-access.js';

export const deploy = defineCommand({
  name: 'deploy',
  summary: "apply a plan to an environment: schedules, SLO monitors and a ledger row per product (a saved plan exactly, or a fresh one)",
  description:
    "Applies product by product — Temporal schedules created, updated or deleted, SLO monitors started or stopped, then the product's " +
    'row in the deployments ledger (version, git SHA, who, when, plan hash, workflow build) — so a deploy stopped midway is completed ' +
    'by running it again, and the same plan applied twice changes nothing. A saved plan is refused once the environment or the ' +
    'products moved on; a breaking change without a major version bump (or a removal) is refused unless --override gives a reason.',
  arguments: [],
  options: {
    plan: { type: 'string', value: 'FILE', description: 'a plan saved by lastmile plan (default: plan now and apply that)' },
    override: { type: 'string', value: 'REASON', description: 'apply changes the contract gate refuses; the reason is recorded in the ledger' },
  },
  env: true,
  json: true,
  examples: ['lastmile deploy --env test', 'lastmile deploy --env prod --plan plan.json', 'lastmile deploy --env test --override "the column moved; its readers were told"'],
  async handler({ options, root, env, out }) {
    const loading = import('../commands/deploy.js');
    loading.catch(() => undefined);
    const project = await wholeProject(root);
    const { deployCommand } = await loading;
    return await deployCommand(project, { env, ...(options.plan !== undefined && { plan: options.plan }), ...(options.override !== undefined && { override: options.override }) }, out);
  },
});

export const deployments = defineCommand({
  name: 'deployments',
  summary: "the deployments ledger of an environment: each product's deployments and removals, newest first",
  description: 'Reads lastmile.deployments: per row its id, product, version, action (deploy, remove), git SHA, who, when, the plan that applied it and the workflow build.',
  arguments: [],
  options: {
    product: { type: 'string', value: 'P', description: 'only this product' },
    limit: { type: 'string', value: 'N', description: 'at most N rows (default 50)' },
  },
  env: true,
  json: true,
  examples: ['lastmile deployments --env prod', 'lastmile deployments --env test --product ad_bids --json'],
  async handler({ options, root, env, out }) {
    const limit = positiveInteger(options.limit, 'limit', 'deployments', 50, 1000);
    const { loadConfig } = await import('../../config/load.js');
    const { deploymentsCommand } = await import('../commands/deploy.js');
    return await deploymentsCommand({ config: await loadConfig(root), root }, { env, limit, ...(options.product !== undefined && { product: options.product }) }, out);
  },
});

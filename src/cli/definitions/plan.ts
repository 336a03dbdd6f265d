import { defineCommand } from '../command.js';

export const plan = defineCommand({
  name: 'plan',
  summary: 'what deploying the products would change in an environment, per product and why, against its deployments ledger',
  description:
    'Reads the products without running them (the work tree, or --revision) and compares each with what the environment runs: ' +
    'new, changed, removed or unchanged; for a change, which part of its fingerprint moved (the source as the environment renders ' +
    'it, normalised — so reformatting is no change —, contract, metrics, checks, SLOs, targets, docs, version, the environment\'s ' +
    "config, lastmile's workflow code), targets and schedules added, changed or removed, and the contract diff against the deployed " +
    'version. --out saves it for lastmile deploy to apply exactly. Exit 1 when it holds a breaking change without a major version bump.',
  arguments: [],
  options: {
    revision: { type: 'string', value: 'REV', description: 'plan the products at this git revision (default the work tree)' },
    out: { type: 'string', value: 'FILE', description: 'also write the plan as JSON, for lastmile deploy to apply exactly' },
    markdown: { type: 'boolean', description: 'print Markdown, ready for a pull-request comment' },
  },
  env: true,
  json: true,
  examples: ['lastmile plan --env test', 'lastmile plan --env prod --markdown', 'lastmile plan --env test --out plan.json'],
  async handler({ options, root, env, out }) {
    const { planCommand } = await import('../commands/plan.js');
    return await planCommand(root, { env, markdown: options.markdown, ...(options.revision !== undefined && { revision: options.revision }), ...(options.out !== undefined && { out: options.out }) }, out);
  },
});

import { defineCommand } from '../command.js';

export const validate = defineCommand({
  name: 'validate',
  summary: 'check lastmile.config.ts and products/ (and the contracts against the warehouse)',
  description:
    'Reports every problem of every product module and of the config at once, each with its file, field, what is wrong and how to ' +
    "fix it; then checks each contract against the environment's warehouse with zero-row queries. Exit 1 when anything is wrong.",
  arguments: [],
  options: {
    offline: { type: 'boolean', description: 'do not open the warehouse: check the modules only' },
  },
  env: true,
  json: true,
  examples: ['lastmile validate', 'lastmile validate --env prod --offline'],
  async handler({ options, root, env, out }) {
    const { validateCommand } = await import('../commands/validate.js');
    return await validateCommand(root, { env, offline: options.offline }, out);
  },
});

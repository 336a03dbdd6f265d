import { loadConfig } from '../../config/load.js';
import { defineCommand } from '../command.js';

export const warehouse = defineCommand({
  name: 'warehouse',
  summary: "the connection URL of the environment's warehouse",
  description:
    "The embedded warehouse's URL is printed whole (its password is local to this machine); it is not started, and a note says " +
    "when it is not running. A real warehouse's URL is printed with the password hidden, naming the variable that holds it.",
  arguments: [{ name: 'subcommand', choices: ['url'], description: 'print the connection URL' }],
  options: {},
  env: true,
  json: true,
  examples: ['lastmile warehouse url', 'psql "$(lastmile warehouse url --env test)"'],
  async handler({ root, env, out }) {
    const { warehouseUrlCommand } = await import('../commands/warehouse-url.js');
    return warehouseUrlCommand(root, await loadConfig(root), env, out);
  },
});

import { defineCommand } from '../command.js';
import { readableProject } from '../project-access.js';

export const status = defineCommand({
  name: 'status',
  summary: 'the latest run of every product in the environment, with the deployed version',
  description: 'Reads the metadata store only. Invalid product modules are left out and named in a warning on stderr.',
  arguments: [],
  options: {},
  env: true,
  json: true,
  examples: ['lastmile status', 'lastmile status --env prod --json'],
  async handler({ root, env, out }) {
    const { statusCommand } = await import('../commands/status.js');
    return await statusCommand((await readableProject(root, out)).project, env, out);
  },
});

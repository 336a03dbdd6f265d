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
    // the command's modules load while the project does
    const [{ statusCommand }, scan] = await Promise.all([import('../commands/status.js'), readableProject(root, out)]);
    return await statusCommand(scan.project, env, out);
  },
});

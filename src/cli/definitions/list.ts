import { defineCommand } from '../command.js';
import { readableProject } from '../project-access.js';

export const list = defineCommand({
  name: 'list',
  summary: 'the products, their versions, owners, audiences and serving targets',
  description: 'Reads products/ only. Invalid product modules are left out and named in a warning on stderr.',
  arguments: [],
  options: {},
  env: false,
  json: true,
  examples: ['lastmile list', 'lastmile list --json'],
  async handler({ root, out }) {
    const [{ listCommand }, scan] = await Promise.all([import('../commands/list.js'), readableProject(root, out)]);
    return listCommand(scan.project, out);
  },
});

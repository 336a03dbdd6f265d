import { defineCommand } from '../command.js';
import { projectWithProduct } from '../project-access.js';

export const revoke = defineCommand({
  name: 'revoke',
  summary: 'take a published file version back: delete its files, repoint _latest.json',
  description:
    "The version's files are deleted (its download links die with them), _latest.json moves to the newest version left, and the " +
    'version is marked unpublished in lastmile.file_manifests. A version the target does not have is refused, naming the ones it has.',
  arguments: [{ name: 'product', description: 'the product the files target belongs to' }],
  options: {
    target: { type: 'string', value: 'T', required: true, description: 'the files target of the product' },
    version: { type: 'string', value: 'v=<runId>', required: true, description: 'the version to take back, as its folder is named' },
  },
  env: true,
  json: true,
  examples: ['lastmile revoke partner_invoices --target monthly_csv --version v=0193a1b2-...'],
  async handler({ options, args, root, env, out }) {
    const { project } = await projectWithProduct(root, args[0]!, out);
    const { revokeCommand } = await import('../commands/revoke.js');
    return await revokeCommand(project, { env, product: args[0]!, target: options.target, version: options.version }, out);
  },
});

import { defineCommand } from '../command.js';
import { wholeProject } from '../project-access.js';

export const dev = defineCommand({
  name: 'dev',
  summary: 'warehouse + Temporal + worker on the embedded defaults: deploy and run every product in dev, then keep serving on schedule until Ctrl-C',
  description:
    'Brings up the dev environment (embedded PostgreSQL under .lastmile/, a Temporal server, a worker), creates a schedule for ' +
    'every scheduled target and the SLO monitors, runs every product once with a live status table, and keeps serving until ' +
    'Ctrl-C. Every product module must be valid.',
  arguments: [],
  options: {
    once: { type: 'boolean', description: 'stop after the first round (exit 1 if any product failed or was blocked)' },
  },
  env: false,
  json: true,
  examples: ['lastmile dev', 'lastmile dev --once'],
  async handler({ options, root, out }) {
    // the Temporal SDK loads only for the commands that run a worker (it takes a few hundred ms)
    (await import('../sdk-runtime.js')).installSdkRuntime(out.debug);
    const { devCommand } = await import('../commands/dev.js');
    return await devCommand(await wholeProject(root), { once: options.once }, out);
  },
});

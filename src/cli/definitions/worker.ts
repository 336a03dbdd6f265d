import { defineCommand } from '../command.js';
import { wholeProject } from '../project-access.js';

export const worker = defineCommand({
  name: 'worker',
  summary: "poll the environment's task queue with every lastmile workflow and activity until SIGINT / SIGTERM",
  description: 'Running activities get 5 s to finish, then Temporal retries them. Every product module must be valid.',
  arguments: [],
  options: {},
  env: true,
  json: false,
  examples: ['lastmile worker --env prod'],
  async handler({ root, env, out }) {
    // the Temporal SDK loads only for the commands that run a worker (it takes a few hundred ms)
    (await import('../sdk-runtime.js')).installSdkRuntime(out.debug);
    const { workerCommand } = await import('../commands/worker.js');
    return await workerCommand(await wholeProject(root), env, out);
  },
});

/**
 * A worker of the e2e fixtures in a process of its own, for tests that kill a worker with SIGKILL:
 *   node --import tsx test/support/worker-process.ts <address> <namespace> <taskQueue> <bundlePath>
 * Prints READY once polling. Its `lm.hold` sink and its `step` activity never return (after printing
 * `HOLD <workflowId> <key>` / `STEP <label> <attempt>`), so the test knows the worker is mid-task and kills it.
 */
import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import * as activities from '../devserver/fixtures/activities.js';

const [address, namespace, taskQueue, bundlePath] = process.argv.slice(2);
Runtime.install({ logger: new DefaultLogger('WARN') });
const connection = await NativeConnection.connect({ address });
const forever = new Promise<never>(() => undefined);
const worker = await Worker.create({
  connection,
  namespace,
  taskQueue,
  workflowBundle: { codePath: bundlePath },
  activities: {
    ...activities,
    async step(label: string): Promise<string> {
      process.stdout.write(`STEP ${label} ${Context.current().info.attempt}\n`);
      return await forever;
    },
  },
  sinks: {
    lm: {
      hold: {
        fn: async (info, key: string) => {
          process.stdout.write(`HOLD ${info.workflowId} ${key}\n`);
          await forever;
        },
        callDuringReplay: false,
      },
    },
  },
  stickyQueueScheduleToStartTimeout: '1s',
});
process.stdout.write('READY\n');
await worker.run();

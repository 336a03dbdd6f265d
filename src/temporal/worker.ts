import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import type { ServingContext } from '../runtime/serving-context.js';

/** The folder of lastmile's workflow code (bundled for the worker's sandbox). */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflow code once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => process.stderr.write(`workflow bundle: ${message}\n`),
  error: (message: string) => process.stderr.write(`workflow bundle: ${message}\n`),
};

/** A worker with every lastmile workflow and activity on the environment's task queue. */
export async function createLastmileWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  context: ServingContext;
}): Promise<Worker> {
  return await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(options.context),
    identity: `lastmile@${process.pid}`,
    // On Ctrl-C, running activities get this long to finish before they are cancelled (Temporal retries them)…
    shutdownGraceTime: '5s',
    // …and the worker gives up after this long: when the server went away with the signal (a terminal's Ctrl-C also
    // stops the embedded PostgreSQL under the devserver), reports of finished tasks could otherwise be retried forever.
    shutdownForceTime: '15s',
  });
}

import type { Context as ActivityContext } from '@temporalio/activity';
import type { WorkflowInfo } from '@temporalio/workflow';
import { Worker, type ActivityInterceptorsFactory, type NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import type { ServingContext } from '../runtime/serving-context.js';
import { workflowBundle } from './workflow-bundle.js';

export { WORKFLOWS_PATH, buildWorkflowBundle, workflowBundle } from './workflow-bundle.js';

/** A worker with every lastmile workflow and activity on the environment's task queue. */
export async function createLastmileWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  context: ServingContext;
  /** one line per workflow and activity outcome (`lastmile worker`); silent without it */
  log?: (line: string) => void;
}): Promise<Worker> {
  const log = options.log;
  return await Worker.create({
    sinks: {
      lastmile: {
        outcome: {
          fn: (info: WorkflowInfo, outcome: string, reason: string) =>
            log?.(`workflow ${info.workflowType} ${info.workflowId} ${outcome}${reason ? `: ${reason}` : ''}`),
          callDuringReplay: false,
        },
      },
    },
    interceptors: log ? { activity: [activityOutcomes(log)] } : {},
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(options.context.root),
    activities: createActivities(options.context),
    identity: `lastmile@${process.pid}`,
    // On Ctrl-C, running activities get this long to finish before they are cancelled (Temporal retries them)…
    shutdownGraceTime: '5s',
    // …and the worker gives up after this long: when the server went away with the signal (a terminal's Ctrl-C also
    // stops the embedded PostgreSQL under the devserver), reports of finished tasks could otherwise be retried forever.
    shutdownForceTime: '15s',
  });
}

/** One line per activity attempt's outcome, with how long it took. */
function activityOutcomes(log: (line: string) => void): ActivityInterceptorsFactory {
  return (ctx: ActivityContext) => ({
    inbound: {
      async execute(input, next) {
        const { activityType, attempt, workflowExecution } = ctx.info;
        const started = Date.now();
        const took = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
        try {
          const result = await next(input);
          log(`activity ${activityType} of ${workflowExecution?.workflowId ?? "a workflow"} completed in ${took()}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
          return result;
        } catch (error) {
          const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
          log(`activity ${activityType} of ${workflowExecution?.workflowId ?? "a workflow"} failed after ${took()} (attempt ${attempt}): ${message}`);
          throw error;
        }
      },
    },
  });
}

import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Product } from '../product/model.js';
import { MONITOR_TARGET, monitorId, runSearchAttributes } from '../temporal/names.js';
import type { SloMonitorInput } from '../../workflows/types.js';

export interface MonitorOptions {
  client: Client;
  env: string;
  taskQueue: string;
  /** Products whose monitor should run (each one with an `slo`). */
  products: readonly Product[];
  now?: Date;
}

/**
 * Starts the SLO monitor of each product with SLOs in the environment, unless it already runs
 * (`lastmile/<env>/<product>/slo-monitor`). Returns the ids of the monitors it started.
 */
export async function ensureMonitors(o: MonitorOptions): Promise<string[]> {
  const started: string[] = [];
  const since = (o.now ?? new Date()).toISOString();
  for (const product of o.products) {
    if (!product.slo) continue;
    const workflowId = monitorId(o.env, product.name);
    try {
      const running = await o.client.workflow.getHandle(workflowId).describe();
      if (running.status.name === 'RUNNING') continue;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const input: SloMonitorInput = { env: o.env, product: product.name, since };
    await o.client.workflow.start('sloMonitor', {
      workflowId,
      taskQueue: o.taskQueue,
      args: [input],
      // two deploys at once: the second joins the monitor the first started
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: runSearchAttributes({ product: product.name, env: o.env, target: MONITOR_TARGET, owner: product.owner.team }),
      memo: { description: `SLO monitor of ${product.name} in ${o.env}` },
    });
    started.push(workflowId);
  }
  return started;
}

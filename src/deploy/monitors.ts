import { WorkflowIdConflictPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Product } from '../product/model.js';
import { monitorStartOptions } from '../temporal/monitor-start.js';
import { monitorId } from '../temporal/names.js';

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
  const now = o.now ?? new Date();
  for (const product of o.products) {
    if (!product.slo) continue;
    const workflowId = monitorId(o.env, product.name);
    try {
      const running = await o.client.workflow.getHandle(workflowId).describe();
      if (running.status.name === 'RUNNING') continue;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    await o.client.workflow.start('sloMonitor', {
      ...monitorStartOptions(o.env, product, o.taskQueue, now),
      // two deploys at once: the second joins the monitor the first started
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    started.push(workflowId);
  }
  return started;
}

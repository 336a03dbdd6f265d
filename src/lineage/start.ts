/** How an environment's lineage delivery workflow (workflows/lineage-delivery.ts) is started and woken: by each run. */
import type { Client } from '@temporalio/client';
import { envWorkflowId, envWorkflowStartOptions, signalEnvWorkflow, type EnvWorkflow } from '../temporal/env-workflow.js';

const LINEAGE_DELIVERY: EnvWorkflow = { type: 'lineageDelivery', signal: 'lineageRecorded', product: 'lineage', target: 'delivery', description: (env) => `delivers ${env}'s OpenLineage events` };

/** `lastmile/<env>/lineage` */
export function lineageDeliveryId(env: string): string {
  return envWorkflowId(LINEAGE_DELIVERY, env, true);
}

export function lineageDeliveryStartOptions(env: string, taskQueue: string) {
  return envWorkflowStartOptions(LINEAGE_DELIVERY, env, taskQueue, lineageDeliveryId(env));
}

/** Tells the environment's delivery that events wait, starting it when it does not run. */
export async function signalLineageDelivery(client: Client, env: string, taskQueue: string): Promise<void> {
  await signalEnvWorkflow(client, LINEAGE_DELIVERY, env, taskQueue, lineageDeliveryId(env));
}

/**
 * A workflow of its own per environment (the share expiry timer, the lineage delivery): one id per environment,
 * started on the first signal and woken by every later one (signal-with-start), with the search attributes lastmile's
 * runs carry so the Temporal UI finds it beside them.
 */
import type { Client } from '@temporalio/client';
import { runSearchAttributes } from './names.js';

export interface EnvWorkflow {
  /** the workflow type, e.g. `shareExpiry` */
  type: string;
  /** the signal that wakes it */
  signal: string;
  /** what `LastmileProduct` / `LastmileTarget` say, e.g. `shares` / `expiry` */
  product: string;
  target: string;
  /** the memo's description */
  description: (env: string) => string;
}

/** `lastmile/<env>/<product>/<target>`, or `lastmile/<env>/<product>` when the target is the product's own name. */
export function envWorkflowId(workflow: Pick<EnvWorkflow, 'product' | 'target'>, env: string, short = false): string {
  return short ? `lastmile/${env}/${workflow.product}` : `lastmile/${env}/${workflow.product}/${workflow.target}`;
}

export function envWorkflowStartOptions(workflow: EnvWorkflow, env: string, taskQueue: string, workflowId: string) {
  return {
    workflowId,
    taskQueue,
    args: [{ env }] as [{ env: string }],
    typedSearchAttributes: runSearchAttributes({ product: workflow.product, env, target: workflow.target, owner: 'lastmile' }),
    memo: { description: workflow.description(env) },
  };
}

/** Tells the environment's workflow to look again, starting it when it does not run. */
export async function signalEnvWorkflow(client: Client, workflow: EnvWorkflow, env: string, taskQueue: string, workflowId: string): Promise<void> {
  await client.workflow.signalWithStart(workflow.type, { ...envWorkflowStartOptions(workflow, env, taskQueue, workflowId), signal: workflow.signal, signalArgs: [] });
}

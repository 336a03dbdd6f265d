/** How an environment's share expiry timer (workflows/share-expiry.ts) is started: by a share target's run. */
import type { Client } from '@temporalio/client';
import { envWorkflowId, envWorkflowStartOptions, signalEnvWorkflow, type EnvWorkflow } from './env-workflow.js';

const SHARE_EXPIRY: EnvWorkflow = { type: 'shareExpiry', signal: 'sharesChanged', product: 'shares', target: 'expiry', description: (env) => `the expiry timer of ${env}'s data shares` };

/** `lastmile/<env>/shares/expiry` */
export function shareExpiryId(env: string): string {
  return envWorkflowId(SHARE_EXPIRY, env);
}

export function shareExpiryStartOptions(env: string, taskQueue: string) {
  return envWorkflowStartOptions(SHARE_EXPIRY, env, taskQueue, shareExpiryId(env));
}

/** Tells the environment's timer that expiries may have moved, starting it when it does not run. */
export async function signalShareExpiry(client: Client, env: string, taskQueue: string): Promise<void> {
  await signalEnvWorkflow(client, SHARE_EXPIRY, env, taskQueue, shareExpiryId(env));
}

/** How an environment's share expiry timer (workflows/share-expiry.ts) is started: by a share target's run. */
import type { Client } from '@temporalio/client';
import { runSearchAttributes } from './names.js';

/** `lastmile/<env>/shares/expiry` */
export function shareExpiryId(env: string): string {
  return `lastmile/${env}/shares/expiry`;
}

export function shareExpiryStartOptions(env: string, taskQueue: string) {
  return {
    workflowId: shareExpiryId(env),
    taskQueue,
    args: [{ env }] as [{ env: string }],
    typedSearchAttributes: runSearchAttributes({ product: 'shares', env, target: 'expiry', owner: 'lastmile' }),
    memo: { description: `the expiry timer of ${env}'s data shares` },
  };
}

/** Tells the environment's timer that expiries may have moved, starting it when it does not run. */
export async function signalShareExpiry(client: Client, env: string, taskQueue: string): Promise<void> {
  await client.workflow.signalWithStart('shareExpiry', { ...shareExpiryStartOptions(env, taskQueue), signal: 'sharesChanged', signalArgs: [] });
}

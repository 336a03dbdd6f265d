/** How an environment's share expiry timer (workflows/share-expiry.ts) is started: by a share target's run. */
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

import { log, proxyActivities } from '@temporalio/workflow';
import type { SharingActivities } from '../activities/sharing/sharing-activities.js';
import { INPUT_ERROR } from './errors.js';
import { failureMessage } from './failure.js';
import type { ServeTargetInput, TargetResult } from './types.js';

const sharing = proxyActivities<SharingActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [INPUT_ERROR] },
});

/**
 * Serves a `share` target: reconciles the environment's shares to what the products declare (one transaction; this
 * target's consumers renewed), then tells the environment's expiry timer, which revokes each expiring grant at its
 * expiry whether or not a run comes.
 */
export async function dataSharing(input: ServeTargetInput): Promise<TargetResult> {
  const result = await sharing.reconcileShares({ env: input.env, runId: input.runId, renew: { product: input.product, target: input.target } });
  await sharing.notifyShareExpiry({ env: input.env }).catch((error: unknown) => {
    // the grants are in place; the timer also wakes at the next reconcile
    log.warn(`the share expiry timer of ${input.env} was not told about ${input.product}/${input.target}: ${failureMessage(error)}`);
  });
  return { name: input.target, kind: 'share', status: 'succeeded', rows: result.consumers, detail: result.summary };
}

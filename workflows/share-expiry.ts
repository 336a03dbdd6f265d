import { condition, continueAsNew, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { workflowNow } from './clock.js';
import type { MonitorActivities } from '../activities/slo/monitor-activities.js';
import type { SharingActivities } from '../activities/sharing/sharing-activities.js';
import { INPUT_ERROR } from './errors.js';

/** Sent after every reconcile: expiries may have moved. */
export const sharesChangedSignal = defineSignal('sharesChanged');

const HISTORY_LIMIT = 1000;

const sharing = proxyActivities<SharingActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', nonRetryableErrorTypes: [INPUT_ERROR] },
});

const delivery = proxyActivities<MonitorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [INPUT_ERROR] },
});

/**
 * The durable timer of an environment's expiring grants (`lastmile/<env>/shares/expiry`): sleeps until the next
 * expiry or notice, then tells the owners of grants about to expire (the environment's alert channels) and revokes
 * the expired ones — with no run or deploy in between, across worker and server restarts. A reconcile signals it, so
 * an expiry changed in code moves the timer. Continues as new to keep its history bounded.
 */
export async function shareExpiry(input: { env: string }): Promise<void> {
  let changed = false;
  setHandler(sharesChangedSignal, () => {
    changed = true;
  });
  let dueAtOnce = 0;
  for (;;) {
    changed = false;
    const { nextAt } = await sharing.nextShareEvent({ env: input.env });
    if (nextAt === null) {
      await condition(() => changed);
    } else {
      // something due at once twice in a row waits a little: a timer never spins on an event that does not go away
      const wait = Math.max(Date.parse(nextAt) - workflowNow().getTime(), dueAtOnce >= 2 ? 5_000 : 0);
      dueAtOnce = Date.parse(nextAt) <= workflowNow().getTime() ? dueAtOnce + 1 : 0;
      if (wait > 0) await condition(() => changed, wait);
    }
    if (!changed) {
      const { pending } = await sharing.expireShares({ env: input.env });
      await Promise.all(pending.map((p) => delivery.deliverAlert({ env: input.env, ...p }).catch(() => undefined)));
    }
    if (workflowInfo().historyLength >= HISTORY_LIMIT) await continueAsNew<typeof shareExpiry>(input);
  }
}

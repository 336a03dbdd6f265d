import { condition, continueAsNew, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { MonitorActivities } from '../activities/slo/monitor-activities.js';
import type { SloMonitorInput } from './types.js';
import { INPUT_ERROR } from './errors.js';

/** Sent by every run of the product when it finished: the monitor re-evaluates at once. */
export const runFinishedSignal = defineSignal('runFinished');

/** History length after which the monitor continues as new (its state lives in the metadata store). */
export const MONITOR_HISTORY_LIMIT = 2000;

const evaluation = proxyActivities<MonitorActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', nonRetryableErrorTypes: [INPUT_ERROR] },
});

// An alert is retried until it is delivered: a receiver outage delays it, never loses it.
const delivery = proxyActivities<MonitorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [INPUT_ERROR] },
});

/**
 * Watches one product's SLOs in one environment between runs: measures how old the consumers' data is, judges each
 * delivery deadline at the deadline itself, opens and resolves incidents (breach, fast burn, failed run) and delivers
 * their alerts. Runs forever; continues as new to keep its history bounded.
 */
export async function sloMonitor(input: SloMonitorInput): Promise<void> {
  let wake = false;
  setHandler(runFinishedSignal, () => {
    wake = true;
  });
  const inFlight = new Map<string, Promise<void>>();
  const limit = input.historyLimit ?? MONITOR_HISTORY_LIMIT;
  for (;;) {
    wake = false;
    const result = await evaluation.evaluateMonitor({ env: input.env, product: input.product, since: input.since });
    if (result.retired) return;
    for (const pending of result.pending) {
      const key = `${pending.alertId}/${pending.event}/${pending.channel}`;
      if (inFlight.has(key)) continue;
      const sending = delivery.deliverAlert({ env: input.env, ...pending }).then(
        () => undefined,
        // given up (a non-retryable error): the delivery stays pending and is tried again at the next evaluation
        () => undefined,
      );
      inFlight.set(
        key,
        sending.finally(() => inFlight.delete(key)),
      );
    }
    // Deliveries still in flight are picked up again by the next run (a delivery is recorded once it succeeded).
    const length = workflowInfo().historyLength;
    if ((inFlight.size === 0 && length >= limit) || length >= 2 * limit) {
      await continueAsNew<typeof sloMonitor>(input);
    }
    await condition(() => wake, result.sleepMs);
  }
}

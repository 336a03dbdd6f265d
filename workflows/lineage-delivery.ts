import { condition, continueAsNew, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { LineageActivities } from '../activities/lineage/lineage-activities.js';
import { INPUT_ERROR } from './errors.js';

/** Sent by a run that recorded a lineage event (after planRun and after finishRun). */
export const lineageRecordedSignal = defineSignal('lineageRecorded');

const HISTORY_LIMIT = 1000;

// A receiver that is down delays the events, never loses them: the delivery is retried until it goes through.
const delivery = proxyActivities<LineageActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: [INPUT_ERROR] },
});

/**
 * Delivers an environment's OpenLineage events (`lastmile/<env>/lineage`): sends every undelivered event in order,
 * then sleeps until a run records another. Its state is the outbox in the metadata store, so a worker or server
 * restart loses nothing; it continues as new to keep its history bounded.
 */
export async function lineageDelivery(input: { env: string }): Promise<void> {
  let recorded = false;
  setHandler(lineageRecordedSignal, () => {
    recorded = true;
  });
  for (;;) {
    recorded = false;
    const sent = await delivery.deliverLineage({ env: input.env }).catch(() => undefined);
    if (sent?.more) continue;
    if (workflowInfo().historyLength >= HISTORY_LIMIT) await continueAsNew<typeof lineageDelivery>(input);
    await condition(() => recorded);
  }
}

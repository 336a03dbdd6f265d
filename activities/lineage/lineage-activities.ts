import { ApplicationFailure, Context } from '@temporalio/activity';
import { deliverPending, lineageOf, receiverLabel, sendLineageEvent, signalLineageDelivery } from '../../src/lineage/index.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';

/** How long one delivery activity sends before it hands back (the workflow starts the next at once). */
const DELIVERY_BUDGET_MS = 60_000;

/** The delivery of an environment's OpenLineage events (src/lineage), for workflows/lineage-delivery.ts. */
export function createLineageActivities(ctx: ServingContext) {
  return {
    /** Wakes the environment's lineage delivery (starting it when it does not run): a run recorded an event. */
    async notifyLineage(input: { env: string }): Promise<void> {
      const activity = Context.current();
      await signalLineageDelivery(activity.client, input.env, activity.info.taskQueue);
    },

    /**
     * Sends the environment's undelivered events in order. A send that fails is recorded and this activity fails
     * (retryable), so Temporal tries again with backoff — across worker restarts — until the receiver takes it.
     * Each outcome is one line in the worker's log; the API key never is.
     */
    async deliverLineage(input: { env: string }): Promise<{ delivered: number; rejected: number; more: boolean }> {
      const warehouse = await ctx.warehouse(input.env);
      const lineage = lineageOf(ctx.config, input.env);
      if (!lineage) {
        // configured when the events were recorded, not now: they wait until lineage is configured again
        return { delivered: 0, rejected: 0, more: false };
      }
      const label = receiverLabel(lineage);
      const progress = await deliverPending(warehouse.pool, input.env, (event) => sendLineageEvent(lineage, event), { budgetMs: DELIVERY_BUDGET_MS });
      for (const event of progress.rejected) {
        ctx.log(`lineage: ${label} refused the ${event.eventType} event of run ${event.runId} in ${input.env}; it is not sent again: ${event.lastError ?? ''}`);
      }
      if (progress.failed) {
        const { event, error } = progress.failed;
        const message = `the ${event.eventType} event of run ${event.runId} in ${input.env} was not delivered (attempt ${event.attempts}): ${error}. It is sent again, and the events after it wait.`;
        ctx.log(`lineage: ${message}`);
        throw ApplicationFailure.retryable(message, 'LastmileLineageDelivery');
      }
      return { delivered: progress.delivered.length, rejected: progress.rejected.length, more: progress.more };
    },
  };
}

export type LineageActivities = ReturnType<typeof createLineageActivities>;

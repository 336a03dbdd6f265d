import { Context } from '@temporalio/activity';
import { createAlertStore } from '../../src/alerts/index.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import { expireShares, nextShareAt, shareSession } from '../../src/sharing/serve.js';
import { signalShareExpiry } from '../../src/temporal/share-expiry-start.js';
import type { PendingDelivery } from '../../src/alerts/index.js';
import { withHeartbeat } from '../core/heartbeat.js';

/** The activities of the `share` serving kind (src/sharing/serve.ts) and of the environment's expiry timer. */
export function createSharingActivities(ctx: ServingContext) {
  const session = (env: string) => shareSession(ctx, env);

  return {
    /** Reconciles the environment's shares to the products (one transaction), renewing `renew`'s consumers. */
    async reconcileShares(input: { env: string; runId?: string; renew?: { product: string; target: string } }): Promise<{ consumers: number; ddl: number; summary: string }> {
      const share = await session(input.env);
      return await withHeartbeat(share.reconcile({ ...(input.runId !== undefined && { runId: input.runId }), ...(input.renew && { renew: input.renew }) }), () => ({ env: input.env }));
    },

    /** Tells (or starts) the environment's expiry timer that expiries may have moved. */
    async notifyShareExpiry(input: { env: string }): Promise<void> {
      const activity = Context.current();
      await signalShareExpiry(activity.client, input.env, activity.info.taskQueue);
    },

    /** When the timer should wake next: the next expiry or notice of the environment's grants. */
    async nextShareEvent(input: { env: string }): Promise<{ nextAt: string | null }> {
      const next = await nextShareAt(await session(input.env));
      return { nextAt: next ? next.toISOString() : null };
    },

    /** Tells owners of grants about to expire, revokes the expired ones; returns the notices' deliveries. */
    async expireShares(input: { env: string }): Promise<{ pending: Pick<PendingDelivery, 'alertId' | 'event' | 'channel'>[] }> {
      const share = await session(input.env);
      const store = createAlertStore(share.warehouse.pool);
      return await withHeartbeat(expireShares(share, store, ctx.environment(input.env)), () => ({ env: input.env }));
    },
  };
}

export type SharingActivities = ReturnType<typeof createSharingActivities>;

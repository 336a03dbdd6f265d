import { Context } from '@temporalio/activity';
import { createAlertStore, type PendingDelivery } from '../../src/alerts/index.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import type { SyncOutcome } from '../../src/reverse-etl/apply.js';
import type { FrozenPlan, SyncRunState } from '../../src/reverse-etl/freeze.js';
import { decideSync, holdSync, syncSession, type SyncDecision, type SyncTarget } from '../../src/reverse-etl/serve.js';
import { withHeartbeat } from '../core/heartbeat.js';

/** Within the apply step's 10 s heartbeat timeout (workflows/reverse-etl.ts), so a lost worker is noticed in seconds. */
const SYNC_HEARTBEAT_MS = 2_000;

/**
 * A sync run is one target of one product run: `<runId>/<target>` names it in the sync log (so two reverse ETL
 * targets of a product never share a plan) and starts its batches' idempotency keys.
 */
export function syncRunId(input: { runId: string; target: string }): string {
  return `${input.runId}/${input.target}`;
}

type Deliveries = Pick<PendingDelivery, 'alertId' | 'event' | 'channel'>[];

/** The activities of the `reverseEtl` serving kind (src/reverse-etl/serve.ts). */
export function createReverseEtlActivities(ctx: ServingContext) {
  return {
    /** Freezes the run's plan (the same plan every time for one run id) and judges its guardrails. */
    async freezeSync(input: SyncTarget & { runId: string; workflowId: string }): Promise<FrozenPlan & { approvalTimeoutMs: number }> {
      const session = await syncSession(ctx, input);
      const plan = await withHeartbeat(session.freeze({ runId: syncRunId(input), workflowId: input.workflowId }), () => ({ runId: input.runId }));
      return { ...plan, approvalTimeoutMs: session.spec.approvalTimeoutMs };
    },

    /** A guardrail tripped: raises the alert that asks for a decision. */
    async holdSync(input: SyncTarget & { runId: string; timeoutMs: number }): Promise<{ pending: Deliveries }> {
      const warehouse = await ctx.warehouse(input.env);
      return { pending: await holdSync(warehouse, createAlertStore(warehouse.pool), ctx.environment(input.env), { ...input, runId: syncRunId(input) }) };
    },

    /** Records the decision on a held sync and resolves its alert. */
    async decideSync(input: SyncTarget & { runId: string; decision: SyncDecision; by?: string; reason?: string }): Promise<{ state: SyncRunState; pending: Deliveries }> {
      const warehouse = await ctx.warehouse(input.env);
      return decideSync(warehouse, createAlertStore(warehouse.pool), ctx.environment(input.env), { ...input, runId: syncRunId(input) });
    },

    /** Sends the frozen plan's batches not acknowledged yet, then advances the synced state. */
    async applySync(input: SyncTarget & { runId: string }): Promise<SyncOutcome> {
      const session = await syncSession(ctx, input);
      let progress = { batches: 0, of: 0 };
      const { cancellationSignal } = Context.current();
      return withHeartbeat(
        session.apply(syncRunId(input), { onProgress: (done) => (progress = done), signal: cancellationSignal }),
        () => ({ runId: input.runId, ...progress }),
        SYNC_HEARTBEAT_MS,
      );
    },
  };
}

export type ReverseEtlActivities = ReturnType<typeof createReverseEtlActivities>;

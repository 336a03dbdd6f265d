import { Context } from '@temporalio/activity';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import { measureLatency, recordRunSlis } from '../../src/slo/run-slis.js';
import { monitorStartOptions } from '../../src/temporal/monitor-start.js';
import type { DataAge, LatencyOutcome, QueryLatency } from '../../workflows/types.js';
import { withHeartbeat } from '../core/heartbeat.js';
import { productOf } from '../core/products.js';

/** What each run measures of the product's SLOs (src/slo/run-slis.ts), and the hand-over to its SLO monitor. */
export function createRunSloActivities(ctx: ServingContext) {
  return {
    /** Times the serving queries and records the run's `latency` SLI; heartbeats each sample. */
    async measureLatency(input: { env: string; product: string; runId: string; measured?: Record<string, QueryLatency> }): Promise<LatencyOutcome> {
      const activity = Context.current();
      let at: { query?: string; sample?: number } = {};
      const work = measureLatency({
        warehouse: await ctx.warehouse(input.env),
        product: productOf(ctx, input.product),
        runId: input.runId,
        ...(input.measured && { measured: input.measured }),
        onSample: (query, sample) => {
          at = { query, sample };
          activity.heartbeat(at);
        },
      });
      // a slow query still heartbeats on the clock
      return await withHeartbeat(work, () => at);
    },

    /** Records the run's availability, defect-free and freshness SLIs once it finished. Idempotent. */
    async recordRunSlis(input: { env: string; product: string; runId: string; dataAge?: DataAge }): Promise<void> {
      await recordRunSlis({
        warehouse: await ctx.warehouse(input.env),
        product: productOf(ctx, input.product),
        runId: input.runId,
        ...(input.dataAge && { dataAge: input.dataAge }),
      });
    },

    /** Tells the product's SLO monitor that a run finished, starting the monitor when it is not running. */
    async notifyMonitor(input: { env: string; product: string }): Promise<void> {
      const product = productOf(ctx, input.product);
      if (!product.slo) return;
      const activity = Context.current();
      await activity.client.workflow.signalWithStart('sloMonitor', {
        ...monitorStartOptions(input.env, product, activity.info.taskQueue, new Date()),
        signal: 'runFinished',
        signalArgs: [],
      });
    },
  };
}

export type RunSloActivities = ReturnType<typeof createRunSloActivities>;

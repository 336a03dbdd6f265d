import { Context } from '@temporalio/activity';
import { resolveSql } from '../../src/sql/resolve.js';
import { durationMs } from '../../src/time/duration.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import { nextDeadlineAfter } from '../../src/slo/deadlines.js';
import { monitorId } from '../../workflows/ids.js';
import type { DataAge, LatencyOutcome, QueryLatency, SloMonitorInput } from '../../workflows/types.js';
import { timeQueries } from '../../src/warehouse/timing.js';
import { MONITOR_TARGET, runSearchAttributes } from '../../src/temporal/names.js';
import { productOf } from '../core/products.js';

/** Default number of times each serving query is timed per run. */
export const LATENCY_SAMPLES = 5;

export { quantile } from '../../src/warehouse/timing.js';

/** What each run measures of the product's SLOs, and the hand-over to its SLO monitor. */
export function createRunSloActivities(ctx: ServingContext) {
  return {
    /**
     * Times each named serving query of `slo.latency` (`samples` runs each, after one untimed warm-up), adds the
     * queries the run's targets timed (`measured`: a dashboard's queries), and records the worst p95 as the run's
     * `latency` SLI — good when within `slo.latency.p95`.
     */
    async measureLatency(input: { env: string; product: string; runId: string; measured?: Record<string, QueryLatency> }): Promise<LatencyOutcome> {
      const product = productOf(ctx, input.product);
      const latency = product.slo?.latency;
      const warehouse = await ctx.warehouse(input.env);
      const own = Object.fromEntries(Object.entries(latency?.queries ?? {}).map(([name, source]) => [name, resolveSql(source, warehouse.schemas)]));
      const activity = Context.current();
      const timed = await timeQueries(warehouse.pool, own, latency?.samples ?? LATENCY_SAMPLES, (query, sample) => activity.heartbeat({ query, sample }));
      const queries: LatencyOutcome['queries'] = { ...(input.measured ?? {}), ...timed };
      if (Object.keys(queries).length === 0) throw new Error(`${product.name} names no queries to time (slo.latency.queries, or a dashboard target's queries)`);
      const p95Ms = Math.max(...Object.values(queries).map((q) => q.p95Ms));
      const thresholdMs = latency ? durationMs(latency.p95) : null;
      const good = thresholdMs === null || p95Ms <= thresholdMs;
      await warehouse.meta.recordSli({ product: product.name, env: input.env, runId: input.runId, sli: 'latency', value: p95Ms, good, detail: { queries, thresholdMs } });
      return { p95Ms, good, queries };
    },

    /**
     * Records the run's SLIs once it finished: `availability` (scheduled and dev runs: delivered, and on time when the
     * product has a deadline), `defect_free` (the checks' defect-free share) and `freshness`: the age of the newest
     * data a dashboard target measured after its refresh (`dataAge`), else how old the consumers' data had become
     * when this delivery replaced it. Idempotent: one measurement per run and SLI.
     */
    async recordRunSlis(input: { env: string; product: string; runId: string; dataAge?: DataAge }): Promise<void> {
      const product = productOf(ctx, input.product);
      const slo = product.slo;
      if (!slo) return;
      const warehouse = await ctx.warehouse(input.env);
      const run = await warehouse.meta.getRun(input.runId);
      if (!run || !run.finishedAt) throw new Error(`run ${input.runId} is not finished; its SLIs are recorded after finishRun`);
      const finishedAt = run.finishedAt;
      const common = { product: product.name, env: input.env, runId: run.runId, measuredAt: finishedAt };
      const delivered = run.status === 'succeeded';

      if (slo.availability !== undefined && run.trigger !== 'manual') {
        const deadline = slo.deliverBy ? nextDeadlineAfter(new Date(run.startedAt.getTime() - 1), slo.deliverBy) : undefined;
        const onTime = !deadline || finishedAt.getTime() <= deadline.getTime();
        await warehouse.meta.recordSli({
          ...common,
          sli: 'availability',
          value: delivered && onTime ? 1 : 0,
          good: delivered && onTime,
          detail: { status: run.status, ...(deadline && { deadline: deadline.toISOString(), onTime }) },
        });
      }
      if (slo.defectFree !== undefined && run.defectRate !== null) {
        const fraction = 1 - run.defectRate;
        await warehouse.meta.recordSli({ ...common, sli: 'defect_free', value: fraction, good: fraction >= slo.defectFree });
      }
      if (slo.freshness !== undefined && delivered && input.dataAge) {
        const age = input.dataAge;
        await warehouse.meta.recordSli({
          ...common,
          sli: 'freshness',
          value: age.ageSeconds,
          good: age.ageSeconds * 1000 <= durationMs(slo.freshness),
          detail: { newest: age.newest, object: age.object, column: age.column, target: age.target, measuredAt: age.measuredAt },
        });
      } else if (slo.freshness !== undefined && delivered) {
        const previous = (await warehouse.meta.listRuns({ env: input.env, product: product.name, status: 'succeeded', limit: 2 })).find(
          (r) => r.runId !== run.runId && r.finishedAt !== null && r.finishedAt.getTime() <= finishedAt.getTime(),
        );
        if (previous?.finishedAt) {
          const ageSeconds = (finishedAt.getTime() - previous.finishedAt.getTime()) / 1000;
          await warehouse.meta.recordSli({
            ...common,
            sli: 'freshness',
            value: ageSeconds,
            good: ageSeconds * 1000 <= durationMs(slo.freshness),
            detail: { previousDelivery: previous.finishedAt.toISOString(), replacedBy: run.runId },
          });
        }
      }
    },

    /** Tells the product's SLO monitor that a run finished, starting the monitor when it is not running. */
    async notifyMonitor(input: { env: string; product: string }): Promise<void> {
      const product = productOf(ctx, input.product);
      if (!product.slo) return;
      const activity = Context.current();
      const monitor: SloMonitorInput = { env: input.env, product: product.name, since: new Date().toISOString() };
      await activity.client.workflow.signalWithStart('sloMonitor', {
        workflowId: monitorId(input.env, product.name),
        taskQueue: activity.info.taskQueue,
        args: [monitor],
        signal: 'runFinished',
        signalArgs: [],
        typedSearchAttributes: runSearchAttributes({ product: product.name, env: input.env, target: MONITOR_TARGET, owner: product.owner.team }),
      });
    },
  };
}

export type RunSloActivities = ReturnType<typeof createRunSloActivities>;

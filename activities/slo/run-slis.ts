import { Context } from '@temporalio/activity';
import { resolveSql } from '../../src/product/source.js';
import { durationMs } from '../../src/product/duration.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import { nextDeadlineAfter } from '../../src/slo/deadlines.js';
import { monitorId } from '../../workflows/ids.js';
import type { LatencyOutcome, SloMonitorInput } from '../../workflows/types.js';
import { MONITOR_TARGET } from '../../src/deploy/monitors.js';
import { runSearchAttributes } from '../../src/temporal/names.js';
import { productOf } from '../core/products.js';

/** Default number of times each serving query is timed per run. */
export const LATENCY_SAMPLES = 5;

/** The q-quantile (0–1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** What each run measures of the product's SLOs, and the hand-over to its SLO monitor. */
export function createRunSloActivities(ctx: ServingContext) {
  return {
    /**
     * Times each named serving query of `slo.latency` (`samples` runs each, after one untimed warm-up) and records
     * the worst p95 as the run's `latency` SLI.
     */
    async measureLatency(input: { env: string; product: string; runId: string }): Promise<LatencyOutcome> {
      const product = productOf(ctx, input.product);
      const latency = product.slo?.latency;
      if (!latency) throw new Error(`${product.name} declares no slo.latency`);
      const warehouse = await ctx.warehouse(input.env);
      const samples = latency.samples ?? LATENCY_SAMPLES;
      const queries: LatencyOutcome['queries'] = {};
      const client = await warehouse.pool.connect();
      try {
        for (const [name, source] of Object.entries(latency.queries)) {
          const text = resolveSql(source, warehouse.schemas);
          await client.query(text);
          const times: number[] = [];
          for (let i = 0; i < samples; i++) {
            const started = performance.now();
            await client.query(text);
            times.push(performance.now() - started);
            Context.current().heartbeat({ query: name, sample: i + 1 });
          }
          times.sort((a, b) => a - b);
          queries[name] = { p50Ms: round(quantile(times, 0.5)), p95Ms: round(quantile(times, 0.95)), samples };
        }
      } finally {
        client.release();
      }
      const p95Ms = Math.max(...Object.values(queries).map((q) => q.p95Ms));
      const good = p95Ms <= durationMs(latency.p95);
      await warehouse.meta.recordSli({
        product: product.name,
        env: input.env,
        runId: input.runId,
        sli: 'latency',
        value: p95Ms,
        good,
        detail: { queries, thresholdMs: durationMs(latency.p95) },
      });
      return { p95Ms, good, queries };
    },

    /**
     * Records the run's SLIs once it finished: `availability` (scheduled and dev runs: delivered, and on time when the
     * product has a deadline), `defect_free` (the checks' defect-free share) and `freshness` (how old the consumers'
     * data had become when this delivery replaced it). Idempotent: one measurement per run and SLI.
     */
    async recordRunSlis(input: { env: string; product: string; runId: string }): Promise<void> {
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
      if (slo.freshness !== undefined && delivered) {
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

/**
 * What each run measures of its product's SLOs (called by the serveProduct activities once the run has served): the
 * serving queries' latency, and the run's availability, defect-free and freshness SLIs.
 */
import type { Product } from '../product/model.js';
import type { Warehouse } from '../runtime/warehouse.js';
import { resolveSql } from '../sql/resolve.js';
import { durationMs } from '../time/duration.js';
import { timeQueries } from '../warehouse/timing.js';
import type { DataAge, LatencyOutcome, QueryLatency } from '../../workflows/types.js';
import { nextDeadlineAfter } from './deadlines.js';

/** Default number of times each serving query is timed per run. */
export const LATENCY_SAMPLES = 5;

/**
 * Times each named serving query of `slo.latency` (`samples` runs each, after one untimed warm-up), adds the
 * queries the run's targets timed (`measured`: a dashboard's queries), and records the worst p95 as the run's
 * `latency` SLI — good when within `slo.latency.p95`.
 */
export async function measureLatency(input: {
  warehouse: Warehouse;
  product: Product;
  runId: string;
  measured?: Record<string, QueryLatency>;
  /** called before each timed sample (the activity heartbeats there) */
  onSample?: (query: string, sample: number) => void;
}): Promise<LatencyOutcome> {
  const { product, warehouse } = input;
  const latency = product.slo?.latency;
  const own = Object.fromEntries(Object.entries(latency?.queries ?? {}).map(([name, source]) => [name, resolveSql(source, warehouse.schemas)]));
  const timed = await timeQueries(warehouse.pool, own, latency?.samples ?? LATENCY_SAMPLES, input.onSample ?? (() => undefined));
  const queries: LatencyOutcome['queries'] = { ...(input.measured ?? {}), ...timed };
  if (Object.keys(queries).length === 0) throw new Error(`${product.name} names no queries to time (slo.latency.queries, or a dashboard target's queries)`);
  const p95Ms = Math.max(...Object.values(queries).map((q) => q.p95Ms));
  const thresholdMs = latency ? durationMs(latency.p95) : null;
  const good = thresholdMs === null || p95Ms <= thresholdMs;
  await warehouse.meta.recordSli({ product: product.name, env: warehouse.env, runId: input.runId, sli: 'latency', value: p95Ms, good, detail: { queries, thresholdMs } });
  return { p95Ms, good, queries };
}

/**
 * Records the run's SLIs once it finished: `availability` (scheduled and dev runs: delivered, and on time when the
 * product has a deadline), `defect_free` (the checks' defect-free share) and `freshness`: the age of the newest
 * data a dashboard target measured after its refresh (`dataAge`), else how old the consumers' data had become
 * when this delivery replaced it. Idempotent: one measurement per run and SLI.
 */
export async function recordRunSlis(input: { warehouse: Warehouse; product: Product; runId: string; dataAge?: DataAge }): Promise<void> {
  const { product, warehouse } = input;
  const slo = product.slo;
  if (!slo) return;
  const run = await warehouse.meta.getRun(input.runId);
  if (!run || !run.finishedAt) throw new Error(`run ${input.runId} is not finished; its SLIs are recorded after finishRun`);
  const finishedAt = run.finishedAt;
  const common = { product: product.name, env: warehouse.env, runId: run.runId, measuredAt: finishedAt };
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
    const previous = (await warehouse.meta.listRuns({ env: warehouse.env, product: product.name, status: 'succeeded', limit: 2 })).find(
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
}

/**
 * One evaluation of a product's SLOs by its monitor (workflows/slo-monitor.ts), at `now`: records a freshness
 * measurement (how old the consumers' data is now) and a `deliver_by` measurement for each deadline that passed
 * since the last evaluation, evaluates every SLO, opens or resolves incidents, and says which alert deliveries are
 * still to be made and how long to sleep before the next evaluation.
 */
import { alertChannels, type AlertStore } from '../alerts/index.js';
import type { Environment } from '../config/spec.js';
import type { Product } from '../product/model.js';
import type { Warehouse } from '../runtime/warehouse.js';
import { durationMs } from '../time/duration.js';
import type { MonitorEvaluation } from '../../workflows/types.js';
import { expectedDeadlines, nextDeadlineAfter, productSchedules } from './deadlines.js';
import { evaluateSlos } from './evaluate.js';
import { Incidents } from './incidents.js';
import { sloWindowMs } from './names.js';

/** Shortest sleep between evaluations, so a burst of signals cannot spin the monitor. */
const MIN_SLEEP_MS = 200;

const DAY_MS = 86_400_000;

export interface MonitorInput {
  product: Product;
  /** the environment's configuration (monitor interval, alert channels) */
  environment: Environment;
  warehouse: Warehouse;
  store: AlertStore;
  /** when the monitor started: deadlines before it are not judged */
  since: Date;
  now: Date;
}

export async function evaluateMonitor(input: MonitorInput): Promise<MonitorEvaluation> {
  const { product, environment: env, warehouse, store, now } = input;
  const slo = product.slo;
  if (!slo) return { retired: true, sleepMs: 0, pending: [] };
  const intervalMs = durationMs(env.monitor.interval);
  const recent = await warehouse.meta.listRuns({ env: warehouse.env, product: product.name, limit: 50 });
  const lastDelivery = recent.find((r) => r.status === 'succeeded' && r.finishedAt !== null);
  const common = { product: product.name, env: warehouse.env };

  let freshnessAge: number | undefined;
  if (slo.freshness && lastDelivery?.finishedAt) {
    // a dashboard measured its data's newest value at the last delivery: the data ages from there
    const delivered = await warehouse.meta.listSli({ ...common, sli: 'freshness', since: lastDelivery.startedAt, limit: 20 });
    const newest = newestData(delivered.find((m) => m.runId === lastDelivery.runId)?.detail);
    freshnessAge = now.getTime() - (newest ?? lastDelivery.finishedAt).getTime();
    await warehouse.meta.recordSli({
      ...common,
      sli: 'freshness',
      value: freshnessAge / 1000,
      good: freshnessAge <= durationMs(slo.freshness),
      measuredAt: now,
      detail: { lastDelivery: lastDelivery.finishedAt.toISOString(), ...(newest && { newest: newest.toISOString() }), by: 'monitor' },
    });
  }

  let sleepMs = intervalMs;
  let missed: { deadline: Date; deliveredAt?: Date } | undefined;
  if (slo.deliverBy) {
    const judged = await warehouse.meta.listSli({ ...common, sli: 'deliver_by', limit: 1 });
    const lastJudged = judged[0]?.measuredAt.getTime() ?? 0;
    const from = new Date(Math.max(input.since.getTime(), lastJudged, now.getTime() - sloWindowMs(slo)));
    const schedules = productSchedules(product);
    const deliveries = await deliveriesSince(warehouse, product, new Date(from.getTime() - DAY_MS));
    for (const deadline of expectedDeadlines(from, now, slo.deliverBy, schedules)) {
      const onTime = deliveries.find((d) => d > deadline.getTime() - DAY_MS && d <= deadline.getTime());
      await warehouse.meta.recordSli({
        ...common,
        sli: 'deliver_by',
        value: onTime !== undefined ? 0 : (now.getTime() - deadline.getTime()) / 1000,
        good: onTime !== undefined,
        measuredAt: deadline,
        detail: { deadline: deadline.toISOString(), delivered: onTime !== undefined ? new Date(onTime).toISOString() : null },
      });
    }
    const latest = await warehouse.meta.listSli({ ...common, sli: 'deliver_by', limit: 1 });
    if (latest[0] && !latest[0].good) {
      const deadline = latest[0].measuredAt;
      const after = deliveries.find((d) => d > deadline.getTime());
      missed = { deadline, ...(after !== undefined && { deliveredAt: new Date(after) }) };
    }
    sleepMs = Math.min(sleepMs, nextDeadlineAfter(now, slo.deliverBy).getTime() - now.getTime() + 50);
  }

  const statuses = await evaluateSlos(warehouse.pool, product, warehouse.env, now);
  const channels = alertChannels(env.alerts);
  const incidents = new Incidents(store, channels, warehouse.env, product);
  // freshness and deadlines alert on the state right now, which is sooner than any burn rate could; the ratio
  // SLOs alert when the budget is spent, and before that when it burns fast
  for (const status of statuses) {
    if (status.slo === 'deliverBy') await incidents.deadline(status, missed, slo.deliverBy ?? '');
    else if (status.slo === 'freshness') await incidents.freshness(status, freshnessAge, slo.freshness ?? '', lastDelivery);
    else await incidents.burn(status, await incidents.budget(status));
  }
  await incidents.run(recent.find((r) => r.finishedAt !== null));

  return {
    retired: false,
    sleepMs: Math.max(MIN_SLEEP_MS, sleepMs),
    pending: (await store.pending({ env: warehouse.env, product: product.name })).map((p) => ({
      alertId: p.alertId,
      event: p.event,
      channel: p.channel,
    })),
  };
}

/** Finish times (ms) of the product's successful runs since `from`, oldest first. */
async function deliveriesSince(warehouse: Warehouse, product: Product, from: Date): Promise<number[]> {
  const { rows } = await warehouse.pool.query<{ finished_at: Date }>(
    `select finished_at from lastmile.runs
      where product = $1 and env = $2 and status = 'succeeded' and finished_at > $3
      order by finished_at`,
    [product.name, warehouse.env, from],
  );
  return rows.map((r) => r.finished_at.getTime());
}

/** The `newest` time a run's freshness measurement carries (dashboards measure it), if any. */
function newestData(detail: unknown): Date | undefined {
  const newest = typeof detail === 'object' && detail !== null ? (detail as { newest?: unknown }).newest : undefined;
  return typeof newest === 'string' && !Number.isNaN(Date.parse(newest)) ? new Date(newest) : undefined;
}

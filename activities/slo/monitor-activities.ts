import { ApplicationFailure } from '@temporalio/activity';
import { AlertDeliveryError, alertChannels, createAlertStore, deliver, resolveChannels, type AlertStore, type IncidentInput } from '../../src/alerts/index.js';
import type { Product } from '../../src/product/model.js';
import { durationMs } from '../../src/time/duration.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import type { RunRecord } from '../../src/meta/types.js';
import type { Warehouse } from '../../src/runtime/warehouse.js';
import {
  evaluateSlos,
  expectedDeadlines,
  nextDeadlineAfter,
  percent,
  productSchedules,
  sloWindowMs,
  span,
  type SloStatus,
} from '../../src/slo/index.js';
import type { MonitorEvaluation } from '../../workflows/types.js';
import { inputError } from '../core/products.js';

/** Shortest sleep between evaluations, so a burst of signals cannot spin the monitor. */
const MIN_SLEEP_MS = 200;

const DAY_MS = 86_400_000;

/** The SLO monitor's steps: measure between runs, judge deadlines, open and resolve incidents, deliver alerts. */
export function createMonitorActivities(ctx: ServingContext) {
  const stores = new Map<Warehouse, AlertStore>();
  const storeOf = (warehouse: Warehouse): AlertStore => {
    let store = stores.get(warehouse);
    if (!store) stores.set(warehouse, (store = createAlertStore(warehouse.pool)));
    return store;
  };

  return {
    /**
     * One evaluation of a product's SLOs at the current time. Records a freshness measurement (how old the consumers'
     * data is now) and a `deliver_by` measurement for each deadline that passed since the last evaluation, evaluates
     * every SLO, opens or resolves incidents, and returns the alert deliveries still to be made and how long to sleep.
     */
    async evaluateMonitor(input: { env: string; product: string; since: string }): Promise<MonitorEvaluation> {
      const product = ctx.product(input.product);
      if (!product?.slo) return { retired: true, sleepMs: 0, pending: [] };
      const slo = product.slo;
      const env = ctx.environment(input.env);
      const warehouse = await ctx.warehouse(input.env);
      const now = new Date();
      const intervalMs = durationMs(env.monitor.interval);
      const recent = await warehouse.meta.listRuns({ env: input.env, product: product.name, limit: 50 });
      const lastDelivery = recent.find((r) => r.status === 'succeeded' && r.finishedAt !== null);
      const common = { product: product.name, env: input.env };

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
        const from = new Date(Math.max(Date.parse(input.since), lastJudged, now.getTime() - sloWindowMs(slo)));
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

      const statuses = await evaluateSlos(warehouse.pool, product, input.env, now);
      const store = storeOf(warehouse);
      const channels = alertChannels(env.alerts);
      const incidents = new Incidents(store, channels, input.env, product);
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
        pending: (await store.pending({ env: input.env, product: product.name })).map((p) => ({
          alertId: p.alertId,
          event: p.event,
          channel: p.channel,
        })),
      };
    },

    /** Delivers one alert message on one channel; throws (and is retried) until it went through. */
    async deliverAlert(input: { env: string; alertId: number; event: 'open' | 'resolve'; channel: string }): Promise<'delivered' | 'already'> {
      const env = ctx.environment(input.env);
      const warehouse = await ctx.warehouse(input.env);
      try {
        return await deliver(storeOf(warehouse), input, resolveChannels(env.alerts), { log: ctx.log });
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        if (error instanceof AlertDeliveryError && !error.retryable) throw inputError(text);
        throw ApplicationFailure.retryable(text, 'LastmileAlertDelivery');
      }
    },
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

/** Opens and resolves a product's incidents; one open incident per key, so a continuing breach alerts once. */
class Incidents {
  constructor(
    private readonly store: AlertStore,
    private readonly channels: readonly string[],
    private readonly env: string,
    private readonly product: Product,
  ) {}

  private key(...parts: string[]): string {
    return [this.env, this.product.name, ...parts].join('/');
  }

  private get who(): string {
    return `${this.product.name} in ${this.env}`;
  }

  /** The breach incident of one SLO. */
  private breach(status: SloStatus, severity: IncidentInput['severity'], message: string, detail: IncidentInput['detail']): Omit<IncidentInput, 'env' | 'product'> {
    return { kind: 'breach', slo: status.sli, severity, key: this.key('breach', status.sli), message, detail };
  }

  private async set(open: boolean, incident: Omit<IncidentInput, 'env' | 'product'>, resolveMessage: () => string): Promise<void> {
    if (open) await this.store.open({ ...incident, env: this.env, product: this.product.name }, this.channels);
    else await this.store.resolve(incident.key, resolveMessage(), this.channels);
  }

  /** A delivery deadline passed without a delivery: open until a delivery arrives. */
  async deadline(status: SloStatus, missed: { deadline: Date; deliveredAt?: Date } | undefined, deliverBy: string): Promise<void> {
    const open = missed !== undefined && missed.deliveredAt === undefined;
    await this.set(
      open,
      this.breach(status, 'page', `${this.who} was not delivered by ${deliverBy} (deadline ${missed?.deadline.toISOString() ?? ''})`, {
        deadline: missed?.deadline.toISOString() ?? null,
      }),
      () =>
        missed?.deliveredAt
          ? `${this.who} was delivered at ${missed.deliveredAt.toISOString()}, ${span(missed.deliveredAt.getTime() - missed.deadline.getTime())} after the ${deliverBy} deadline`
          : `${this.who} met its ${deliverBy} deadline`,
    );
  }

  /** The consumers' data is older than the freshness objective right now. */
  async freshness(status: SloStatus, ageMs: number | undefined, objective: string, lastDelivery: RunRecord | undefined): Promise<void> {
    const open = ageMs !== undefined && ageMs > durationMs(objective);
    await this.set(
      open,
      this.breach(
        status,
        'page',
        `${this.who}: the served data is ${span(ageMs ?? 0)} old, over the ${objective} freshness objective (last delivery ${lastDelivery?.finishedAt?.toISOString() ?? 'never'})`,
        { ageSeconds: (ageMs ?? 0) / 1000, objective },
      ),
      () => `${this.who}: the served data is fresh again (${span(ageMs ?? 0)} old, objective ${objective})`,
    );
  }

  /** The error budget over the window is spent. Returns whether it is. */
  async budget(status: SloStatus): Promise<boolean> {
    const open = status.budgetRemaining !== null && status.budgetRemaining <= 0;
    await this.set(
      open,
      this.breach(
        status,
        'ticket',
        `${this.who}: the ${status.slo} error budget is spent — SLI ${percent(status.value ?? 0)} over ${status.window}, objective ${percent(status.objective)}`,
        { value: status.value, objective: status.objective, budgetRemaining: status.budgetRemaining },
      ),
      () => `${this.who}: the ${status.slo} error budget is no longer spent (${percent(status.budgetRemaining ?? 1)} left)`,
    );
    return open;
  }

  /** The multi-window burn-rate rule holds (and the budget is not spent already: that incident says more). */
  async burn(status: SloStatus, spent: boolean): Promise<void> {
    const rates = status.burnRates.map((r) => `${r.rate.toFixed(1)}× over ${r.lookback}`).join(', ');
    await this.set(
      status.fastBurn && !spent,
      {
        kind: 'burn',
        slo: status.sli,
        severity: 'page',
        key: this.key('burn', status.sli),
        message: `${this.who}: ${status.slo} is burning its error budget fast (${rates})`,
        detail: { burnRates: status.burnRates.map((r) => ({ lookback: r.lookback, rate: r.rate })) },
      },
      () =>
        spent
          ? `${this.who}: ${status.slo} burn alert superseded: the error budget is spent (see that alert)`
          : `${this.who}: ${status.slo} is no longer burning its error budget fast`,
    );
  }

  /** The latest run failed or was blocked: open until a run succeeds. */
  async run(latest: RunRecord | undefined): Promise<void> {
    const open = latest !== undefined && (latest.status === 'failed' || latest.status === 'blocked');
    await this.set(
      open,
      {
        kind: 'run',
        severity: 'page',
        key: this.key('run'),
        message: `${this.who}: run ${latest?.runId ?? ''} ${latest?.status ?? ''}: ${latest?.status === 'blocked' ? latest.reasons.join('; ') : (latest?.error ?? '')}`,
        detail: { runId: latest?.runId ?? null, status: latest?.status ?? null },
      },
      () => `${this.who}: run ${latest?.runId ?? ''} succeeded`,
    );
  }
}

export type MonitorActivities = ReturnType<typeof createMonitorActivities>;

/** The `newest` time a run's freshness measurement carries (dashboards measure it), if any. */
function newestData(detail: unknown): Date | undefined {
  const newest = typeof detail === 'object' && detail !== null ? (detail as { newest?: unknown }).newest : undefined;
  return typeof newest === 'string' && !Number.isNaN(Date.parse(newest)) ? new Date(newest) : undefined;
}

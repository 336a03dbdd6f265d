import { ApplicationFailure } from '@temporalio/activity';
import { AlertDeliveryError, createAlertStore, deliver, resolveChannels, type AlertStore } from '../../src/alerts/index.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import type { Warehouse } from '../../src/runtime/warehouse.js';
import { evaluateMonitor } from '../../src/slo/monitor.js';
import type { MonitorEvaluation } from '../../workflows/types.js';
import { inputError } from '../core/products.js';

/** The SLO monitor's steps: measure between runs, judge deadlines, open and resolve incidents, deliver alerts. */
export function createMonitorActivities(ctx: ServingContext) {
  const stores = new Map<Warehouse, AlertStore>();
  const storeOf = (warehouse: Warehouse): AlertStore => {
    let store = stores.get(warehouse);
    if (!store) stores.set(warehouse, (store = createAlertStore(warehouse.pool)));
    return store;
  };

  return {
    /** One evaluation of a product's SLOs now (src/slo/monitor.ts); a product that lost its SLOs retires its monitor. */
    async evaluateMonitor(input: { env: string; product: string; since: string }): Promise<MonitorEvaluation> {
      const product = ctx.product(input.product);
      if (!product?.slo) return { retired: true, sleepMs: 0, pending: [] };
      const warehouse = await ctx.warehouse(input.env);
      return await evaluateMonitor({
        product,
        environment: ctx.environment(input.env),
        warehouse,
        store: storeOf(warehouse),
        since: new Date(input.since),
        now: new Date(),
      });
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

export type MonitorActivities = ReturnType<typeof createMonitorActivities>;

import { ApplicationFailure, Context } from '@temporalio/activity';
import { BiToolError, notifyTool, pollAsyncRefresh, startAsyncRefresh, toolName, type BiCall } from '../../src/dashboards/bi/index.js';
import { toolIn } from '../../src/dashboards/bi/places.js';
import { compileDashboard, type CompiledObject } from '../../src/dashboards/objects.js';
import { dropReplaced, ObjectNotOwned, refreshObject } from '../../src/dashboards/refresh.js';
import { inlineParameters } from '../../src/warehouse/inline.js';
import { DashboardStepError, measureDashboard, refreshPlan } from '../../src/dashboards/measure.js';
import { UnavailableError } from '../../src/errors.js';
import { isPermanentSqlError } from '../../src/warehouse/sql-errors.js';
import type { Product } from '../../src/product/model.js';
import { targetOf } from '../../src/product/target-of.js';
import type { BiTool, DashboardTarget } from '../../src/product/targets.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import type { BiRefreshState, DataAge, ObjectRefreshed, QueryLatency, RefreshPlan, ServeTargetInput } from '../../workflows/types.js';
import { withHeartbeat } from '../core/heartbeat.js';
import { inputError, productOf } from '../core/products.js';

const isPermanent = isPermanentSqlError;

function dashboardTarget(product: Product, name: string): DashboardTarget {
  try {
    return targetOf(product, name, 'dashboard');
  } catch (error) {
    throw inputError((error as Error).message);
  }
}

/** Who owns the objects of a target, written on each (another target may not take them over). */
function ownerOf(input: ServeTargetInput): string {
  return `product ${input.product}, target ${input.target}, env ${input.env}`;
}

function biFailure(tool: BiTool, error: unknown): Error {
  if (error instanceof BiToolError && !error.retryable) return ApplicationFailure.nonRetryable(error.message, 'LastmileBiRejected');
  if (error instanceof UnavailableError) {
    return inputError(`${toolName(tool)}: ${error.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The activities of the `dashboard` serving kind. */
export function createDashboardActivities(ctx: ServingContext) {
  const setting = async (input: ServeTargetInput) => {
    const product = productOf(ctx, input.product);
    const target = dashboardTarget(product, input.target);
    const warehouse = await ctx.warehouse(input.env);
    const served = await ctx.servedQuery(product.name, input.env);
    const objects = compileDashboard(product, target, warehouse.schemas, inlineParameters(served.text, served.values));
    return { product, target, warehouse, objects };
  };

  /** The target's tool `index` as the environment calls it (its own place); never another environment's. */
  const toolOf = (input: ServeTargetInput, target: DashboardTarget, index: number): BiTool => {
    const tool = target.bi?.[index];
    if (!tool) throw inputError(`dashboard target ${target.name} has no BI tool #${index}; the worker may run an older version of the product`);
    const placed = toolIn(ctx.resolved(input.env), tool);
    if ('notCalled' in placed) throw inputError(placed.notCalled);
    return placed.tool;
  };

  const callOf = (input: ServeTargetInput, objects: readonly CompiledObject[], tool: BiTool): BiCall => ({
    product: input.product,
    env: input.env,
    target: input.target,
    runId: input.runId,
    objects: objects.map((object) => `${object.schema}.${object.name}`),
    refreshedAt: new Date().toISOString(),
    idempotencyKey: `${input.runId}/${input.target}`,
    signal: Context.current().cancellationSignal,
  });

  return {
    /** What the refresh will do: the objects in the order their dependencies allow, the BI tools, the queries. */
    async planRefresh(input: ServeTargetInput): Promise<RefreshPlan> {
      const { target, objects } = await setting(input);
      return refreshPlan(target, objects, ctx.resolved(input.env));
    },

    /** Refreshes one object (see src/dashboards/refresh.ts), heartbeating while the database works. */
    async refreshDashboardObject(input: ServeTargetInput & { object: string }): Promise<ObjectRefreshed> {
      const { warehouse, objects } = await setting(input);
      const object = objects.find((o) => o.name === input.object);
      if (!object) throw inputError(`dashboard target ${input.target} of ${input.product} has no object ${input.object}`);
      const startedAt = new Date().toISOString();
      try {
        const outcome = await withHeartbeat(refreshObject(warehouse.pool, object, { owner: ownerOf(input) }), () => ({ object: object.name }));
        return { ...outcome, durationMs: Math.round(outcome.durationMs), startedAt, finishedAt: new Date().toISOString() };
      } catch (error) {
        const text = `refreshing ${object.schema}.${object.name} failed: ${(error as Error).message}`;
        const hint = (error as { code?: string }).code === '23505' ? ` — its unique key (${object.uniqueKey.join(', ')}) is not unique in the new data` : '';
        if (isPermanent(error) || error instanceof ObjectNotOwned) throw ApplicationFailure.nonRetryable(text + hint, 'LastmileRefreshError');
        throw new Error(text);
      }
    },

    /** Drops the relations the refresh replaced; returns the ones still read by a view lastmile does not manage. */
    async dropReplacedObjects(input: ServeTargetInput): Promise<{ relation: string; readBy: string[] }[]> {
      const { warehouse, objects } = await setting(input);
      return dropReplaced(warehouse.pool, objects[0]!.schema, objects.map((object) => object.name));
    },

    /** Tells one synchronous BI tool (webhook, Metabase, Superset) that the objects were refreshed. */
    async notifyBiTool(input: ServeTargetInput & { tool: number }): Promise<string> {
      const { target, objects } = await setting(input);
      const tool = toolOf(input, target, input.tool);
      if (tool.tool === 'asyncRefresh') throw inputError(`${toolName(tool)} is an asynchronous refresh: start it and poll it`);
      try {
        return await notifyTool(tool, callOf(input, objects, tool));
      } catch (error) {
        throw biFailure(tool, error);
      }
    },

    /** Starts an asynchronous BI refresh; returns where to poll it. */
    async startBiRefresh(input: ServeTargetInput & { tool: number }): Promise<{ pollUrl: string; id?: string }> {
      const { target, objects } = await setting(input);
      const tool = toolOf(input, target, input.tool);
      if (tool.tool !== 'asyncRefresh') throw inputError(`${toolName(tool)} is not an asynchronous refresh`);
      try {
        return await startAsyncRefresh(tool, callOf(input, objects, tool));
      } catch (error) {
        throw biFailure(tool, error);
      }
    },

    /** Asks an asynchronous BI refresh how it is going. */
    async pollBiRefresh(input: ServeTargetInput & { tool: number; pollUrl: string }): Promise<BiRefreshState> {
      const { target, objects } = await setting(input);
      const tool = toolOf(input, target, input.tool);
      if (tool.tool !== 'asyncRefresh') throw inputError(`${toolName(tool)} is not an asynchronous refresh`);
      try {
        return await pollAsyncRefresh(tool, input.pollUrl, callOf(input, objects, tool));
      } catch (error) {
        throw biFailure(tool, error);
      }
    },

    /**
     * Runs each dashboard query (one warm-up, then `samples` timed runs: the warm-up fills the caches) and reads the
     * newest value of the freshness column: the data's age.
     */
    async measureDashboard(input: ServeTargetInput): Promise<{ latency?: Record<string, QueryLatency>; dataAge?: DataAge }> {
      const { product, target, warehouse, objects } = await setting(input);
      const activity = Context.current();
      try {
        return await measureDashboard({ warehouse, product, target, objects, onSample: (query, sample) => activity.heartbeat({ query, sample }) });
      } catch (error) {
        if (!(error instanceof DashboardStepError) || error.kind === 'transient') throw error;
        throw error.kind === 'input' ? inputError(error.message) : ApplicationFailure.nonRetryable(error.message, 'LastmileRefreshError');
      }
    },
  };
}

export type DashboardActivities = ReturnType<typeof createDashboardActivities>;

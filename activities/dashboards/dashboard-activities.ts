import { ApplicationFailure, Context } from '@temporalio/activity';
import { BiToolError, notifyTool, pollAsyncRefresh, startAsyncRefresh, toolName, type BiCall } from '../../src/dashboards/bi/index.js';
import { compileDashboard, relationOf, schemaOf, type CompiledObject } from '../../src/dashboards/objects.js';
import { dropReplaced, ObjectNotOwned, refreshObject } from '../../src/dashboards/refresh.js';
import { inlineParameters } from '../../src/warehouse/inline.js';
import { durationMs } from '../../src/time/duration.js';
import { quoteIdent } from '../../src/warehouse/quote.js';
import type { Product } from '../../src/product/model.js';
import { resolveSql } from '../../src/sql/resolve.js';
import { targetOf } from '../../src/product/target-of.js';
import type { BiTool, DashboardTarget } from '../../src/product/targets.js';
import type { ServingContext } from '../../src/runtime/serving-context.js';
import { timeQueries } from '../../src/warehouse/timing.js';
import type { BiRefreshState, DataAge, ObjectRefreshed, QueryLatency, RefreshPlan, ServeTargetInput } from '../../workflows/types.js';
import { withHeartbeat } from '../core/heartbeat.js';
import { inputError, productOf } from '../core/products.js';

const DEFAULT_POLL_EVERY = '30s';
const DEFAULT_MAX_WAIT = '1h';
const DEFAULT_SAMPLES = 5;

/**
 * SQL errors no retry can fix: data exceptions (22…, e.g. division by zero), integrity violations (23…, e.g. a unique
 * key that is not unique) and syntax or access errors (42…, e.g. an unknown column).
 */
function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
}

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
  if (error instanceof Error && /environment variable .* is not set/.test(error.message)) {
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

  const toolOf = (target: DashboardTarget, index: number): BiTool => {
    const tool = target.bi?.[index];
    if (!tool) throw inputError(`dashboard target ${target.name} has no BI tool #${index}; the worker may run an older version of the product`);
    return tool;
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
      return {
        schema: objects[0]?.schema ?? schemaOf(target),
        objects: objects.map((object) => ({ name: object.name, strategy: object.strategy, dependsOn: object.dependsOn })),
        tools: (target.bi ?? []).map((tool, index) => ({
          index,
          name: toolName(tool),
          async: tool.tool === 'asyncRefresh',
          pollEveryMs: durationMs((tool.tool === 'asyncRefresh' ? tool.pollEvery : undefined) ?? DEFAULT_POLL_EVERY),
          maxWaitMs: durationMs((tool.tool === 'asyncRefresh' ? tool.maxWait : undefined) ?? DEFAULT_MAX_WAIT),
        })),
        queries: Object.keys(target.queries ?? {}),
      };
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
      const tool = toolOf(target, input.tool);
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
      const tool = toolOf(target, input.tool);
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
      const tool = toolOf(target, input.tool);
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
      const { target, warehouse, objects } = await setting(input);
      const activity = Context.current();
      const texts = Object.fromEntries(Object.entries(target.queries ?? {}).map(([name, source]) => [name, resolveSql(source, warehouse.schemas)]));
      let latency: Record<string, QueryLatency> | undefined;
      if (Object.keys(texts).length > 0) {
        try {
          latency = await timeQueries(warehouse.pool, texts, target.samples ?? DEFAULT_SAMPLES, (query, sample) => activity.heartbeat({ query, sample }));
        } catch (error) {
          const failure = `a dashboard query of ${input.target} failed: ${(error as Error).message}`;
          if (isPermanent(error)) throw ApplicationFailure.nonRetryable(failure, 'LastmileRefreshError');
          throw new Error(failure);
        }
      }
      if (!target.freshness) return { ...(latency && { latency }) };
      const object = objects.find((o) => o.name === target.freshness!.object)!;
      const column = target.freshness.column;
      let newest: Date | null;
      try {
        const { rows } = await warehouse.pool.query<{ newest: Date | null }>(`select max(${quoteIdent(column)})::timestamptz as newest from ${relationOf(object)}`);
        newest = rows[0]?.newest ?? null;
      } catch (error) {
        const code = (error as { code?: string }).code;
        const failure =
          code === '42846' || code === '42883'
            ? `the freshness column ${column} of ${object.schema}.${object.name} is not a date or timestamp: ${(error as Error).message}`
            : `reading the newest ${column} of ${object.schema}.${object.name} failed: ${(error as Error).message}`;
        throw isPermanent(error) ? inputError(failure) : new Error(failure);
      }
      if (!newest) return { ...(latency && { latency }) };
      const measuredAt = new Date();
      const dataAge: DataAge = {
        target: input.target,
        object: object.name,
        column,
        newest: newest.toISOString(),
        ageSeconds: Math.max(0, (measuredAt.getTime() - newest.getTime()) / 1000),
        measuredAt: measuredAt.toISOString(),
      };
      return { ...(latency && { latency }), dataAge };
    },
  };
}

export type DashboardActivities = ReturnType<typeof createDashboardActivities>;

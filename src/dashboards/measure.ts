/** What a dashboard target plans and measures around its refresh: the plan the workflow follows, its queries' timings, its data's age. */
import type { Product } from '../product/model.js';
import type { DashboardTarget } from '../product/targets.js';
import type { Warehouse } from '../runtime/warehouse.js';
import { resolveSql } from '../sql/resolve.js';
import { durationMs } from '../time/duration.js';
import { quoteIdent } from '../warehouse/quote.js';
import { isPermanentSqlError } from '../warehouse/sql-errors.js';
import { timeQueries } from '../warehouse/timing.js';
import type { DataAge, QueryLatency, RefreshPlan } from '../../workflows/types.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { toolName } from './bi/index.js';
import { toolIn } from './bi/places.js';
import { relationOf, schemaOf, type CompiledObject } from './objects.js';

const DEFAULT_POLL_EVERY = '30s';
const DEFAULT_MAX_WAIT = '1h';
const DEFAULT_SAMPLES = 5;

/**
 * A step of a dashboard target failed. `permanent` (bad SQL, bad data, an object that is not a date): no retry helps;
 * `input`: the product's declaration is wrong for the data (say so, do not retry).
 */
export class DashboardStepError extends Error {
  constructor(
    message: string,
    readonly kind: 'permanent' | 'input' | 'transient',
  ) {
    super(message);
    this.name = 'DashboardStepError';
  }
}

/** What the refresh will do: the objects in the order their dependencies allow, the BI tools, the queries. */
export function refreshPlan(target: DashboardTarget, objects: readonly CompiledObject[], env: Pick<ResolvedEnvironment, 'name' | 'production' | 'destinations'>): RefreshPlan {
  const tools = (target.bi ?? []).map((tool, index) => ({ index, tool, place: toolIn(env, tool) }));
  return {
    schema: objects[0]?.schema ?? schemaOf(target),
    objects: objects.map((object) => ({ name: object.name, strategy: object.strategy, dependsOn: object.dependsOn })),
    tools: tools
      .filter(({ place }) => 'tool' in place)
      .map(({ index, tool }) => ({
        index,
        name: toolName(tool),
        async: tool.tool === 'asyncRefresh',
        pollEveryMs: durationMs((tool.tool === 'asyncRefresh' ? tool.pollEvery : undefined) ?? DEFAULT_POLL_EVERY),
        maxWaitMs: durationMs((tool.tool === 'asyncRefresh' ? tool.maxWait : undefined) ?? DEFAULT_MAX_WAIT),
      })),
    notCalled: tools.flatMap(({ tool, place }) => ('notCalled' in place ? [{ name: toolName(tool), reason: place.notCalled }] : [])),
    queries: Object.keys(target.queries ?? {}),
  };
}

/**
 * Runs each dashboard query (one warm-up, then `samples` timed runs: the warm-up fills the caches) and reads the
 * newest value of the freshness column: the data's age.
 */
export async function measureDashboard(input: {
  warehouse: Warehouse;
  product: Product;
  target: DashboardTarget;
  objects: readonly CompiledObject[];
  onSample?: (query: string, sample: number) => void;
  now?: () => Date;
}): Promise<{ latency?: Record<string, QueryLatency>; dataAge?: DataAge }> {
  const { target, warehouse, objects } = input;
  const texts = Object.fromEntries(Object.entries(target.queries ?? {}).map(([name, source]) => [name, resolveSql(source, warehouse.schemas)]));
  let latency: Record<string, QueryLatency> | undefined;
  if (Object.keys(texts).length > 0) {
    try {
      latency = await timeQueries(warehouse.pool, texts, target.samples ?? DEFAULT_SAMPLES, input.onSample ?? (() => undefined));
    } catch (error) {
      throw new DashboardStepError(`a dashboard query of ${target.name} failed: ${(error as Error).message}`, isPermanentSqlError(error) ? 'permanent' : 'transient');
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
    throw new DashboardStepError(failure, isPermanentSqlError(error) ? 'input' : 'transient');
  }
  if (!newest) return { ...(latency && { latency }) };
  const measuredAt = (input.now ?? (() => new Date()))();
  const dataAge: DataAge = {
    target: target.name,
    object: object.name,
    column,
    newest: newest.toISOString(),
    ageSeconds: Math.max(0, (measuredAt.getTime() - newest.getTime()) / 1000),
    measuredAt: measuredAt.toISOString(),
  };
  return { ...(latency && { latency }), dataAge };
}

/** Schema of a dashboard target: its objects, the BI tools told after a refresh, the queries timed, the data age. */
import { z } from 'zod';
import { expects, say, shown, strict, variant } from '../issues.js';
import { SQL_NAME } from '../names.js';
import type { DashboardObject } from '../targets.js';
import { columnName, duration, schedule, secretRef, snakeName, source, text } from './fields.js';

/** Object names leave room for the suffixes lastmile gives the relations and indexes it builds (`__lm_new`, `_key`…). */
export const MAX_OBJECT_NAME_LENGTH = 40;

const httpUrl = (example: string) =>
  z.string(expects(`an http(s) URL such as '${example}'`)).refine(
    (value) => {
      try {
        return ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: (issue) => say(`${shown(issue.input)} is not an http(s) URL`, `write the full URL, e.g. '${example}'`) },
  );

const count = (what: string, example: number, max: number) =>
  z
    .number(expects(`a whole number, e.g. ${example}`))
    .int({ error: say("'{field}' is not a whole number", `write ${what} such as ${example}`) })
    .min(1, { error: say("'{field}' is below 1", `write ${what} such as ${example}`) })
    .max(max, { error: say(`'{field}' is above ${max}`, `write ${what} such as ${example}`) });

const ids = (what: string) =>
  z
    .array(count(`a ${what} id`, 12, Number.MAX_SAFE_INTEGER), expects(`a list of ${what} ids, e.g. [12, 13]`))
    .min(1, { error: say(`the list of ${what} ids is empty`, `list the ${what} ids, or remove the field`) });

const objectName = snakeName('object name', 'return_rate_weekly').refine((value) => value.length <= MAX_OBJECT_NAME_LENGTH, {
  error: (issue) => say(`the object name ${shown(issue.input)} is longer than ${MAX_OBJECT_NAME_LENGTH} characters`, 'shorten it; lastmile adds suffixes to it for the relations and indexes it builds'),
});

const sqlColumn = z.string(expects("a column name such as 'supplier_id'")).regex(SQL_NAME, {
  error: (issue) => say(`${shown(issue.input)} is not a plain column name`, 'use letters, digits and underscores, starting with a letter or underscore'),
});

const OBJECT_HINT = "{ name: 'return_rate_weekly', metrics: ['return_rate'], by: ['week'] } or { name: 'top_suppliers', sql: sql`select ...`, uniqueKey: ['supplier_id'] }";

/** Metric objects and SQL objects share one strict shape; which fields go together is checked below. */
const dashboardObject = strict(
  {
    name: objectName,
    metrics: z
      .array(snakeName('metric name', 'return_rate'), expects("a list of metric names, e.g. ['return_rate']"))
      .min(1, { error: say('the object names no metrics', "list the product's metrics it shows, e.g. metrics: ['return_rate']") })
      .optional(),
    by: z.array(columnName).optional(),
    sql: source.optional(),
    uniqueKey: z.array(sqlColumn).min(1, { error: say('the unique key is empty', "name the columns identifying a row, e.g. uniqueKey: ['supplier_id']") }).optional(),
    refresh: z
      .enum(['concurrently', 'swap'], { error: (issue) => say(`${shown(issue.input)} is not a refresh strategy`, "use 'concurrently' (a materialized view with a unique key) or 'swap' (a table built anew and swapped in)") })
      .optional(),
    dependsOn: z.array(snakeName('object name', 'return_rate_weekly')).optional(),
    indexes: z
      .array(z.array(sqlColumn).min(1, { error: say('an index names no columns', "list its columns, e.g. indexes: [['week']]") }), expects("a list of column lists, e.g. [['week'], ['supplier_id', 'week']]"))
      .optional(),
  },
  OBJECT_HINT,
).superRefine((object, ctx) => {
  const isSql = object.sql !== undefined;
  if (isSql === (object.metrics !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: isSql ? ['metrics'] : ['sql'],
      message: isSql
        ? say('the object has both sql and metrics', 'build it either from SQL (sql, uniqueKey) or from metrics (metrics, by), not both')
        : say("'{field}' is missing: the object says neither what metrics it holds nor its SQL", `write ${OBJECT_HINT}`),
    });
    return;
  }
  if (isSql && object.by !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['by'], message: say("'by' applies to metric objects", 'group in the SQL itself, and name the key with uniqueKey') });
  }
  if (!isSql && object.uniqueKey !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['uniqueKey'], message: say("a metric object's unique key is its 'by' dimensions", 'remove uniqueKey') });
  }
  const key = isSql ? object.uniqueKey : object.by;
  if (object.refresh === 'concurrently' && (key === undefined || key.length === 0)) {
    ctx.addIssue({
      code: 'custom',
      path: ['refresh'],
      message: say(
        "REFRESH MATERIALIZED VIEW CONCURRENTLY needs a unique index, and the object has no unique key",
        isSql ? "name the columns identifying a row with uniqueKey: ['...'], or use refresh: 'swap'" : "group it by dimensions (by: ['...']), or use refresh: 'swap'",
      ),
    });
  }
});

const timeout = duration.optional();

const webhookTool = strict({
  tool: z.literal('webhook'),
  name: snakeName('tool name', 'quality_hook').optional(),
  url: z.union([httpUrl('https://hooks.example.com/dashboards'), secretRef], {
    error: say("'{field}' is not a URL or a secret", "write url: 'https://…' or url: secret('BI_WEBHOOK_URL')"),
  }),
  token: secretRef.optional(),
  timeout,
});

const metabaseTool = strict({
  tool: z.literal('metabase'),
  name: snakeName('tool name', 'metabase').optional(),
  url: httpUrl('https://metabase.example.com'),
  apiKey: secretRef,
  dashboards: ids('dashboard').optional(),
  cards: ids('card').optional(),
  timeout,
}).refine((tool) => tool.dashboards !== undefined || tool.cards !== undefined, {
  error: say('the Metabase tool names no dashboards or cards', 'list what to invalidate, e.g. dashboards: [4] or cards: [12, 13]'),
});

const supersetTool = strict({
  tool: z.literal('superset'),
  name: snakeName('tool name', 'superset').optional(),
  url: httpUrl('https://superset.example.com'),
  token: secretRef,
  charts: ids('chart'),
  dashboard: count('a dashboard id', 3, Number.MAX_SAFE_INTEGER).optional(),
  timeout,
});

const statusValues = z.array(text("a status value such as 'Completed'")).min(1).optional();

const asyncRefreshTool = strict({
  tool: z.literal('asyncRefresh'),
  name: snakeName('tool name', 'powerbi_sales'),
  url: httpUrl('https://api.powerbi.com/v1.0/myorg/datasets/<id>/refreshes'),
  token: secretRef.optional(),
  method: z.enum(['POST', 'PUT']).optional(),
  body: z.record(z.string(), z.unknown(), expects('a JSON object')).optional(),
  pollUrl: text("a URL with {id}, such as 'https://bi.example.com/refreshes/{id}'").optional(),
  idField: text("a dotted path such as 'job.id'").optional(),
  statusField: text("a dotted path such as 'job.status'").optional(),
  done: statusValues,
  failed: statusValues,
  pollEvery: duration.optional(),
  maxWait: duration.optional(),
  timeout,
});

const biTool = z.discriminatedUnion(
  'tool',
  [webhookTool, metabaseTool, supersetTool, asyncRefreshTool],
  variant('a BI tool', 'tool', "write { tool: 'webhook' | 'metabase' | 'superset' | 'asyncRefresh', url: '…', … }"),
);

export const dashboardTarget = strict({
  kind: z.literal('dashboard'),
  name: snakeName('target name', 'quality_review'),
  schedule: schedule.optional(),
  schema: z
    .string(expects("a schema name such as 'dashboards'"))
    .regex(SQL_NAME, { error: (issue) => say(`${shown(issue.input)} is not a plain schema name`, "use letters, digits and underscores, e.g. 'dashboards'") })
    .optional(),
  objects: z
    .array(dashboardObject, expects(`a list of objects, e.g. [${OBJECT_HINT}]`))
    .min(1, { error: say('the dashboard has no objects', `add the objects it reads: objects: [${OBJECT_HINT}]`) }),
  bi: z.array(biTool, expects("a list of BI tools, e.g. [{ tool: 'metabase', url: '…', apiKey: secret('METABASE_API_KEY'), dashboards: [4] }]")).optional(),
  queries: z.record(snakeName('query name', 'top_suppliers'), source, expects("{ top_suppliers: sql`select ...` }")).optional(),
  samples: count('a number of runs', 5, 1000).optional(),
  freshness: strict({ object: snakeName('object name', 'return_rate_weekly'), column: sqlColumn }, "{ object: 'return_rate_weekly', column: 'week' }").optional(),
});

/** The parsed objects, typed as the model's union (the refinement above guarantees one of sql / metrics). */
export function asDashboardObjects(objects: readonly z.output<typeof dashboardObject>[]): DashboardObject[] {
  return objects.map((object) => object as DashboardObject);
}

/**
 * Adapters telling BI tools that a dashboard's objects were refreshed: a webhook, Metabase cache invalidation,
 * Superset cache warm-up, and asynchronous refreshes (Power BI, Tableau) that are started and then polled.
 */
export type { BiCall } from './call.js';
export { toolName } from './call.js';
export { notifyTool } from './notify.js';
export { startAsyncRefresh, pollAsyncRefresh } from './async-refresh.js';
export { BiToolError } from './errors.js';

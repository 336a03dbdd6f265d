import type { BiTool } from '../../product/targets.js';

/** One notification of the BI tools of a dashboard target, after its objects were refreshed. */
export interface BiCall {
  product: string;
  env: string;
  target: string;
  runId: string;
  /** physical names of the objects refreshed, e.g. ['"dashboards"."return_rate_weekly"'] — plain strings */
  objects: string[];
  /** ISO timestamp of the refresh. */
  refreshedAt: string;
  /** where secrets are read; default process.env */
  vars?: NodeJS.ProcessEnv;
  /** idempotency key base; the adapters send `Idempotency-Key: <key>/<tool name>` (webhook, async start) */
  idempotencyKey: string;
  signal?: AbortSignal;
}

/** The tool's name in results and errors: `name`, else its kind. */
export function toolName(tool: BiTool): string {
  return tool.name ?? tool.tool;
}

/** The `Idempotency-Key` a tool receives: the call's key and the tool's name, so two tools never share one. */
export function idempotencyKeyFor(tool: BiTool, call: BiCall): string {
  return `${call.idempotencyKey}/${toolName(tool)}`;
}

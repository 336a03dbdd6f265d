import type { WebhookTool } from '../../product/targets.js';
import { idempotencyKeyFor, type BiCall } from './call.js';
import { ToolHttp } from './http.js';

/** POSTs a `dashboard.refreshed` event; a URL from a secret is shown as `secret(NAME)`. */
export async function notifyWebhook(tool: WebhookTool, call: BiCall): Promise<string> {
  const http = new ToolHttp(tool, call);
  const url = typeof tool.url === 'string' ? tool.url : http.secret(tool.url);
  const shown = typeof tool.url === 'string' ? tool.url : `secret(${tool.url.env})`;
  const { product, env, target, runId, objects, refreshedAt } = call;
  const answer = await http.send({
    method: 'POST',
    url,
    shown,
    headers: { 'idempotency-key': idempotencyKeyFor(tool, call) },
    bearer: tool.token && http.secret(tool.token),
    json: { event: 'dashboard.refreshed', product, env, target, runId, objects, refreshedAt },
  });
  return `${http.label}: notified ${shown} (HTTP ${answer.status})`;
}

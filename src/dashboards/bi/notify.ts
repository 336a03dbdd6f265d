import type { MetabaseTool, SupersetTool, WebhookTool } from '../../product/targets.js';
import type { BiCall } from './call.js';
import { notifyMetabase } from './metabase.js';
import { notifySuperset } from './superset.js';
import { notifyWebhook } from './webhook.js';

/** Tells a synchronous tool (webhook, metabase, superset) that the objects were refreshed; returns a one-line detail. */
export async function notifyTool(tool: WebhookTool | MetabaseTool | SupersetTool, call: BiCall): Promise<string> {
  switch (tool.tool) {
    case 'webhook':
      return notifyWebhook(tool, call);
    case 'metabase':
      return notifyMetabase(tool, call);
    case 'superset':
      return notifySuperset(tool, call);
  }
}

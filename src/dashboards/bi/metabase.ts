import type { MetabaseTool } from '../../product/targets.js';
import type { BiCall } from './call.js';
import { below, ToolHttp } from './http.js';

/** Invalidates the cached results of the tool's dashboards and cards (questions) in one request. */
export async function notifyMetabase(tool: MetabaseTool, call: BiCall): Promise<string> {
  const http = new ToolHttp(tool, call);
  const url = below(tool.url, 'api/cache/invalidate');
  for (const id of tool.dashboards ?? []) url.searchParams.append('dashboard', String(id));
  for (const id of tool.cards ?? []) url.searchParams.append('question', String(id));
  await http.send({ method: 'POST', url: url.href, headers: { 'x-api-key': http.secret(tool.apiKey) } });
  const what = [
    ...(tool.dashboards?.length ? [`dashboards ${tool.dashboards.join(', ')}`] : []),
    ...(tool.cards?.length ? [`cards ${tool.cards.join(', ')}`] : []),
  ];
  return `${http.label}: invalidated ${what.join(', ') || 'nothing (no dashboards or cards listed)'}`;
}

import type { SupersetTool } from '../../product/targets.js';
import type { BiCall } from './call.js';
import { below, ToolHttp } from './http.js';

/** At most this many charts warm at once. */
const CONCURRENCY = 4;

/** Warms each chart's cache (with the dashboard's filters when set); a chart whose query failed fails the call. */
export async function notifySuperset(tool: SupersetTool, call: BiCall): Promise<string> {
  const http = new ToolHttp(tool, call);
  const token = http.secret(tool.token);
  const url = below(tool.url, 'api/v1/chart/warm_up_cache').href;
  const failures = new Map<number, string>();
  await eachLimited(tool.charts, CONCURRENCY, async (chart) => {
    const answer = await http.send({
      method: 'PUT',
      url,
      bearer: token,
      json: { chart_id: chart, ...(tool.dashboard !== undefined && { dashboard_id: tool.dashboard }) },
    });
    const result = (answer.json as { result?: unknown } | undefined)?.result;
    if (!Array.isArray(result)) {
      throw http.fail(`PUT ${url} for chart ${chart} answered without a result list: ${http.excerpt(answer.text) || '(empty)'}. Check that url is Superset's base URL.`);
    }
    for (const entry of result as { chart_id?: unknown; viz_error?: unknown }[]) {
      const error = entry?.viz_error;
      if (error !== null && error !== undefined && error !== '') failures.set(chart, http.excerpt(typeof error === 'string' ? error : JSON.stringify(error)));
    }
  });
  if (failures.size > 0) {
    const list = tool.charts.filter((chart) => failures.has(chart)).map((chart) => `chart ${chart}: ${failures.get(chart)}`);
    throw http.fail(`warming failed for ${list.join('; ')}. Open these charts in Superset to fix their queries.`);
  }
  return `${http.label}: warmed charts ${tool.charts.join(', ')}${tool.dashboard !== undefined ? ` (dashboard ${tool.dashboard})` : ''}`;
}

/** Runs `work` on each item, at most `limit` at once; stops starting new items after the first failure. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

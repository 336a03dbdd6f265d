/**
 * Asynchronous refreshes (Power BI dataset refresh, Tableau extract refresh): one request starts the refresh, then
 * the caller polls its URL, sleeping on durable timers between polls.
 */
import type { AsyncRefreshTool } from '../../product/targets.js';
import { idempotencyKeyFor, type BiCall } from './call.js';
import { ToolHttp, type ToolAnswer } from './http.js';

const DONE = ['done', 'succeeded', 'success', 'completed'];
const FAILED = ['failed', 'error', 'cancelled', 'canceled', 'disabled'];
/** Fields of a poll answer that explain a failure, in order of preference. */
const REASONS = ['serviceExceptionJson', 'error', 'errorMessage', 'message', 'details'];

export interface AsyncRefreshState {
  state: 'running' | 'done' | 'failed';
  /** The status as the tool wrote it; empty when the answer has none. */
  status: string;
  /** Why it failed, scrubbed, at most 300 characters. */
  message?: string;
}

/** Starts the refresh; returns where to poll it and the refresh id when the answer names one. */
export async function startAsyncRefresh(tool: AsyncRefreshTool, call: BiCall): Promise<{ pollUrl: string; id?: string }> {
  const http = new ToolHttp(tool, call);
  const answer = await http.send({
    method: tool.method ?? 'POST',
    url: tool.url,
    headers: { 'idempotency-key': idempotencyKeyFor(tool, call) },
    bearer: tool.token && http.secret(tool.token),
    json: tool.body ?? {},
  });
  const idField = tool.idField ?? 'id';
  const id = scalarText(valueAt(answer.json, idField)) || answer.headers.get('requestid') || undefined;
  const pollUrl = pollUrlOf(tool, answer, id, http);
  return id === undefined ? { pollUrl } : { pollUrl, id };
}

/** Polls the refresh once and classifies its status (case-insensitively); an unknown or missing status is `running`. */
export async function pollAsyncRefresh(tool: AsyncRefreshTool, pollUrl: string, call: BiCall): Promise<AsyncRefreshState> {
  const http = new ToolHttp(tool, call);
  const answer = await http.send({ method: 'GET', url: pollUrl, bearer: tool.token && http.secret(tool.token) });
  const statusField = tool.statusField ?? 'status';
  const status = scalarText(valueAt(answer.json, statusField)) ?? '';
  const is = (values: readonly string[]) => values.some((value) => value.toLowerCase() === status.toLowerCase());
  if (status !== '' && is(tool.done ?? DONE)) return { state: 'done', status };
  if (status !== '' && is(tool.failed ?? FAILED)) {
    const parent = valueAt(answer.json, statusField.split('.').slice(0, -1).join('.'));
    return { state: 'failed', status, message: http.excerpt(reasonOf(parent) ?? reasonOf(answer.json) ?? answer.text, 300) };
  }
  return { state: 'running', status };
}

function pollUrlOf(tool: AsyncRefreshTool, answer: ToolAnswer, id: string | undefined, http: ToolHttp): string {
  const location = answer.headers.get('location');
  if (tool.pollUrl !== undefined) {
    if (tool.pollUrl.includes('{id}') && id === undefined) {
      throw http.fail(
        `the start answer (HTTP ${answer.status}) has no refresh id at '${tool.idField ?? 'id'}' and no RequestId header, so pollUrl's {id} cannot be filled. ` +
          "Set idField to the id's dotted path in the answer, e.g. idField: 'job.id'.",
      );
    }
    const filled = tool.pollUrl.replaceAll('{id}', encodeURIComponent(id ?? ''));
    if (!URL.canParse(filled, tool.url)) throw http.fail(`pollUrl '${tool.pollUrl}' is not a URL, absolute or relative to url. Write e.g. pollUrl: '/refreshes/{id}'.`);
    return new URL(filled, tool.url).href;
  }
  if (location && URL.canParse(location, tool.url)) return new URL(location, tool.url).href;
  throw http.fail(
    `the start answer (HTTP ${answer.status}) has no Location header, so lastmile does not know where to poll the refresh. ` +
      "Set pollUrl on the tool, e.g. pollUrl: '/refreshes/{id}' with idField naming the refresh id in the answer.",
  );
}

/** The value at a dotted path (`job.id`) of parsed JSON; the empty path is the value itself. */
function valueAt(json: unknown, path: string): unknown {
  if (path === '') return json;
  let value = json;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function scalarText(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

function reasonOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  for (const field of REASONS) {
    const value = (json as Record<string, unknown>)[field];
    if (value === undefined || value === null || value === '') continue;
    return scalarText(value) ?? JSON.stringify(value);
  }
  return undefined;
}

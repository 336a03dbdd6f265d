import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BiToolError, notifyTool, pollAsyncRefresh, startAsyncRefresh, toolName, type BiCall } from '../../src/dashboards/bi/index.js';
import { secret } from '../../src/product/secret.js';
import type { AsyncRefreshTool, MetabaseTool, SupersetTool, WebhookTool } from '../../src/product/targets.js';
import { startBiServer, type BiServer } from '../support/bi-server.js';

const TOKEN = 'bi-token-Zq81xSuperSecret';
const API_KEY = 'mb_apikey_K7pQSuperSecret';
const HOOK_TOKEN = 'hookPathTokenSuperSecret99';
const SECRET_VALUES = [TOKEN, API_KEY, HOOK_TOKEN, 'SuperSecret'];

let server: BiServer;
/** Where the adapters read secrets: never process.env here. */
let vars: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = await startBiServer({ token: TOKEN, apiKey: API_KEY, failCharts: [13] });
  vars = { BI_TOKEN: TOKEN, MB_KEY: API_KEY, BI_HOOK_URL: `${server.url}/hook/${HOOK_TOKEN}?sig=${HOOK_TOKEN}` };
});
afterAll(async () => {
  await server?.close();
});
afterEach(() => {
  server.requests.length = 0;
  server.setFailNext({ status: 0, times: 0 });
  server.setDelayMs(0);
  server.setOutcome('done');
  server.setRefreshMs(0);
});

/** What the webhook event repeats of the call. */
const REFRESH = {
  product: 'returns_by_supplier',
  env: 'test',
  target: 'quality_review',
  runId: 'run-42',
  objects: ['"dashboards"."return_rate_weekly"'],
  refreshedAt: '2025-03-03T05:00:00.000Z',
};

const call = (overrides: Partial<BiCall> = {}): BiCall => ({
  ...REFRESH,
  vars,
  idempotencyKey: 'lastmile/test/returns_by_supplier/quality_review/run-42',
  ...overrides,
});

const metabase = (overrides: Partial<MetabaseTool> = {}): MetabaseTool => ({
  tool: 'metabase',
  url: server.url,
  apiKey: secret('MB_KEY'),
  dashboards: [4, 5],
  cards: [12, 13],
  ...overrides,
});
const superset = (overrides: Partial<SupersetTool> = {}): SupersetTool => ({ tool: 'superset', url: server.url, token: secret('BI_TOKEN'), charts: [11, 12], ...overrides });
const powerBi = (overrides: Partial<AsyncRefreshTool> = {}): AsyncRefreshTool => ({
  tool: 'asyncRefresh',
  name: 'powerbi_sales',
  url: `${server.url}/refreshes`,
  token: secret('BI_TOKEN'),
  body: { notifyOption: 'NoNotification' },
  ...overrides,
});
const tableau = (overrides: Partial<AsyncRefreshTool> = {}): AsyncRefreshTool => ({
  tool: 'asyncRefresh',
  name: 'tableau_extract',
  url: `${server.url}/jobs`,
  token: secret('BI_TOKEN'),
  idField: 'job.id',
  pollUrl: '/jobs/{id}',
  statusField: 'job.finishCode',
  done: ['0'],
  failed: ['1', '2'],
  ...overrides,
});

/** The BiToolError `promise` rejects with, checked to hold no secret value. */
async function failure(promise: Promise<unknown>): Promise<BiToolError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(BiToolError);
  const message = (error as BiToolError).message;
  for (const value of [...SECRET_VALUES, vars.BI_HOOK_URL!]) expect(message).not.toContain(value);
  return error as BiToolError;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('toolName', () => {
  it('is the name, else the kind', () => {
    expect(toolName(metabase())).toBe('metabase');
    expect(toolName(metabase({ name: 'metabase_eu' }))).toBe('metabase_eu');
    expect(toolName(powerBi())).toBe('powerbi_sales');
  });
});

describe('webhook', () => {
  it('POSTs the dashboard.refreshed event with a bearer token and an idempotency key', async () => {
    const tool: WebhookTool = { tool: 'webhook', url: `${server.url}/hook`, token: secret('BI_TOKEN') };
    expect(await notifyTool(tool, call())).toBe(`webhook: notified ${server.url}/hook (HTTP 200)`);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/hook', query: {} });
    expect(request!.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'lastmile/test/returns_by_supplier/quality_review/run-42/webhook',
      authorization: `Bearer ${TOKEN}`,
    });
    expect(request!.body).toEqual({ event: 'dashboard.refreshed', ...REFRESH });
    expect(Object.keys(request!.body as object)).toEqual(['event', 'product', 'env', 'target', 'runId', 'objects', 'refreshedAt']);
  });

  it('sends no Authorization header without a token', async () => {
    await notifyTool({ tool: 'webhook', name: 'plain_hook', url: `${server.url}/hook` }, call());
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
    expect(server.requests[0]!.headers['idempotency-key']).toMatch(/\/plain_hook$/);
  });

  it('shows a URL from a secret as secret(NAME), in results and errors', async () => {
    const tool: WebhookTool = { tool: 'webhook', url: secret('BI_HOOK_URL'), token: secret('BI_TOKEN') };
    expect(await notifyTool(tool, call())).toBe('webhook: notified secret(BI_HOOK_URL) (HTTP 200)');
    expect(server.requests[0]).toMatchObject({ path: `/hook/${HOOK_TOKEN}`, query: { sig: [HOOK_TOKEN] } });

    server.setFailNext({ status: 502, times: 1 });
    const error = await failure(notifyTool(tool, call()));
    expect(error.message).toMatch(/^webhook: POST secret\(BI_HOOK_URL\) answered HTTP 502 Bad Gateway: .*failing on purpose.*It is retried\.$/);
    expect(error.message).toContain('***');
    expect(error).toMatchObject({ retryable: true, status: 502, name: 'BiToolError' });
  });
});

describe('metabase', () => {
  it('invalidates dashboards and cards (as questions) with the API key', async () => {
    expect(await notifyTool(metabase(), call())).toBe('metabase: invalidated dashboards 4, 5, cards 12, 13');
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/api/cache/invalidate', query: { dashboard: ['4', '5'], question: ['12', '13'] }, body: undefined });
    expect(request!.headers['x-api-key']).toBe(API_KEY);
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.headers['idempotency-key']).toBeUndefined();
  });

  it('keeps a base URL path and lists only what it names', async () => {
    const tool = metabase({ url: `${server.url}/metabase`, dashboards: [4], cards: undefined });
    const error = await failure(notifyTool(tool, call()));
    expect(server.requests[0]).toMatchObject({ path: '/metabase/api/cache/invalidate', query: { dashboard: ['4'] } });
    expect(error.message).toContain("answered HTTP 404 Not Found");
    expect(error.message).toContain("Check the tool's url and the ids it names.");
    expect(error).toMatchObject({ retryable: false, status: 404, name: 'LastmileInputError' });
    expect(await notifyTool(metabase({ dashboards: undefined, cards: [12] }), call())).toBe('metabase: invalidated cards 12');
  });

  it('fails without retry on a wrong API key, without showing it', async () => {
    const error = await failure(notifyTool(metabase({ name: 'metabase_eu' }), call({ vars: { ...vars, MB_KEY: 'wrong-key-SuperSecret' } })));
    expect(error.message).toMatch(/^metabase_eu: POST .*\/api\/cache\/invalidate\?dashboard=4&dashboard=5&question=12&question=13 answered HTTP 401 Unauthorized: /);
    expect(error.message).not.toContain('wrong-key');
    expect(error).toMatchObject({ retryable: false, status: 401 });
  });
});

describe('superset', () => {
  it('warms each chart with the dashboard id and the bearer token', async () => {
    expect(await notifyTool(superset({ dashboard: 7 }), call())).toBe('superset: warmed charts 11, 12 (dashboard 7)');
    expect(server.requests.map((request) => request.body)).toEqual(
      expect.arrayContaining([
        { chart_id: 11, dashboard_id: 7 },
        { chart_id: 12, dashboard_id: 7 },
      ]),
    );
    for (const request of server.requests) {
      expect(request).toMatchObject({ method: 'PUT', path: '/api/v1/chart/warm_up_cache' });
      expect(request.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' });
    }
    await notifyTool(superset({ charts: [11] }), call());
    expect(server.requests[2]!.body).toEqual({ chart_id: 11 });
  });

  it('fails, naming the chart and its error, when a chart reports viz_error', async () => {
    const error = await failure(notifyTool(superset({ charts: [11, 13, 12] }), call()));
    expect(error.message).toBe('superset: warming failed for chart 13: boom. Open these charts in Superset to fix their queries.');
    expect(error.retryable).toBe(false);
    expect(server.requests).toHaveLength(3);
  });

  it('fails without retry on a wrong token, without showing it', async () => {
    const error = await failure(notifyTool(superset(), call({ vars: { ...vars, BI_TOKEN: 'stale-token-SuperSecret' } })));
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect(error.message).toContain('Check that the token or API key is valid');
  });
});

describe('asyncRefresh, Power BI-like (Location header)', () => {
  it('starts the refresh, then polls it from running to done', async () => {
    server.setRefreshMs(150);
    const started = await startAsyncRefresh(powerBi(), call());
    expect(started.id).toMatch(/^\d+$/);
    expect(started.pollUrl).toBe(`${server.url}/refreshes/${started.id}`);
    const [start] = server.requests;
    expect(start).toMatchObject({ method: 'POST', path: '/refreshes', body: { notifyOption: 'NoNotification' } });
    expect(start!.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      'idempotency-key': 'lastmile/test/returns_by_supplier/quality_review/run-42/powerbi_sales',
    });

    expect(await pollAsyncRefresh(powerBi(), started.pollUrl, call())).toEqual({ state: 'running', status: 'Unknown' });
    await sleep(200);
    // A new call, as from a restarted worker: the refresh lives in the tool.
    expect(await pollAsyncRefresh(powerBi(), started.pollUrl, call())).toEqual({ state: 'done', status: 'Completed' });
    expect(server.requests[1]).toMatchObject({ method: 'GET', path: `/refreshes/${started.id}`, body: undefined });
    expect(server.requests[1]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('reports a failed refresh with the reason from the answer', async () => {
    server.setOutcome('failed');
    server.setRefreshMs(100);
    const { pollUrl } = await startAsyncRefresh(powerBi({ method: 'POST', body: undefined }), call());
    expect(server.requests[0]!.body).toEqual({});
    expect((await pollAsyncRefresh(powerBi(), pollUrl, call())).state).toBe('running');
    await sleep(150);
    expect(await pollAsyncRefresh(powerBi(), pollUrl, call())).toEqual({ state: 'failed', status: 'Failed', message: '{"errorCode":"ModelRefreshFailed"}' });
  });

  it('treats custom done / failed lists case-insensitively', async () => {
    const { pollUrl } = await startAsyncRefresh(powerBi(), call());
    expect(await pollAsyncRefresh(powerBi({ done: ['COMPLETED'] }), pollUrl, call())).toEqual({ state: 'done', status: 'Completed' });
    expect(await pollAsyncRefresh(powerBi({ done: ['ok'], failed: ['completed'] }), pollUrl, call())).toMatchObject({ state: 'failed', status: 'Completed' });
  });
});

describe('asyncRefresh, Tableau-like (id in the body, pollUrl template)', () => {
  it('finds the id at idField and polls pollUrl until finishCode 0', async () => {
    server.setRefreshMs(150);
    const started = await startAsyncRefresh(tableau(), call());
    expect(started.id).toMatch(/^j\d+$/);
    expect(started.pollUrl).toBe(`${server.url}/jobs/${started.id}`);
    expect(await pollAsyncRefresh(tableau(), started.pollUrl, call())).toEqual({ state: 'running', status: '' });
    await sleep(200);
    expect(await pollAsyncRefresh(tableau(), started.pollUrl, call())).toEqual({ state: 'done', status: '0' });
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /jobs', `GET /jobs/${started.id}`, `GET /jobs/${started.id}`]);
  });

  it('reports finishCode 1 as failed, with the answer as the message', async () => {
    server.setOutcome('failed');
    const { pollUrl, id } = await startAsyncRefresh(tableau(), call());
    expect(await pollAsyncRefresh(tableau(), pollUrl, call())).toEqual({ state: 'failed', status: '1', message: `{"job":{"id":"${id}","finishCode":1}}` });
  });

  it('asks for pollUrl when the answer has no Location header', async () => {
    const error = await failure(startAsyncRefresh(tableau({ pollUrl: undefined }), call()));
    expect(error.message).toMatch(/^tableau_extract: the start answer \(HTTP 200\) has no Location header.*Set pollUrl/);
    expect(error.retryable).toBe(false);
  });

  it('asks for idField when pollUrl needs an id the answer lacks', async () => {
    const error = await failure(startAsyncRefresh(tableau({ idField: 'job.ref' }), call()));
    expect(error.message).toContain("no refresh id at 'job.ref'");
    expect(error.retryable).toBe(false);
  });
});

describe('failures', () => {
  it('retries 5xx and 429, and the next attempt goes through', async () => {
    for (const status of [500, 503, 429]) {
      server.setFailNext({ status, times: 1 });
      const error = await failure(startAsyncRefresh(powerBi(), call()));
      expect(error).toMatchObject({ retryable: true, status, name: 'BiToolError' });
      expect(error.message).toMatch(new RegExp(`^powerbi_sales: POST ${server.url}/refreshes answered HTTP ${status}`));
    }
    expect((await startAsyncRefresh(powerBi(), call())).pollUrl).toMatch(/\/refreshes\/\d+$/);
  });

  it('does not retry 401 or 404 on a poll', async () => {
    const { pollUrl } = await startAsyncRefresh(powerBi(), call());
    const unauthorized = await failure(pollAsyncRefresh(powerBi(), pollUrl, call({ vars: { ...vars, BI_TOKEN: 'expired-SuperSecret' } })));
    expect(unauthorized).toMatchObject({ retryable: false, status: 401 });
    const missing = await failure(pollAsyncRefresh(powerBi(), `${server.url}/refreshes/999`, call()));
    expect(missing).toMatchObject({ retryable: false, status: 404 });
  });

  it('retries a timeout, saying how long it waited', async () => {
    server.setDelayMs(500);
    const error = await failure(notifyTool(metabase({ timeout: '100ms' }), call()));
    expect(error.message).toBe(`metabase: POST ${server.url}/api/cache/invalidate?dashboard=4&dashboard=5&question=12&question=13 failed: no answer within 0.1s. It is retried.`);
    expect(error.retryable).toBe(true);
    expect(error.status).toBeUndefined();
  });

  it('retries a refused connection, naming the error code only', async () => {
    const closed = await startBiServer();
    await closed.close();
    const error = await failure(notifyTool({ tool: 'webhook', url: `${closed.url}/hook` }, call()));
    expect(error.message).toBe(`webhook: POST ${closed.url}/hook failed: network error ECONNREFUSED. It is retried.`);
    expect(error.retryable).toBe(true);
  });

  it('never shows a secret webhook URL, even when the connection fails', async () => {
    const closed = await startBiServer();
    await closed.close();
    const hookVars = { ...vars, BI_HOOK_URL: `${closed.url}/hook/${HOOK_TOKEN}` };
    const error = await failure(notifyTool({ tool: 'webhook', url: secret('BI_HOOK_URL') }, call({ vars: hookVars })));
    expect(error.message).toBe('webhook: POST secret(BI_HOOK_URL) failed: network error ECONNREFUSED. It is retried.');
  });

  it('names a missing environment variable, and sends nothing', async () => {
    const error = await failure(notifyTool(superset(), call({ vars: {} })));
    expect(error.message).toContain('The environment variable BI_TOKEN is not set (needed by BI tool superset of product returns_by_supplier, target quality_review, env test)');
    expect(error.retryable).toBe(false);
    const hook = await failure(notifyTool({ tool: 'webhook', url: secret('BI_HOOK_URL') }, call({ vars: {} })));
    expect(hook.message).toContain('BI_HOOK_URL is not set');
    expect(server.requests).toHaveLength(0);
  });

  it('rejects a secret webhook URL that is not http(s), without showing it', async () => {
    const error = await failure(notifyTool({ tool: 'webhook', url: secret('BI_HOOK_URL') }, call({ vars: { BI_HOOK_URL: `ftp://x/${HOOK_TOKEN}` } })));
    expect(error.message).toMatch(/^webhook: secret\(BI_HOOK_URL\) is not an http\(s\) URL/);
  });

  it('passes a cancellation through as it is', async () => {
    server.setDelayMs(500);
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    setTimeout(() => controller.abort(reason), 50);
    await expect(notifyTool(metabase(), call({ signal: controller.signal }))).rejects.toBe(reason);
  });
});

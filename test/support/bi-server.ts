/**
 * A local stand-in for the BI tools lastmile tells about refreshes (node:http on 127.0.0.1, a free port):
 * - `POST /hook[/...]` → 200: a webhook receiver (a path below /hook may carry a token, as real hook URLs do);
 * - `POST /api/cache/invalidate` → 200 `{}` (Metabase), `x-api-key` checked;
 * - `PUT /api/v1/chart/warm_up_cache` → `{ result: [{ chart_id, viz_error, viz_status }] }` (Superset), bearer checked;
 * - `POST /refreshes` → 202 with `Location` and `RequestId`, `GET /refreshes/<n>` → `{ status }` (Power BI-like);
 * - `POST /jobs` → `{ job: { id } }`, `GET /jobs/<id>` → `{ job: { id, finishCode? } }` (Tableau-like).
 * Refreshes live in the server: a restarted client keeps polling the same one. Error answers quote the request's
 * path and credentials, as careless proxies do, so tests can check that no secret leaks into lastmile's messages.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BiRequest {
  method: string;
  path: string;
  query: Record<string, string[]>;
  headers: http.IncomingHttpHeaders;
  /** The JSON body parsed, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
}

export type RefreshOutcome = 'done' | 'failed';

export interface BiServerOptions {
  /** Bearer token required by Superset, /refreshes and /jobs (none checked when unset). */
  token?: string;
  /** Metabase API key required as `x-api-key` (none checked when unset). */
  apiKey?: string;
  /** How long a refresh or job runs (default 0). */
  refreshMs?: number;
  /** How refreshes started from now end (default `done`). */
  outcome?: RefreshOutcome;
  /** Superset charts whose warm-up reports `viz_error: 'boom'`. */
  failCharts?: number[];
  /** Answer the next `times` requests, whatever the route, with `status`. */
  failNext?: { status: number; times: number };
}

export interface BiServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: BiRequest[];
  setOutcome(outcome: RefreshOutcome): void;
  setRefreshMs(ms: number): void;
  setFailNext(fail: { status: number; times: number }): void;
  /** Delay every answer by this long (to test timeouts); 0 answers at once. */
  setDelayMs(ms: number): void;
  close(): Promise<void>;
}

interface Refresh {
  startedAt: number;
  durationMs: number;
  outcome: RefreshOutcome;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export async function startBiServer(options: BiServerOptions = {}): Promise<BiServer> {
  let outcome: RefreshOutcome = options.outcome ?? 'done';
  let refreshMs = options.refreshMs ?? 0;
  let failNext = options.failNext ? { ...options.failNext } : { status: 0, times: 0 };
  let delayMs = 0;
  const failCharts = new Set(options.failCharts ?? []);
  const refreshes = new Map<string, Refresh>();
  const requests: BiRequest[] = [];
  let base = '';

  const start = (): string => {
    const id = String(refreshes.size + 1);
    refreshes.set(id, { startedAt: Date.now(), durationMs: refreshMs, outcome });
    return id;
  };
  /** undefined while running, else how it ended. */
  const ended = (id: string): RefreshOutcome | undefined => {
    const refresh = refreshes.get(id)!;
    return Date.now() - refresh.startedAt >= refresh.durationMs ? refresh.outcome : undefined;
  };

  function route(request: BiRequest): Answer {
    const { method, path } = request;
    /** What a careless server quotes back in its errors. */
    const echo = { path: `${path}${queryText(request.query)}`, authorization: request.headers.authorization, apiKey: request.headers['x-api-key'] };
    if (failNext.times > 0) {
      failNext.times -= 1;
      return { status: failNext.status, body: { message: `failing on purpose (${failNext.status})`, ...echo } };
    }
    const bearerOk = options.token === undefined || request.headers.authorization === `Bearer ${options.token}`;
    const unauthorized = { status: 401, body: { message: 'invalid credentials', ...echo } };
    if (method === 'POST' && (path === '/hook' || path.startsWith('/hook/'))) return { status: 200, body: { ok: true } };
    if (method === 'POST' && path === '/api/cache/invalidate') {
      if (options.apiKey !== undefined && request.headers['x-api-key'] !== options.apiKey) return unauthorized;
      return { status: 200, body: {} };
    }
    if (method === 'PUT' && path === '/api/v1/chart/warm_up_cache') {
      if (!bearerOk) return unauthorized;
      const chart = Number((request.body as { chart_id?: unknown } | undefined)?.chart_id);
      const failing = failCharts.has(chart);
      return { status: 200, body: { result: [{ chart_id: chart, viz_error: failing ? 'boom' : null, viz_status: failing ? 'failed' : 'success' }] } };
    }
    if ((path === '/refreshes' || path === '/jobs') && method === 'POST' && !bearerOk) return unauthorized;
    if (method === 'POST' && path === '/refreshes') {
      const id = start();
      return { status: 202, headers: { location: `${base}/refreshes/${id}`, requestid: id } };
    }
    if (method === 'POST' && path === '/jobs') return { status: 200, body: { job: { id: `j${start()}` } } };
    const refreshId = /^\/refreshes\/(\d+)$/.exec(path)?.[1];
    const jobId = /^\/jobs\/j(\d+)$/.exec(path)?.[1];
    const id = refreshId ?? jobId;
    if (method === 'GET' && id !== undefined && refreshes.has(id)) {
      if (!bearerOk) return unauthorized;
      const end = ended(id);
      if (jobId !== undefined) return { status: 200, body: { job: { id: `j${id}`, ...(end && { finishCode: end === 'done' ? 0 : 1 }) } } };
      if (end === 'failed') return { status: 200, body: { status: 'Failed', serviceExceptionJson: '{"errorCode":"ModelRefreshFailed"}' } };
      return { status: 200, body: { status: end === 'done' ? 'Completed' : 'Unknown' } };
    }
    return { status: 404, body: { message: 'not found', ...echo } };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const query: Record<string, string[]> = {};
      for (const [key, value] of url.searchParams) (query[key] ??= []).push(value);
      const request: BiRequest = { method: req.method ?? '', path: url.pathname, query, headers: req.headers, body: parseBody(Buffer.concat(chunks).toString('utf8')) };
      requests.push(request);
      const answer = route(request);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, { ...(answer.body !== undefined && { 'content-type': 'application/json' }), ...answer.headers });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      };
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    requests,
    setOutcome: (next) => {
      outcome = next;
    },
    setRefreshMs: (ms) => {
      refreshMs = ms;
    },
    setFailNext: (fail) => {
      failNext = { ...fail };
    },
    setDelayMs: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function queryText(query: Record<string, string[]>): string {
  const params = new URLSearchParams();
  for (const [key, values] of Object.entries(query)) for (const value of values) params.append(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * HTTP for the reverse ETL adapters: the target's pace before every request, a timeout per request, 429 waited out
 * (Retry-After, in seconds or as a date) without spending an attempt, timeouts / network errors / 5xx sent again with
 * backoff up to an attempt budget, and every message free of the token and the URL's secrets.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { networkCause, redact, parseJson } from '../../net/http-errors.js';
import { SyncError } from '../errors.js';
import type { Pace, SendStats } from './types.js';

export interface SyncRequest {
  method: 'POST' | 'PUT' | 'PATCH' | 'GET';
  url: string;
  headers?: Record<string, string>;
  bearer?: string;
  json?: unknown;
}

export interface SyncAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** the body as JSON; undefined when it is not JSON */
  json: unknown;
}

export interface SendOptions {
  /** the destination, for messages */
  label: string;
  timeoutMs: number;
  pace: Pace;
  /** rows the request carries, for the rows-per-second pace */
  rows: number;
  stats: SendStats;
  /** values never to show (the token) */
  secrets: readonly string[];
  signal?: AbortSignal | undefined;
  /** attempts for timeouts, network errors and 5xx (default 5); 429s do not count */
  attempts?: number;
  /** how long a 429 without Retry-After waits (default 1 s); a destination may say more in its body */
  throttleWaitMs?: (answer: SyncAnswer) => number | undefined;
  /** longest total time spent throttled before the batch gives up, retryable (default 15 minutes) */
  maxThrottledMs?: number;
  /** the sleep between tries (tests pass a fast one); default real time */
  backoffMs?: (attempt: number) => number;
}

const DEFAULT_ATTEMPTS = 5;

/** Sends until an answer that is not 429 / 5xx arrives, or the attempt budget is spent (then a retryable SyncError). */
export async function sendWithRetries(request: SyncRequest, options: SendOptions): Promise<SyncAnswer> {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const backoff = options.backoffMs ?? ((attempt: number) => Math.min(30_000, 500 * 2 ** attempt));
  const maxThrottled = options.maxThrottledMs ?? 15 * 60_000;
  let failures = 0;
  let throttledMs = 0;
  let lastProblem = '';
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    await options.pace.take(options.rows);
    options.stats.requests += 1;
    const answer = await fetchOnce(request, options).catch((error: unknown) => {
      if (options.signal?.aborted) throw options.signal.reason;
      return { problem: `${request.method} ${shownUrl(request.url, options.secrets)} failed: ${networkCause(error, options.timeoutMs)}` };
    });
    if ('status' in answer && answer.status === 429) {
      options.stats.throttled += 1;
      // at least 50 ms: a destination answering Retry-After: 0 must not turn this into a busy loop
      // the destination's own reading first: it may end the batch (a daily limit) whatever Retry-After says
      const hinted = options.throttleWaitMs?.(answer);
      const wait = Math.max(50, retryAfterMs(answer.headers) ?? hinted ?? 1_000);
      throttledMs += wait;
      if (throttledMs > maxThrottled) {
        throw new SyncError(`${options.label} kept answering 429 Too Many Requests for ${Math.round(throttledMs / 1000)} s; the batch is sent again later.`, { retryable: true });
      }
      options.pace.holdFor(wait);
      continue;
    }
    if ('status' in answer && answer.status < 500) return answer;
    lastProblem = 'status' in answer ? `answered HTTP ${answer.status}${excerpt(answer.text, options.secrets) ? `: ${excerpt(answer.text, options.secrets)}` : ''}` : answer.problem;
    failures += 1;
    if (failures >= attempts) {
      throw new SyncError(`${options.label} ${lastProblem} (${failures} attempts); the batch is sent again under the same idempotency key.`, { retryable: true });
    }
    options.stats.retries += 1;
    const wait = ('status' in answer ? retryAfterMs(answer.headers) : undefined) ?? backoff(failures);
    await sleep(wait, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}

async function fetchOnce(request: SyncRequest, options: SendOptions): Promise<SyncAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (request.bearer !== undefined) headers.authorization = `Bearer ${request.bearer}`;
  if (request.json !== undefined) headers['content-type'] = 'application/json';
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
  const response = await fetch(request.url, {
    method: request.method,
    headers,
    ...(request.json !== undefined && { body: JSON.stringify(request.json) }),
    signal: AbortSignal.any(signals),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: parseJson(text) };
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** An answer's body on one line, secrets removed, at most `max` characters. */
export function excerpt(text: string, secrets: readonly string[], max = 300): string {
  const line = redact(text, [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)).replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The URL without query string and credentials, for messages. */
export function shownUrl(url: string, secrets: readonly string[]): string {
  try {
    const parsed = new URL(url);
    return redact(`${parsed.origin}${parsed.pathname}`, [...secrets].filter((s) => s.length > 0));
  } catch {
    return 'the URL';
  }
}

/** The one way the adapters talk HTTP: timeouts, secret handling and errors that are safe to show. */
import { networkCause, redact, urlSecrets, parseJson } from '../../net/http-errors.js';
import { durationMs } from '../../time/duration.js';
import { resolveSecret, type SecretRef } from '../../product/secret.js';
import type { BiTool } from '../../product/targets.js';
import { toolName, type BiCall } from './call.js';
import { BiToolError } from './errors.js';

export interface ToolRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  /** How the URL appears in messages; default the URL itself. */
  shown?: string;
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>` when set. */
  bearer?: string | undefined;
  /** Sent as a JSON body. */
  json?: unknown;
}

export interface ToolAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: unknown;
}

/** HTTP for one tool in one call; it remembers the secrets it resolved to keep them out of every message. */
export class ToolHttp {
  readonly label: string;
  private readonly secrets: string[] = [];
  private readonly timeoutMs: number;

  constructor(
    tool: BiTool,
    private readonly call: BiCall,
  ) {
    this.label = toolName(tool);
    this.timeoutMs = durationMs(tool.timeout ?? '30s');
  }

  /** The secret's value; a missing variable is an error naming it (not retried: the worker's environment lacks it). */
  secret(ref: SecretRef): string {
    const usedBy = `BI tool ${this.label} of product ${this.call.product}, target ${this.call.target}, env ${this.call.env}`;
    let value: string;
    try {
      value = resolveSecret(ref, usedBy, this.call.vars ?? process.env);
    } catch (error) {
      throw new BiToolError(error instanceof Error ? error.message : String(error), { retryable: false });
    }
    this.secrets.push(value, encodeURIComponent(value));
    if (/^https?:\/\//i.test(value) && URL.canParse(value)) this.secrets.push(...urlSecrets(value));
    return value;
  }

  /** `text` without secrets, on one line, at most `max` characters. */
  excerpt(text: string, max = 200): string {
    const secrets = [...this.secrets].sort((a, b) => b.length - a.length);
    const line = redact(text, secrets).replace(/\s+/g, ' ').trim();
    return line.length > max ? `${line.slice(0, max - 1)}…` : line;
  }

  fail(message: string, options: { retryable?: boolean; status?: number } = {}): BiToolError {
    return new BiToolError(`${this.label}: ${message}`, { retryable: options.retryable ?? false, ...(options.status !== undefined && { status: options.status }) });
  }

  /** Sends the request; a network failure, timeout or non-2xx answer throws a `BiToolError`. */
  async send(request: ToolRequest): Promise<ToolAnswer> {
    const where = `${request.method} ${request.shown ?? request.url}`;
    if (!URL.canParse(request.url) || !/^https?:$/.test(new URL(request.url).protocol)) {
      throw this.fail(`${request.shown ?? 'the URL'} is not an http(s) URL. Set it to the tool's full URL, e.g. https://bi.example.com/...`);
    }
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (request.bearer !== undefined) headers.authorization = `Bearer ${request.bearer}`;
    if (request.json !== undefined) headers['content-type'] = 'application/json';
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(this.call.signal ? [this.call.signal] : [])];
    let response: Response;
    let text: string;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers,
        ...(request.json !== undefined && { body: JSON.stringify(request.json) }),
        signal: AbortSignal.any(signals),
      });
      text = await response.text();
    } catch (error) {
      if (this.call.signal?.aborted) throw this.call.signal.reason;
      throw this.fail(`${where} failed: ${networkCause(error, this.timeoutMs)}. It is retried.`, { retryable: true });
    }
    if (!response.ok) {
      const said = this.excerpt(text);
      const retryable = response.status >= 500 || response.status === 429;
      const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      throw this.fail(`${where} answered ${status}${said ? `: ${said}` : ''}. ${retryable ? 'It is retried.' : hint(response.status)}`, {
        retryable,
        status: response.status,
      });
    }
    return { status: response.status, headers: response.headers, text, json: parseJson(text) };
  }
}

/** `path` below a base URL, keeping the base's own path (`https://host/metabase` + `api/x`). */
export function below(base: string, path: string): URL {
  return new URL(path, base.endsWith('/') ? base : `${base}/`);
}

function hint(status: number): string {
  if (status === 401 || status === 403) return 'Check that the token or API key is valid and may do this.';
  if (status === 404) return "Check the tool's url and the ids it names.";
  return "Check the tool's settings in the dashboard target.";
}

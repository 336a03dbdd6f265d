/**
 * Text about a failed HTTP call that is safe to show: network causes by error code only (Node's messages may quote
 * the URL), and answers with secrets removed.
 */

/** What went wrong on the network, by error code only: Node's messages may quote the URL. */
export function networkCause(error: unknown, timeoutMs: number): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs / 1000}s`;
  const code = codeOf(error);
  return code ? `network error ${code}` : 'network error';
}

/** The first Node-style error code (`ECONNREFUSED`…) on the error or its chain of causes. */
export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
  return codeOf((error as { cause?: unknown }).cause);
}

/** The URL and the parts of it that may be a token (path segments, query values, password), longest first. */
export function urlSecrets(url: string): string[] {
  const parsed = new URL(url);
  return [url, parsed.pathname + parsed.search, ...parsed.pathname.split('/'), ...parsed.searchParams.values(), parsed.password]
    .filter((part) => part.length >= 6)
    .sort((a, b) => b.length - a.length);
}

/** Replaces every appearance of each secret in `text` by `***`; pass the longest secrets first. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((result, secret) => (secret ? result.split(secret).join('***') : result), text);
}

/** Removes the URL and the parts of it that may be a token (path segments, query values) from a receiver's answer. */
export function scrub(text: string, url: string): string {
  return redact(text, urlSecrets(url));
}

/** A response body as JSON; undefined when it is empty or not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

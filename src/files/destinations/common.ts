/** What the destinations share: their error, key rules, the write lifecycle. */
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { RetryableError } from '../../errors.js';
import type { Destination, ObjectInfo, ObjectWrite } from './types.js';

/**
 * A destination failed. `retryable: false` (an input error: see src/errors.ts) when no retry can help: a bad key or
 * folder, wrong credentials, a missing bucket.
 * It carries no `cause`: SDK errors hold request details, and Temporal records causes in the history.
 */
export class DestinationError extends RetryableError {
  constructor(message: string, options: { retryable?: boolean } = {}) {
    super(message, 'DestinationError', options.retryable ?? true);
  }
}

/** Segments of a key or prefix that would step out of (or hide inside) the destination root. */
function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'is empty';
  if (Buffer.byteLength(key) > 1024) return 'is longer than 1024 bytes';
  if (key.startsWith('/')) return "starts with '/' (keys are relative to the destination)";
  if (key.includes('\\')) return "contains '\\' (use '/' between folders)";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'contains a control character';
  for (const segment of key.split('/')) {
    if (segment === '..') return "contains '..' (a key cannot leave the destination)";
    if (segment === '.') return "contains a '.' segment";
    if (segment === '') return "contains an empty segment ('//' or a trailing '/')";
  }
  return undefined;
}

/** Throws a non-retryable error naming the destination unless `key` is a plain relative key. */
export function checkKey(description: string, key: string): void {
  const problem = typeof key === 'string' ? keyProblem(key) : 'is not a string';
  if (problem) throw new DestinationError(`${description}: the key ${JSON.stringify(key)} ${problem}.`, { retryable: false });
}

/** Like `checkKey`, for a listing prefix: empty, or a key, or a key followed by '/'. */
export function checkPrefix(description: string, prefix: string): void {
  if (prefix === '') return;
  checkKey(description, prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/**
 * The lifecycle of an `ObjectWrite` shared by the destinations: `done()` runs `commit` once (it ends with the
 * object in place, or with nothing and an error); `abort()` before `done()` resolved destroys the stream, waits for a
 * pending commit and calls `discard` (remove the staged bytes) or `remove` (the object a racing commit put in place).
 */
export function stagedWrite(
  stream: Writable,
  describe: string,
  steps: { commit(): Promise<ObjectInfo>; discard(): Promise<void>; remove(): Promise<void> },
): ObjectWrite {
  let aborted = false;
  let committed = false;
  let pending: Promise<ObjectInfo> | undefined;
  const abortedError = () => new DestinationError(`${describe}: the write was aborted; nothing was written.`);
  // A failed stream reports through `done()`; without a listener its 'error' event would crash the process.
  stream.on('error', () => undefined);
  return {
    stream,
    done() {
      pending ??= (async () => {
        if (aborted) throw abortedError();
        const info = await steps.commit();
        if (aborted) {
          await steps.remove();
          throw abortedError();
        }
        committed = true;
        return info;
      })();
      return pending;
    },
    async abort() {
      if (committed || aborted) return;
      aborted = true;
      if (!stream.destroyed) stream.destroy(new DestinationError(`${describe}: aborted`));
      if (pending) await pending.catch(() => undefined);
      else await steps.discard();
    },
  };
}

/** Runs `fn` over `items` with at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * `putJson` of both destinations: indented, newline-terminated JSON written through `write` with its sha256 known up
 * front (so S3 stores the metadata with the one PUT).
 */
export function writeJson(destination: Destination, key: string, value: unknown): Promise<ObjectInfo> {
  const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  const write = destination.write(key, { contentType: 'application/json', sha256: createHash('sha256').update(body).digest('hex') });
  write.stream.end(body);
  return write.done();
}

/** `getJson` of both destinations, once the text is read: parsed, or a non-retryable error naming the key. */
export function parseJson<T>(description: string, key: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new DestinationError(`${description}: '${key}' is not valid JSON (${(error as Error).message}).`, { retryable: false });
  }
}

/**
 * A generic HTTP JSON API under lastmile's contract (docs/reverse-etl.md): one batch per request, carrying its
 * idempotency key in the `Idempotency-Key` header and the body; the answer lists one result per operation.
 */
import { SyncError } from '../errors.js';
import { excerpt, sendWithRetries, shownUrl } from './http-send.js';
import type { DestinationAdapter, RowOutcome, RowStatus, SendBatch } from './types.js';

export interface HttpAdapterOptions {
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  /** the bearer token's value, when the destination has one */
  token?: string | undefined;
  timeoutMs: number;
  /** attempts per request for timeouts, network errors and 5xx */
  attempts?: number;
  backoffMs?: (attempt: number) => number;
}

const STATUSES: readonly RowStatus[] = ['applied', 'unchanged', 'rejected', 'transient'];

export function httpDestination(options: HttpAdapterOptions): DestinationAdapter {
  const secrets = options.token ? [options.token] : [];
  const label = `${options.method} ${shownUrl(options.url, secrets)}`;

  return {
    label,
    maxBatch: 10_000,
    async prepare() {
      // nothing to ask first: the contract has no probe, and the first batch answers for the token
    },
    async send(batch: SendBatch): Promise<RowOutcome[]> {
      const body = {
        idempotencyKey: batch.idempotencyKey,
        batch: batch.batch,
        operations: batch.rows.map((row) => ({ op: row.op, key: row.key, record: row.record, ...(row.remoteId !== null && { id: row.remoteId }) })),
      };
      const answer = await sendWithRetries(
        { method: options.method, url: options.url, headers: { 'idempotency-key': batch.idempotencyKey }, json: body, ...(options.token !== undefined && { bearer: options.token }) },
        {
          label,
          timeoutMs: options.timeoutMs,
          pace: batch.pace,
          rows: batch.rows.length,
          stats: batch.stats,
          secrets,
          signal: batch.signal,
          ...(options.attempts !== undefined && { attempts: options.attempts }),
          ...(options.backoffMs && { backoffMs: options.backoffMs }),
        },
      );
      const said = excerpt(answer.text, secrets);
      if (answer.status === 401 || answer.status === 403) {
        throw new SyncError(`${label} refused the token (HTTP ${answer.status}${said ? `: ${said}` : ''}). Check the secret the destination's auth names and what it may do.`, { retryable: false });
      }
      if (answer.status === 404 || answer.status === 405) {
        throw new SyncError(`${label} answered HTTP ${answer.status}${said ? `: ${said}` : ''}. Check the destination's url and method.`, { retryable: false });
      }
      if (answer.status === 413) {
        throw new SyncError(`${label} found a batch of ${batch.rows.length} records too large (HTTP 413). Lower the target's batchSize.`, { retryable: false });
      }
      if (answer.status === 409) {
        // the same idempotency key is still being applied by the destination: ask again later
        throw new SyncError(`${label} is still applying batch ${batch.idempotencyKey} (HTTP 409); it is asked again.`, { retryable: true });
      }
      const results = resultsOf(answer.json);
      if (answer.status >= 200 && answer.status < 300 && results === undefined) {
        if (answer.text.trim() !== '' && answer.json === undefined) {
          throw new SyncError(`${label} answered HTTP ${answer.status} with a body that is not JSON: ${said}`, { retryable: false });
        }
        // a 2xx without results: the contract says every operation was applied
        return batch.rows.map((row) => ({ seq: row.seq, status: 'applied' }));
      }
      if (results === undefined) {
        // a 4xx for the whole batch: every row refused with the destination's words
        const reason = `HTTP ${answer.status}${said ? `: ${said}` : ''}`;
        return batch.rows.map((row) => ({ seq: row.seq, status: 'rejected', reason }));
      }
      return batch.rows.map((row, index): RowOutcome => {
        const result = results.get(index);
        if (!result) return { seq: row.seq, status: 'transient', reason: 'the destination reported no result for this operation' };
        return {
          seq: row.seq,
          status: result.status,
          ...(result.reason !== undefined && { reason: excerpt(result.reason, secrets) }),
          ...(result.id !== undefined && { remoteId: result.id }),
        };
      });
    },
    async close() {},
  };
}

interface Result {
  status: RowStatus;
  reason?: string;
  id?: string;
}

/** `{ results: [{ index?, status, reason?, id? }] }` by operation index; undefined when the body has no results list. */
function resultsOf(json: unknown): Map<number, Result> | undefined {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { results?: unknown }).results)) return undefined;
  const map = new Map<number, Result>();
  (json as { results: unknown[] }).results.forEach((item, position) => {
    if (typeof item !== 'object' || item === null) return;
    const entry = item as { index?: unknown; status?: unknown; reason?: unknown; id?: unknown };
    const index = typeof entry.index === 'number' && Number.isInteger(entry.index) ? entry.index : position;
    const status = STATUSES.find((s) => s === entry.status);
    if (!status) {
      map.set(index, { status: 'transient', reason: `the destination answered an unknown status ${JSON.stringify(entry.status)}` });
      return;
    }
    map.set(index, {
      status,
      ...(typeof entry.reason === 'string' && { reason: entry.reason }),
      ...((typeof entry.id === 'string' || typeof entry.id === 'number') && { id: String(entry.id) }),
    });
  });
  return map;
}

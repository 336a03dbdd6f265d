/**
 * POSTs one lineage event to the environment's receiver, as the OpenLineage HTTP transport does: JSON body, the API
 * key as a bearer token, plus an `Idempotency-Key` (`<run UUID>/<event type>`) for a receiver that drops repeats —
 * should a process die between the send and its record, the event is sent again. Says how the attempt ended instead
 * of throwing; no message carries the API key (the URL holds no credentials: validation refuses them).
 */
import { networkCause, redact } from '../net/http-errors.js';
import { resolveSecret } from '../product/secret.js';
import { receiverLabel, type ResolvedLineage } from './config.js';
import type { SendOutcome } from './outbox.js';
import type { LineageEventRecord } from './types.js';

export interface SendOptions {
  fetch?: typeof fetch;
  /** where the API key's variable is read; default `process.env`, at send time */
  variables?: NodeJS.ProcessEnv;
}

/** Answers that mean the receiver refused this event for good: sending it again cannot help. */
const REFUSED = new Set([400, 413, 415, 422]);

/** The key a receiver can drop repeats by: the same for every attempt at one event. */
export function idempotencyKey(event: Pick<LineageEventRecord, 'payload'>): string {
  return `${event.payload.run.runId}/${event.payload.eventType}`;
}

export async function sendLineageEvent(lineage: ResolvedLineage, event: LineageEventRecord, options: SendOptions = {}): Promise<SendOutcome> {
  const label = receiverLabel(lineage);
  let apiKey: string | undefined;
  if (lineage.apiKey) {
    try {
      apiKey = resolveSecret(lineage.apiKey, `the lineage of environment ${event.env} (lineage.apiKey)`, options.variables);
    } catch (error) {
      return { kind: 'failed', error: error instanceof Error ? error.message : String(error) };
    }
  }
  const secrets = apiKey ? [apiKey] : [];
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(lineage.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey(event),
        ...(apiKey !== undefined && { authorization: `Bearer ${apiKey}` }),
      },
      body: JSON.stringify(event.payload),
      signal: AbortSignal.timeout(lineage.timeoutMs),
    });
  } catch (error) {
    return { kind: 'failed', error: `${label} could not be reached: ${networkCause(error, lineage.timeoutMs)}` };
  }
  const answer = await response.text().catch(() => '');
  if (response.ok) return { kind: 'delivered' };
  const said = redact(answer, secrets).replace(/\s+/g, ' ').trim().slice(0, 200);
  const error = `${label} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${said ? `: ${said}` : ''}`;
  if (REFUSED.has(response.status)) return { kind: 'rejected', error };
  return { kind: 'failed', error };
}

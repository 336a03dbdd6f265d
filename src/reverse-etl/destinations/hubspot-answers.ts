/**
 * Reading HubSpot's CRM v3 answers for the HubSpot adapter (./hubspot.ts): batch results and errors (200 / 201 / 207
 * Multi-Status), whole-request errors (`{ status: 'error', category, message, context? }`), 429 policies, and the
 * rows an answer names. Every reason shown is free of the token.
 */
import { SyncError } from '../errors.js';
import { excerpt, type SyncAnswer } from './http-send.js';
import type { OutgoingRow, RowOutcome } from './types.js';

export interface BatchResult {
  id: string;
  properties: Record<string, unknown>;
}

export interface BatchError {
  category: string;
  message: string;
  /** the inputs the error names (`context.ids`, or `context.id`) */
  ids: string[];
}

export interface AnswerContext {
  label: string;
  objectType: string;
  secrets: readonly string[];
  /** the scope the request needs, for the token message */
  scope: string;
}

/** `results` and `errors` of a batch answer; empty lists when the body has none. */
export function batchAnswerOf(json: unknown): { results: BatchResult[]; errors: BatchError[] } {
  const body = isObject(json) ? json : {};
  const results: BatchResult[] = [];
  for (const item of Array.isArray(body.results) ? body.results : []) {
    if (!isObject(item) || (typeof item.id !== 'string' && typeof item.id !== 'number')) continue;
    results.push({ id: String(item.id), properties: isObject(item.properties) ? item.properties : {} });
  }
  const errors = (Array.isArray(body.errors) ? body.errors : []).map(errorOf).filter((error): error is BatchError => error !== undefined);
  return { results, errors };
}

/** One HubSpot error object; undefined when `json` is not one. */
export function errorOf(json: unknown): BatchError | undefined {
  if (!isObject(json) || (typeof json.message !== 'string' && typeof json.category !== 'string')) return undefined;
  const context = isObject(json.context) ? json.context : {};
  const named = Array.isArray(context.ids) ? context.ids : context.id !== undefined ? [context.id] : [];
  return {
    category: typeof json.category === 'string' ? json.category : 'ERROR',
    message: typeof json.message === 'string' ? json.message : '',
    ids: named.filter((id) => typeof id === 'string' || typeof id === 'number').map(String),
  };
}

export function reasonOf(error: BatchError, secrets: readonly string[]): string {
  return excerpt(`${error.category}: ${error.message}`, secrets);
}

/** How long a 429 asks to wait, by HubSpot's policy in the body; the daily limit ends the batch instead of spinning. */
export function throttleWaitMs(label: string): (answer: SyncAnswer) => number {
  return (answer) => {
    const policy = isObject(answer.json) && typeof answer.json.policyName === 'string' ? answer.json.policyName.toUpperCase() : '';
    if (policy === 'DAILY') {
      throw new SyncError(`${label}: the HubSpot account's daily API limit is reached (HTTP 429, policy DAILY); the batch is sent again later, after HubSpot resets the limit.`, { retryable: true });
    }
    return policy === 'TEN_SECONDLY_ROLLING' ? 10_000 : 1_000;
  };
}

/**
 * Rows by the value HubSpot echoes for them: exactly, else ignoring case and surrounding spaces (HubSpot stores
 * emails lowercased, so a result may spell the key differently from the row).
 */
export class RowsByValue {
  private readonly exact = new Map<string, OutgoingRow[]>();
  private readonly loose = new Map<string, OutgoingRow[]>();

  constructor(rows: readonly OutgoingRow[], valueOf: (row: OutgoingRow) => string | undefined) {
    for (const row of rows) {
      const value = valueOf(row);
      if (value === undefined) continue;
      push(this.exact, value, row);
      push(this.loose, value.trim().toLowerCase(), row);
    }
  }

  find(value: unknown): OutgoingRow[] {
    if (typeof value !== 'string' && typeof value !== 'number') return [];
    const text = String(value);
    return this.exact.get(text) ?? this.loose.get(text.trim().toLowerCase()) ?? [];
  }
}

/** The token was refused: no retry fixes that. */
export function tokenError(answer: SyncAnswer, context: AnswerContext): SyncError {
  const said = excerpt(answer.text, context.secrets);
  return new SyncError(
    `HubSpot refused the token for ${context.objectType} (HTTP ${answer.status}${said ? `: ${said}` : ''}); check the private app's token and its scopes, e.g. ${context.scope}.`,
    { retryable: false },
  );
}

/**
 * Outcomes of a request HubSpot refused as a whole (4xx): the rows its error names are rejected; when it names none,
 * every row is (a retry of the same rows will not fix it); when it names some, the others were not applied and are
 * sent again. Throws for a refused token (401/403) and an unknown object type (404).
 */
export function refusedRows(answer: SyncAnswer, rows: readonly OutgoingRow[], named: RowsByValue, context: AnswerContext): RowOutcome[] {
  if (answer.status === 401 || answer.status === 403) throw tokenError(answer, context);
  if (answer.status === 404) {
    const said = excerpt(answer.text, context.secrets);
    throw new SyncError(`HubSpot has no object type '${context.objectType}' (HTTP 404${said ? `: ${said}` : ''}); check the target's objectType (contacts, companies, deals, or a custom object's id such as 2-1234567).`, {
      retryable: false,
    });
  }
  const error = errorOf(answer.json);
  const said = excerpt(answer.text, context.secrets);
  const reason = error ? reasonOf(error, context.secrets) : `HTTP ${answer.status}${said ? `: ${said}` : ''}`;
  const rejected = new Set((error?.ids ?? []).flatMap((id) => named.find(id)).map((row) => row.seq));
  return rows.map((row): RowOutcome => {
    if (rejected.size === 0 || rejected.has(row.seq)) return { seq: row.seq, status: 'rejected', reason };
    return { seq: row.seq, status: 'transient', reason: `not applied: HubSpot refused the request over other rows in it (${reason})` };
  });
}

function push(map: Map<string, OutgoingRow[]>, value: string, row: OutgoingRow): void {
  const rows = map.get(value);
  if (rows) rows.push(row);
  else map.set(value, [row]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

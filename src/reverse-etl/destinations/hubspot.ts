/**
 * HubSpot's CRM v3 objects batch API: upserts and updates by a unique property (`idProperty`), creates, and archives
 * by HubSpot's object id, at most 100 inputs a request. Rows of one batch are grouped by op (one request per op group,
 * in the order the ops first appear); answers are matched back to rows by the idProperty value HubSpot echoes.
 * A create is not idempotent: a batch sent again after an unknown outcome (and a create retried after a timeout or a
 * 5xx) looks its rows up first, so HubSpot never holds a record twice.
 */
import { SyncError } from '../errors.js';
import { createPace } from '../pace.js';
import { batchAnswerOf, reasonOf, refusedRows, RowsByValue, throttleWaitMs, tokenError, type AnswerContext } from './hubspot-answers.js';
import { excerpt, sendWithRetries, type SyncAnswer } from './http-send.js';
import type { DestinationAdapter, JsonValue, OutgoingRow, RowOutcome, SendBatch, SyncOp } from './types.js';

export interface HubspotAdapterOptions {
  /** `https://api.hubapi.com` (tests: a local stand-in) */
  baseUrl: string;
  /** `contacts`, `companies`, `deals`, … or a custom object's id */
  objectType: string;
  /** the unique property rows are matched by (`email`, a custom unique property, or `hs_object_id`) */
  idProperty: string;
  /** the private app's access token */
  token: string;
  timeoutMs: number;
  /** attempts per request for timeouts, network errors and 5xx */
  attempts?: number;
  backoffMs?: (attempt: number) => number;
}

/** HubSpot's limit of inputs per batch request. */
const MAX_INPUTS = 100;

interface Lookup {
  found: Map<number, string>;
  absent: OutgoingRow[];
  /** rows whose lookup failed, with their outcome */
  failed: RowOutcome[];
}

export function hubspotDestination(options: HubspotAdapterOptions): DestinationAdapter {
  const { objectType, idProperty, token } = options;
  const label = `HubSpot ${objectType}`;
  const secrets = [token];
  const base = options.baseUrl.replace(/\/+$/, '');
  const objectsUrl = `${base}/crm/v3/objects/${encodeURIComponent(objectType)}/batch`;
  /** `hs_object_id` is HubSpot's own id: sent as `id` without idProperty, never as a property */
  const byObjectId = idProperty === 'hs_object_id';
  const custom = /^(\d+-\d+|p_.+)$/.test(objectType);
  const context: AnswerContext = { label, objectType, secrets, scope: custom ? 'crm.objects.custom.write' : `crm.objects.${objectType}.write` };
  const throttle = throttleWaitMs(label);

  const keyOf = (row: OutgoingRow): string | undefined => {
    const value = row.key[idProperty];
    return value === null || value === undefined ? undefined : String(value);
  };
  const byKey = (rows: readonly OutgoingRow[]) => new RowsByValue(rows, keyOf);

  const post = (batch: SendBatch, action: string, json: unknown, rows: number): Promise<SyncAnswer> =>
    sendWithRetries(
      { method: 'POST', url: `${objectsUrl}/${action}`, bearer: token, json },
      {
        label,
        timeoutMs: options.timeoutMs,
        pace: batch.pace,
        rows,
        stats: batch.stats,
        secrets,
        signal: batch.signal,
        throttleWaitMs: throttle,
        ...(options.attempts !== undefined && { attempts: options.attempts }),
        ...(options.backoffMs && { backoffMs: options.backoffMs }),
      },
    );

  const propertiesOf = (row: OutgoingRow): Record<string, string | number | boolean> => {
    const properties: Record<string, string | number | boolean> = {};
    for (const [name, value] of Object.entries(row.record ?? {})) properties[name] = propertyValue(value);
    // sent among the properties too, so HubSpot echoes it in the results and a create can be looked up by it
    if (!byObjectId) properties[idProperty] = keyOf(row)!;
    return properties;
  };
  const identified = (row: OutgoingRow) => ({ ...(!byObjectId && { idProperty }), id: keyOf(row)!, properties: propertiesOf(row) });

  /** Outcomes of a write (upsert, update, create) from its answer. */
  const written = (answer: SyncAnswer, rows: OutgoingRow[]): RowOutcome[] => {
    const named = byKey(rows);
    if (answer.status < 200 || answer.status >= 300) return refusedRows(answer, rows, named, context);
    const { results, errors } = batchAnswerOf(answer.json);
    const outcomes = new Map<number, RowOutcome>();
    for (const error of errors) {
      for (const row of error.ids.flatMap((id) => named.find(id))) outcomes.set(row.seq, { seq: row.seq, status: 'rejected', reason: reasonOf(error, secrets) });
    }
    for (const result of results) {
      const echoed = byObjectId ? result.id : result.properties[idProperty];
      for (const row of named.find(echoed)) outcomes.set(row.seq, { seq: row.seq, status: 'applied', remoteId: result.id });
    }
    return rows.map((row) => outcomes.get(row.seq) ?? { seq: row.seq, status: 'transient', reason: `${label} returned no result for this row` });
  };

  /** Finds rows' records by idProperty (batch/read). */
  const lookup = async (batch: SendBatch, rows: OutgoingRow[]): Promise<Lookup> => {
    const inputs = rows.map((row) => ({ id: keyOf(row)! }));
    const body = byObjectId ? { inputs, properties: [] } : { idProperty, inputs, properties: [idProperty] };
    const answer = await post(batch, 'read', body, rows.length);
    const named = byKey(rows);
    if (answer.status < 200 || answer.status >= 300) return { found: new Map(), absent: [], failed: refusedRows(answer, rows, named, context) };
    const { results, errors } = batchAnswerOf(answer.json);
    const found = new Map<number, string>();
    for (const result of results) for (const row of named.find(byObjectId ? result.id : result.properties[idProperty])) found.set(row.seq, result.id);
    // "not found" is an answer; any other error leaves the rows it names (or, naming none, every row) unknown
    const unsure = new Map<number, string>();
    for (const error of errors.filter((e) => e.category !== 'OBJECT_NOT_FOUND')) {
      for (const row of error.ids.length > 0 ? error.ids.flatMap((id) => named.find(id)) : rows) unsure.set(row.seq, reasonOf(error, secrets));
    }
    const failed: RowOutcome[] = [];
    const absent: OutgoingRow[] = [];
    for (const row of rows) {
      if (found.has(row.seq)) continue;
      const reason = unsure.get(row.seq);
      if (reason === undefined) absent.push(row);
      else failed.push({ seq: row.seq, status: 'transient', reason: `${label} could not look the row up: ${reason}` });
    }
    return { found, absent, failed };
  };

  const applied = (found: Map<number, string>): RowOutcome[] => [...found].map(([seq, remoteId]) => ({ seq, status: 'applied', remoteId }));

  const ops: Record<SyncOp, (batch: SendBatch, rows: OutgoingRow[]) => Promise<RowOutcome[]>> = {
    upsert: async (batch, rows) => written(await post(batch, 'upsert', { inputs: rows.map(identified) }, rows.length), rows),
    update: async (batch, rows) => written(await post(batch, 'update', { inputs: rows.map(identified) }, rows.length), rows),
    insert: async (batch, rows) => {
      const outcomes: RowOutcome[] = [];
      let pending = rows;
      if (batch.resent) {
        // an earlier send may have created them: those found are done, only the rest are created
        batch.stats.lookedUp += rows.length;
        const looked = await lookup(batch, rows);
        outcomes.push(...applied(looked.found), ...looked.failed);
        pending = looked.absent;
      }
      if (pending.length === 0) return outcomes;
      const retriesBefore = batch.stats.retries;
      let created = written(await post(batch, 'create', { inputs: pending.map((row) => ({ properties: propertiesOf(row) })) }, pending.length), pending);
      if (batch.stats.retries > retriesBefore) {
        // a try that timed out (or answered 5xx) may have created rows this try then found taken or did not report
        const unsure = new Set(created.filter((o) => o.status === 'transient' || (o.status === 'rejected' && o.reason?.startsWith('CONFLICT'))).map((o) => o.seq));
        if (unsure.size > 0) {
          const again = pending.filter((row) => unsure.has(row.seq));
          batch.stats.lookedUp += again.length;
          const looked = await lookup(batch, again);
          created = created.map((o) => (looked.found.has(o.seq) ? { seq: o.seq, status: 'applied', remoteId: looked.found.get(o.seq)! } : o));
        }
      }
      return [...outcomes, ...created];
    },
    delete: async (batch, rows) => {
      const outcomes: RowOutcome[] = [];
      const ids = new Map<number, string>(rows.filter((row) => row.remoteId !== null).map((row) => [row.seq, row.remoteId!]));
      const unknown = rows.filter((row) => row.remoteId === null);
      if (unknown.length > 0) {
        const looked = await lookup(batch, unknown);
        for (const [seq, id] of looked.found) ids.set(seq, id);
        outcomes.push(...looked.failed, ...looked.absent.map((row): RowOutcome => ({ seq: row.seq, status: 'unchanged', reason: `${label} holds no record with this ${idProperty}` })));
      }
      const archived = rows.filter((row) => ids.has(row.seq));
      if (archived.length === 0) return outcomes;
      const answer = await post(batch, 'archive', { inputs: [...new Set(ids.values())].map((id) => ({ id })) }, archived.length);
      if (answer.status >= 200 && answer.status < 300) {
        // 204 No Content: archived (HubSpot also answers so for ids already gone)
        return [...outcomes, ...archived.map((row): RowOutcome => ({ seq: row.seq, status: 'applied', remoteId: ids.get(row.seq)! }))];
      }
      return [...outcomes, ...refusedRows(answer, archived, new RowsByValue(archived, (row) => ids.get(row.seq)), context)];
    },
  };

  return {
    label,
    maxBatch: MAX_INPUTS,
    async prepare() {
      const answer = await sendWithRetries(
        { method: 'GET', url: `${base}/crm/v3/properties/${encodeURIComponent(objectType)}/${encodeURIComponent(idProperty)}`, bearer: token },
        {
          label,
          timeoutMs: options.timeoutMs,
          pace: createPace({}),
          rows: 0,
          stats: { requests: 0, throttled: 0, retries: 0, lookedUp: 0 },
          secrets,
          throttleWaitMs: throttle,
          ...(options.attempts !== undefined && { attempts: options.attempts }),
          ...(options.backoffMs && { backoffMs: options.backoffMs }),
        },
      );
      if (answer.status === 401 || answer.status === 403) throw tokenError(answer, { ...context, scope: `${context.scope} and crm.schemas.${custom ? 'custom' : objectType}.read` });
      if (answer.status === 404) throw new SyncError(`HubSpot has no property '${idProperty}' on ${objectType}: create it as a unique property`, { retryable: false });
      if (answer.status < 200 || answer.status >= 300) {
        throw new SyncError(`${label} answered HTTP ${answer.status} for property '${idProperty}': ${excerpt(answer.text, secrets)}`, { retryable: false });
      }
      const unique = (answer.json as { hasUniqueValue?: unknown } | undefined)?.hasUniqueValue;
      if (unique === false && idProperty !== 'email' && idProperty !== 'hs_object_id') {
        throw new SyncError(
          `HubSpot property '${idProperty}' on ${objectType} does not have unique values: HubSpot can only match records by a unique property. Use email, hs_object_id, or a property created with "unique value" set.`,
          { retryable: false },
        );
      }
    },
    async send(batch: SendBatch): Promise<RowOutcome[]> {
      const outcomes = new Map<number, RowOutcome>();
      const groups = new Map<SyncOp, OutgoingRow[]>();
      for (const row of batch.rows) {
        if (keyOf(row) === undefined && !(row.op === 'delete' && row.remoteId !== null)) {
          if (!(idProperty in row.key)) {
            throw new SyncError(`${label}: the rows' key has no field '${idProperty}' (the target's idProperty); map the key column to it.`, { retryable: false });
          }
          outcomes.set(row.seq, { seq: row.seq, status: 'rejected', reason: `the row has no value for ${idProperty}, which HubSpot matches records by` });
          continue;
        }
        const group = groups.get(row.op);
        if (group) group.push(row);
        else groups.set(row.op, [row]);
      }
      for (const [op, rows] of groups) {
        for (const chunk of chunksOf(rows, (row) => keyOf(row) ?? `#${row.seq}`)) {
          for (const outcome of await ops[op](batch, chunk)) outcomes.set(outcome.seq, outcome);
        }
      }
      return batch.rows.map((row) => outcomes.get(row.seq) ?? { seq: row.seq, status: 'transient', reason: `${label} returned no result for this row` });
    },
    async close() {},
  };
}

/** A record field as a HubSpot property value: null clears the property (""), objects and arrays go as JSON text. */
function propertyValue(value: JsonValue): string | number | boolean {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

/**
 * Requests of at most 100 inputs, none naming the same key twice (HubSpot refuses duplicate ids in one batch): a
 * row whose key is already in a request goes to a later one, so rows of one key are still applied in order.
 */
function chunksOf(rows: readonly OutgoingRow[], keyOf: (row: OutgoingRow) => string): OutgoingRow[][] {
  const chunks: OutgoingRow[][] = [];
  const lastChunk = new Map<string, number>();
  for (const row of rows) {
    const key = keyOf(row);
    let index = (lastChunk.get(key) ?? -1) + 1;
    while (index < chunks.length && chunks[index].length >= MAX_INPUTS) index += 1;
    if (index === chunks.length) chunks.push([]);
    chunks[index].push(row);
    lastChunk.set(key, index);
  }
  return chunks;
}

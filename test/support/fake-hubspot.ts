/**
 * A local stand-in for HubSpot's CRM v3 API (node:http on 127.0.0.1, a free port), holding records in memory for
 * one or more object types, as HubSpot documents the endpoints:
 * - `POST /crm/v3/objects/{type}/batch/upsert` `{ inputs: [{ idProperty, id, properties }] }` → 200 results with `new`;
 * - `POST …/batch/create` `{ inputs: [{ properties }] }` → 201; a unique value already taken is a CONFLICT;
 * - `POST …/batch/update` `{ inputs: [{ id, idProperty?, properties }] }` → 200; records not found → 207 errors;
 * - `POST …/batch/read` `{ idProperty?, inputs: [{ id }], properties }` → 200; records not found → 207 errors;
 * - `POST …/batch/archive` `{ inputs: [{ id }] }` (HubSpot object ids) → 204, also for ids already gone;
 * - `GET /crm/v3/properties/{type}/{name}` → 200 `{ name, hasUniqueValue, … }` or 404.
 * Errors are HubSpot's shape `{ status: 'error', category, message, correlationId, context? }`; more than 100 inputs,
 * duplicate ids in one batch and a non-unique idProperty are 400 VALIDATION_ERROR; a wrong bearer token is 401.
 *
 * Assumptions where HubSpot's documentation leaves room (or where tests need room):
 * - batch/create with some inputs whose unique value is taken answers 207 Multi-Status: results for the others and one
 *   CONFLICT error per duplicate naming its value in `context.ids` (HubSpot answers so when multi-status answers
 *   are enabled); when every input is a duplicate it answers 409 CONFLICT for the whole request, without context,
 *   like HubSpot's "already exists. Existing ID: …" error;
 * - rows `rejectWhen` refuses are per-row VALIDATION_ERRORs in a 207, naming the row's id in `context.ids` (for a
 *   create, which has no id, the input's unique property values);
 * - any property name is accepted (HubSpot refuses properties that do not exist), so tests can send odd names;
 * - values are stored as strings, as HubSpot does; `""` clears a property (it leaves the record); emails are
 *   stored lowercased, as HubSpot does;
 * - `email` is unique for every object type but, as in HubSpot, its property reports `hasUniqueValue: false`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRecord {
  id: string;
  properties: Record<string, string>;
}

export interface FakeHubspotOptions {
  /** the private app token every request must carry as `Authorization: Bearer …` (default: a made-up one) */
  token?: string;
  /**
   * Object types (default `{ contacts: {} }`): `unique` properties besides `email`, other `properties` the
   * properties endpoint knows (with `hasUniqueValue: false`).
   */
  objectTypes?: Record<string, { unique?: string[]; properties?: string[] }>;
}

export interface FakeRequest {
  method: string;
  path: string;
  /** the body exactly as it arrived */
  raw: Buffer;
  /** the body parsed; undefined when empty or not JSON */
  body: unknown;
}

export interface FakeHubspotCounts {
  /** requests by path (every request, including refused ones) */
  requests: Record<string, number>;
  /** records created through the API, by object type (seeded ones not counted) */
  created: Record<string, number>;
  /** requests answered 429 by the rate limit */
  rateLimited: number;
  /** requests answered by `failNext` */
  failed: number;
}

export type RejectWhen = (properties: Record<string, unknown>, objectType: string) => boolean | string;

export interface FakeHubspot {
  /** `http://127.0.0.1:<port>` */
  url: string;
  token: string;
  /** the stored records of a type, by id, as copies */
  records(objectType: string): FakeRecord[];
  /** stores a record directly (not counted as created) */
  seed(objectType: string, properties: Record<string, string>): FakeRecord;
  counts: FakeHubspotCounts;
  requests: FakeRequest[];
  /** answers 429 (HubSpot's SECONDLY body, no Retry-After) once more than `perSecond` requests came in the last second; null: no limit */
  rateLimit(perSecond: number | null): void;
  /** answers the next `n` requests with `status` (default 500), applying nothing */
  failNext(n: number, status?: number): void;
  /** applies the next `n` requests at once but answers them `ms` later (a client timing out meets an unknown outcome) */
  delayNext(n: number, ms: number): void;
  /** per-row VALIDATION_ERRORs for inputs whose properties match (a string: the message); null: none */
  rejectWhen(predicate: RejectWhen | null): void;
  /** answers the next request with exactly this, applying nothing */
  answerNext(status: number, body?: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Stored extends FakeRecord {
  createdAt: string;
  updatedAt: string;
}

interface HubspotError {
  status: 'error';
  category: string;
  message: string;
  context?: { ids: string[] };
}

const MAX_INPUTS = 100;

export async function startFakeHubspot(options: FakeHubspotOptions = {}): Promise<FakeHubspot> {
  const token = options.token ?? 'pat-na1-11111111-2222-3333-4444-555555555555';
  const types = new Map(
    Object.entries(options.objectTypes ?? { contacts: {} }).map(([name, type]) => [
      name,
      { unique: new Set(['email', ...(type.unique ?? [])]), properties: new Set(type.properties ?? []), records: new Map<string, Stored>() },
    ]),
  );
  type Type = NonNullable<ReturnType<typeof types.get>>;
  const counts: FakeHubspotCounts = { requests: {}, created: {}, rateLimited: 0, failed: 0 };
  const requests: FakeRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let nextId = 1;
  let correlation = 0;
  let limit: number | null = null;
  let window: number[] = [];
  let failing = { n: 0, status: 500 };
  let delaying = { n: 0, ms: 0 };
  let reject: RejectWhen | null = null;
  const scripted: Answer[] = [];

  const error = (category: string, message: string, ids?: string[]): HubspotError => ({ status: 'error', category, message, ...(ids && { context: { ids } }) });
  const refuse = (status: number, category: string, message: string, ids?: string[]): Answer => ({
    status,
    body: { ...error(category, message, ids), correlationId: `fake-${++correlation}` },
  });
  const stringValue = (name: string, value: unknown): string => {
    const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    return name === 'email' ? text.trim().toLowerCase() : text;
  };
  const findBy = (type: Type, property: string, value: unknown): Stored | undefined => {
    if (property === 'hs_object_id') return type.records.get(String(value));
    const wanted = stringValue(property, value);
    for (const record of type.records.values()) if (record.properties[property] === wanted) return record;
    return undefined;
  };
  const write = (record: Stored, properties: Record<string, unknown>): void => {
    for (const [name, value] of Object.entries(properties)) {
      const text = stringValue(name, value);
      if (text === '') delete record.properties[name];
      else record.properties[name] = text;
    }
    record.updatedAt = new Date().toISOString();
  };
  const create = (objectType: string, type: Type, properties: Record<string, unknown>, counted: boolean): Stored => {
    const now = new Date().toISOString();
    const record: Stored = { id: String(nextId++), properties: {}, createdAt: now, updatedAt: now };
    write(record, properties);
    type.records.set(record.id, record);
    if (counted) counts.created[objectType] = (counts.created[objectType] ?? 0) + 1;
    return record;
  };
  const shown = (record: Stored, only?: readonly string[]) => {
    const properties: Record<string, string | null> = {};
    for (const [name, value] of Object.entries(record.properties)) if (!only || only.includes(name)) properties[name] = value;
    return {
      id: record.id,
      properties: { ...properties, hs_object_id: record.id, createdate: record.createdAt, lastmodifieddate: record.updatedAt },
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      archived: false,
    };
  };
  const batchAnswer = (results: unknown[], errors: HubspotError[], okStatus = 200): Answer => {
    const at = new Date().toISOString();
    if (errors.length === 0) return { status: okStatus, body: { status: 'COMPLETE', results, startedAt: at, completedAt: at } };
    return { status: 207, body: { status: 'COMPLETE', results, numErrors: errors.length, errors, startedAt: at, completedAt: at } };
  };
  const rejected = (properties: Record<string, unknown>, objectType: string): string | undefined => {
    const said = reject?.(properties, objectType);
    if (!said) return undefined;
    return typeof said === 'string' ? said : 'Property values were not valid';
  };

  function batch(objectType: string, type: Type, action: string, body: Record<string, unknown>): Answer {
    const inputs = body.inputs;
    if (!Array.isArray(inputs) || inputs.some((input) => typeof input !== 'object' || input === null)) {
      return refuse(400, 'VALIDATION_ERROR', 'Invalid input JSON: inputs must be a list of objects');
    }
    if (inputs.length > MAX_INPUTS) return refuse(400, 'VALIDATION_ERROR', `Batch of ${inputs.length} inputs exceeds the limit of ${MAX_INPUTS} inputs a request`);
    const items = inputs as Array<{ id?: unknown; idProperty?: unknown; properties?: Record<string, unknown> }>;
    if (action === 'create') return batchCreate(objectType, type, items);
    // every other action names records by `id`, in the idProperty's terms (or HubSpot's object id)
    const idProperty = String((action === 'read' ? body.idProperty : items[0]?.idProperty) ?? 'hs_object_id');
    if (idProperty !== 'hs_object_id' && !type.unique.has(idProperty)) {
      return refuse(400, 'VALIDATION_ERROR', `${idProperty} is not a unique property of ${objectType}; records can only be identified by a unique property`);
    }
    const ids = items.map((item) => (typeof item.id === 'string' || typeof item.id === 'number' ? String(item.id) : ''));
    if (ids.includes('')) return refuse(400, 'VALIDATION_ERROR', 'Every input needs an id');
    const twice = ids.filter((id, index) => ids.indexOf(id) !== index);
    if (twice.length > 0 && action !== 'archive') return refuse(400, 'VALIDATION_ERROR', `Duplicate IDs found in batch input: ${JSON.stringify(twice)}`, twice);

    if (action === 'archive') {
      for (const id of ids) type.records.delete(id);
      return { status: 204 };
    }
    const errors: HubspotError[] = [];
    const missing: string[] = [];
    const results: unknown[] = [];
    if (action === 'read') {
      const wanted = Array.isArray(body.properties) ? body.properties.map(String) : [];
      for (const id of ids) {
        const record = findBy(type, idProperty, id);
        if (record) results.push(shown(record, wanted));
        else missing.push(id);
      }
    } else {
      items.forEach((item, index) => {
        const id = ids[index];
        const properties = item.properties ?? {};
        const refused = rejected(properties, objectType);
        if (refused !== undefined) {
          errors.push(error('VALIDATION_ERROR', refused, [id]));
          return;
        }
        const existing = findBy(type, idProperty, id);
        if (existing) {
          write(existing, properties);
          results.push(action === 'upsert' ? { ...shown(existing), new: false } : shown(existing));
        } else if (action === 'upsert') {
          results.push({ ...shown(create(objectType, type, { ...properties, [idProperty]: id }, true)), new: true });
        } else {
          missing.push(id);
        }
      });
    }
    if (missing.length > 0) {
      errors.push(error('OBJECT_NOT_FOUND', `Could not get some ${objectType.toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`, missing));
    }
    return batchAnswer(results, errors);
  }

  function batchCreate(objectType: string, type: Type, items: Array<{ properties?: Record<string, unknown> }>): Answer {
    const taken = new Map<string, Set<string>>([...type.unique].map((name) => [name, new Set<string>()]));
    const verdicts = items.map((item) => {
      const properties = item.properties ?? {};
      const refused = rejected(properties, objectType);
      if (refused !== undefined) return { properties, invalid: refused, named: uniqueValues(type, properties) };
      for (const name of type.unique) {
        if (properties[name] === undefined || stringValue(name, properties[name]) === '') continue;
        const existing = findBy(type, name, properties[name]);
        const value = stringValue(name, properties[name]);
        if (existing || taken.get(name)!.has(value)) {
          const raw = typeof properties[name] === 'string' ? (properties[name] as string) : value;
          return { properties, conflict: { name, raw, existing: existing?.id } };
        }
      }
      for (const name of type.unique) if (properties[name] !== undefined) taken.get(name)!.add(stringValue(name, properties[name]));
      return { properties };
    });
    if (verdicts.length > 0 && verdicts.every((verdict) => 'conflict' in verdict)) {
      const first = verdicts[0].conflict!;
      return refuse(409, 'CONFLICT', `${objectType} already exists with ${first.name} ${JSON.stringify(first.raw)}.${first.existing ? ` Existing ID: ${first.existing}` : ''}`);
    }
    const results: unknown[] = [];
    const errors: HubspotError[] = [];
    for (const verdict of verdicts) {
      if ('invalid' in verdict && verdict.invalid !== undefined) errors.push(error('VALIDATION_ERROR', verdict.invalid, verdict.named));
      else if ('conflict' in verdict && verdict.conflict) {
        const { name, raw, existing } = verdict.conflict;
        errors.push(error('CONFLICT', `A ${objectType} record already has ${name} ${JSON.stringify(raw)}.${existing ? ` Existing ID: ${existing}` : ''}`, [raw]));
      } else results.push(shown(create(objectType, type, verdict.properties, true)));
    }
    return batchAnswer(results, errors, 201);
  }

  function route(method: string, path: string, body: unknown): Answer {
    const objects = /^\/crm\/v3\/objects\/([^/]+)\/batch\/([a-z]+)$/.exec(path);
    if (objects) {
      const objectType = decodeURIComponent(objects[1]);
      const type = types.get(objectType);
      if (!type) return refuse(404, 'OBJECT_NOT_FOUND', `Unable to infer object type from: ${objectType}`);
      if (!['upsert', 'create', 'update', 'read', 'archive'].includes(objects[2])) return refuse(404, 'NOT_FOUND', `No route for ${path}`);
      if (method !== 'POST') return refuse(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here`);
      if (typeof body !== 'object' || body === null) return refuse(400, 'VALIDATION_ERROR', 'Invalid input JSON: the body must be an object');
      return batch(objectType, type, objects[2], body as Record<string, unknown>);
    }
    const property = /^\/crm\/v3\/properties\/([^/]+)\/([^/]+)$/.exec(path);
    if (property && method === 'GET') {
      const type = types.get(decodeURIComponent(property[1]));
      const name = decodeURIComponent(property[2]);
      const known = type && (type.unique.has(name) || type.properties.has(name) || name === 'hs_object_id');
      if (!type || !known) return refuse(404, 'OBJECT_NOT_FOUND', `Property ${name} does not exist`);
      const hasUniqueValue = type.unique.has(name) && name !== 'email';
      return { status: 200, body: { name, label: name, type: 'string', fieldType: 'text', hasUniqueValue, archived: false } };
    }
    return refuse(404, 'NOT_FOUND', `No route for ${method} ${path}`);
  }

  function answer(method: string, path: string, headers: http.IncomingHttpHeaders, body: unknown, raw: Buffer): Answer {
    if (headers.authorization !== `Bearer ${token}`) {
      return refuse(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication; see https://developers.hubspot.com/docs/methods/auth/oauth-overview');
    }
    const next = scripted.shift();
    if (next) return next;
    if (failing.n > 0) {
      failing.n -= 1;
      counts.failed += 1;
      return refuse(failing.status, 'INTERNAL_ERROR', 'internal error');
    }
    if (limit !== null) {
      const now = Date.now();
      window = window.filter((at) => now - at < 1000);
      if (window.length >= limit) {
        counts.rateLimited += 1;
        return { status: 429, body: { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', correlationId: `fake-${++correlation}`, policyName: 'SECONDLY' } };
      }
      window.push(now);
    }
    if (raw.length > 0 && body === undefined) return refuse(400, 'VALIDATION_ERROR', 'Invalid input JSON');
    return route(method, path, body);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const method = req.method ?? '';
      const body = parseBody(raw);
      requests.push({ method, path, raw, body });
      counts.requests[path] = (counts.requests[path] ?? 0) + 1;
      // applied now, whatever the delay of the answer
      const reply = answer(method, path, req.headers, body, raw);
      res.on('error', () => undefined);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { ...(reply.body !== undefined && { 'content-type': 'application/json;charset=utf-8' }), ...reply.headers });
        res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
      };
      if (delaying.n > 0) {
        delaying.n -= 1;
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, delaying.ms);
        timers.add(timer);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    records(objectType) {
      const type = types.get(objectType);
      if (!type) throw new Error(`the fake HubSpot has no object type ${objectType}`);
      return [...type.records.values()].sort((a, b) => Number(a.id) - Number(b.id)).map((record) => ({ id: record.id, properties: { ...record.properties } }));
    },
    seed(objectType, properties) {
      const type = types.get(objectType);
      if (!type) throw new Error(`the fake HubSpot has no object type ${objectType}`);
      const record = create(objectType, type, properties, false);
      return { id: record.id, properties: { ...record.properties } };
    },
    counts,
    requests,
    rateLimit(perSecond) {
      limit = perSecond;
      window = [];
    },
    failNext(n, status = 500) {
      failing = { n, status };
    },
    delayNext(n, ms) {
      delaying = { n, ms };
    },
    rejectWhen(predicate) {
      reject = predicate;
    },
    answerNext(status, body, headers) {
      scripted.push({ status, ...(body !== undefined && { body }), ...(headers && { headers }) });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A create input's unique values as sent: what names it in an error (a create has no id). */
function uniqueValues(type: { unique: Set<string> }, properties: Record<string, unknown>): string[] {
  return [...type.unique].filter((name) => typeof properties[name] === 'string' || typeof properties[name] === 'number').map((name) => String(properties[name]));
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

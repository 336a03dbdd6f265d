/**
 * The HubSpot adapter against a local HubSpot stand-in (test/support/fake-hubspot.ts): what the server holds after
 * each send, and the outcome of every row, through upserts, updates, creates sent again after an unknown outcome,
 * archives, multi-status answers, rate limits, 5xx, a refused token and odd text.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/reverse-etl/errors.js';
import { hubspotDestination, type HubspotAdapterOptions } from '../../src/reverse-etl/destinations/hubspot.js';
import type { JsonValue, OutgoingRow, Pace, RowOutcome, SendBatch, SendStats, SyncOp } from '../../src/reverse-etl/destinations/types.js';
import { createPace } from '../../src/reverse-etl/pace.js';
import { startFakeHubspot, type FakeHubspot } from '../support/fake-hubspot.js';

let hub: FakeHubspot;

beforeEach(async () => {
  hub = await startFakeHubspot({ objectTypes: { contacts: { unique: ['lead_id'], properties: ['firstname'] }, companies: { unique: ['domain'] } } });
});
afterEach(async () => {
  await hub.close();
});

const UPSERT = '/crm/v3/objects/contacts/batch/upsert';
const CREATE = '/crm/v3/objects/contacts/batch/create';
const READ = '/crm/v3/objects/contacts/batch/read';
const ARCHIVE = '/crm/v3/objects/contacts/batch/archive';

function adapter(overrides: Partial<HubspotAdapterOptions> = {}) {
  return hubspotDestination({ baseUrl: hub.url, objectType: 'contacts', idProperty: 'lead_id', token: hub.token, timeoutMs: 300, attempts: 3, backoffMs: () => 10, ...overrides });
}

function row(seq: number, op: SyncOp, key: string, record: Record<string, JsonValue> | null = {}, remoteId: string | null = null, idProperty = 'lead_id'): OutgoingRow {
  return { seq, op, key: { [idProperty]: key }, record, remoteId };
}

function batchOf(rows: OutgoingRow[], options: { resent?: boolean; pace?: Pace; batch?: number } = {}): SendBatch & { stats: SendStats } {
  return {
    idempotencyKey: `run-1:${options.batch ?? 1}`,
    batch: options.batch ?? 1,
    rows,
    resent: options.resent ?? false,
    stats: { requests: 0, throttled: 0, retries: 0, lookedUp: 0 },
    pace: options.pace ?? createPace({}),
  };
}

/** The stored records as `lead_id → properties`, ids aside. */
function byLead(records: ReturnType<FakeHubspot['records']>): Record<string, Record<string, string>> {
  return Object.fromEntries(records.map((record) => [record.properties.lead_id, record.properties]));
}

async function failure(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SyncError);
  return error as SyncError;
}

describe('prepare', () => {
  it('accepts a unique idProperty, and email although HubSpot reports it without unique values', async () => {
    await expect(adapter().prepare()).resolves.toBeUndefined();
    await expect(adapter({ idProperty: 'email' }).prepare()).resolves.toBeUndefined();
    expect(hub.counts.requests['/crm/v3/properties/contacts/lead_id']).toBe(1);
  });

  it('refuses a missing property and a property without unique values, not retryable', async () => {
    const missing = await failure(adapter({ idProperty: 'external_ref' }).prepare());
    expect(missing.retryable).toBe(false);
    expect(missing.message).toBe("HubSpot has no property 'external_ref' on contacts: create it as a unique property");
    const notUnique = await failure(adapter({ idProperty: 'firstname' }).prepare());
    expect(notUnique.retryable).toBe(false);
    expect(notUnique.message).toContain('HubSpot can only match records by a unique property');
  });
});

describe('upsert and update', () => {
  it('updates existing records and creates new ones, returning their ids', async () => {
    const existing = hub.seed('contacts', { lead_id: 'L1', firstname: 'Ada', lastname: 'Lovelace' });
    const batch = batchOf([row(1, 'upsert', 'L1', { firstname: 'Augusta', city: null }), row(2, 'upsert', 'L2', { firstname: 'Grace', age: 85, vip: true })]);
    const outcomes = await adapter().send(batch);

    const records = hub.records('contacts');
    expect(records).toHaveLength(2);
    const created = records.find((record) => record.properties.lead_id === 'L2')!;
    expect(outcomes).toEqual([
      { seq: 1, status: 'applied', remoteId: existing.id },
      { seq: 2, status: 'applied', remoteId: created.id },
    ]);
    expect(byLead(records)).toEqual({
      L1: { lead_id: 'L1', firstname: 'Augusta', lastname: 'Lovelace' },
      L2: { lead_id: 'L2', firstname: 'Grace', age: '85', vip: 'true' },
    });
    expect(hub.counts.created.contacts).toBe(1);
    expect(batch.stats).toEqual({ requests: 1, throttled: 0, retries: 0, lookedUp: 0 });
  });

  it('matches results by email although HubSpot stores emails lowercased', async () => {
    const outcomes = await adapter({ idProperty: 'email' }).send(batchOf([row(1, 'upsert', 'Ada@Example.COM', { firstname: 'Ada' }, null, 'email')]));
    const [record] = hub.records('contacts');
    expect(record.properties).toEqual({ email: 'ada@example.com', firstname: 'Ada' });
    expect(outcomes).toEqual([{ seq: 1, status: 'applied', remoteId: record.id }]);
  });

  it('rejects an update of a record HubSpot does not hold, with its reason, and applies the others', async () => {
    const existing = hub.seed('contacts', { lead_id: 'L1', firstname: 'Ada' });
    const outcomes = await adapter().send(batchOf([row(1, 'update', 'L1', { firstname: 'Augusta' }), row(2, 'update', 'NOPE', { firstname: 'Ghost' })]));
    expect(outcomes[0]).toEqual({ seq: 1, status: 'applied', remoteId: existing.id });
    expect(outcomes[1]).toMatchObject({ seq: 2, status: 'rejected' });
    expect(outcomes[1].reason).toMatch(/^OBJECT_NOT_FOUND: Could not get some CONTACTS objects/);
    expect(hub.records('contacts')).toEqual([{ id: existing.id, properties: { lead_id: 'L1', firstname: 'Augusta' } }]);
    expect(hub.counts.created.contacts).toBeUndefined();
  });

  it('answers a 207 with one row rejected and the others applied', async () => {
    hub.rejectWhen((properties) => (properties.firstname === 'bad' ? 'Property values were not valid: firstname' : false));
    const outcomes = await adapter().send(batchOf([row(1, 'upsert', 'A', { firstname: 'good' }), row(2, 'upsert', 'B', { firstname: 'bad' }), row(3, 'upsert', 'C', { firstname: 'fine' })]));
    const ids = Object.fromEntries(hub.records('contacts').map((record) => [record.properties.lead_id, record.id]));
    expect(outcomes).toEqual([
      { seq: 1, status: 'applied', remoteId: ids.A },
      { seq: 2, status: 'rejected', reason: 'VALIDATION_ERROR: Property values were not valid: firstname' },
      { seq: 3, status: 'applied', remoteId: ids.C },
    ]);
    expect(Object.keys(ids).sort()).toEqual(['A', 'C']);
  });

  it('rejects every row of a request HubSpot refuses as a whole without naming rows', async () => {
    hub.answerNext(400, { status: 'error', category: 'VALIDATION_ERROR', message: 'Property "birthday" does not exist', correlationId: 'c1' });
    const outcomes = await adapter().send(batchOf([row(1, 'upsert', 'A', { birthday: 'x' }), row(2, 'upsert', 'B', { birthday: 'y' })]));
    expect(outcomes).toEqual([
      { seq: 1, status: 'rejected', reason: 'VALIDATION_ERROR: Property "birthday" does not exist' },
      { seq: 2, status: 'rejected', reason: 'VALIDATION_ERROR: Property "birthday" does not exist' },
    ]);
    expect(hub.records('contacts')).toEqual([]);
  });

  it('splits more than 100 rows and rows repeating a key into separate requests, in order', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => row(i + 1, 'upsert', `L${i + 1}`, { n: i + 1 }));
    rows.push(row(151, 'upsert', 'L1', { n: 'again' }));
    const outcomes = await adapter().send(batchOf(rows));
    expect(outcomes.every((outcome) => outcome.status === 'applied')).toBe(true);
    expect(outcomes[150].remoteId).toBe(outcomes[0].remoteId);
    expect(hub.counts.requests[UPSERT]).toBe(2);
    const records = byLead(hub.records('contacts'));
    expect(Object.keys(records)).toHaveLength(150);
    expect(records.L1.n).toBe('again');
    expect(hub.requests.every((request) => ((request.body as { inputs: unknown[] }).inputs?.length ?? 0) <= 100)).toBe(true);
  });
});

describe('insert', () => {
  it('creates records, and a duplicate unique value is rejected as a conflict', async () => {
    const first = await adapter().send(batchOf([row(1, 'insert', 'N1', { firstname: 'Nia' }), row(2, 'insert', 'N2', { firstname: 'Noor' })]));
    const ids = Object.fromEntries(hub.records('contacts').map((record) => [record.properties.lead_id, record.id]));
    expect(first).toEqual([
      { seq: 1, status: 'applied', remoteId: ids.N1 },
      { seq: 2, status: 'applied', remoteId: ids.N2 },
    ]);
    // one duplicate among new rows: 207; only duplicates: 409 for the request
    const mixed = await adapter().send(batchOf([row(3, 'insert', 'N1', { firstname: 'Again' }), row(4, 'insert', 'N3', { firstname: 'Nell' })], { batch: 2 }));
    expect(mixed[0]).toMatchObject({ seq: 3, status: 'rejected' });
    expect(mixed[0].reason).toMatch(/^CONFLICT: .*lead_id "N1"/);
    expect(mixed[1]).toMatchObject({ seq: 4, status: 'applied' });
    const only = await adapter().send(batchOf([row(5, 'insert', 'N2', {})], { batch: 3 }));
    expect(only).toEqual([{ seq: 5, status: 'rejected', reason: `CONFLICT: contacts already exists with lead_id "N2". Existing ID: ${ids.N2}` }]);
    expect(byLead(hub.records('contacts'))).toEqual({
      N1: { lead_id: 'N1', firstname: 'Nia' },
      N2: { lead_id: 'N2', firstname: 'Noor' },
      N3: { lead_id: 'N3', firstname: 'Nell' },
    });
    expect(hub.counts.created.contacts).toBe(3);
  });

  it('sent again after a timeout that HubSpot still applied, looks up first and creates no duplicate', async () => {
    hub.delayNext(1, 700);
    const rows = [row(1, 'insert', 'T1', { firstname: 'Tess' }), row(2, 'insert', 'T2', { firstname: 'Tom' })];
    const timedOut = await failure(adapter({ attempts: 1 }).send(batchOf(rows)));
    expect(timedOut.retryable).toBe(true);
    expect(timedOut.message).toContain('no answer within 0.3s');
    // the server applied the request it did not answer in time
    expect(hub.records('contacts')).toHaveLength(2);

    const again = batchOf([...rows, row(3, 'insert', 'T3', { firstname: 'Tia' })], { resent: true });
    const outcomes = await adapter().send(again);
    const ids = Object.fromEntries(hub.records('contacts').map((record) => [record.properties.lead_id, record.id]));
    expect(outcomes).toEqual([
      { seq: 1, status: 'applied', remoteId: ids.T1 },
      { seq: 2, status: 'applied', remoteId: ids.T2 },
      { seq: 3, status: 'applied', remoteId: ids.T3 },
    ]);
    expect(again.stats.lookedUp).toBe(3);
    expect(hub.records('contacts')).toHaveLength(3);
    expect(hub.counts.created.contacts).toBe(3);
    expect(hub.counts.requests[CREATE]).toBe(2);
    expect(hub.counts.requests[READ]).toBe(1);
    // only T3 was created the second time
    expect((hub.requests.at(-1)!.body as { inputs: unknown[] }).inputs).toEqual([{ properties: { firstname: 'Tia', lead_id: 'T3' } }]);
  });

  it('retried by itself after a timeout, takes the conflict for its own earlier create and looks the rows up', async () => {
    hub.delayNext(1, 700);
    const batch = batchOf([row(1, 'insert', 'R1', { firstname: 'Rae' })]);
    const outcomes = await adapter().send(batch);
    const [record] = hub.records('contacts');
    expect(outcomes).toEqual([{ seq: 1, status: 'applied', remoteId: record.id }]);
    expect(batch.stats).toMatchObject({ retries: 1, lookedUp: 1 });
    expect(hub.counts.created.contacts).toBe(1);
  });
});

describe('delete', () => {
  it('archives by remoteId and by idProperty lookup; a record already gone is unchanged', async () => {
    const a = hub.seed('contacts', { lead_id: 'D1' });
    const b = hub.seed('contacts', { lead_id: 'D2' });
    const kept = hub.seed('contacts', { lead_id: 'K1' });
    const batch = batchOf([row(1, 'delete', 'D1', null, a.id), row(2, 'delete', 'D2', { lead_id: 'D2' }), row(3, 'delete', 'GONE', null)]);
    const outcomes = await adapter().send(batch);
    expect(outcomes).toEqual([
      { seq: 1, status: 'applied', remoteId: a.id },
      { seq: 2, status: 'applied', remoteId: b.id },
      { seq: 3, status: 'unchanged', reason: 'HubSpot contacts holds no record with this lead_id' },
    ]);
    expect(hub.records('contacts')).toEqual([kept]);
    expect(hub.counts.requests[READ]).toBe(1);
    expect(hub.counts.requests[ARCHIVE]).toBe(1);
    expect(batch.stats.lookedUp).toBe(0);
  });

  it('sends one request per op in a mixed batch', async () => {
    const old = hub.seed('contacts', { lead_id: 'OLD' });
    hub.seed('contacts', { lead_id: 'U1', firstname: 'x' });
    const outcomes = await adapter().send(batchOf([row(1, 'upsert', 'M1', { firstname: 'Mo' }), row(2, 'delete', 'OLD', null, old.id), row(3, 'update', 'U1', { firstname: 'y' }), row(4, 'upsert', 'M2', {})]));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(hub.requests.map((request) => request.path.split('/').at(-1))).toEqual(['upsert', 'archive', 'update']);
    expect(byLead(hub.records('contacts'))).toEqual({ U1: { lead_id: 'U1', firstname: 'y' }, M1: { lead_id: 'M1', firstname: 'Mo' }, M2: { lead_id: 'M2' } });
  });
});

describe('rate limits, 5xx and the token', () => {
  it('waits out a 429 storm: every row applied, none lost, no retry spent', async () => {
    hub.rateLimit(5);
    const pace = createPace({});
    const batches = Array.from({ length: 10 }, (_, b) => batchOf(Array.from({ length: 4 }, (_, i) => row(b * 4 + i + 1, 'upsert', `S${b * 4 + i + 1}`, { n: b * 4 + i + 1 })), { pace, batch: b + 1 }));
    const destination = adapter();
    const outcomes: RowOutcome[] = (await Promise.all(batches.map((batch) => destination.send(batch)))).flat();

    expect(outcomes).toHaveLength(40);
    expect(outcomes.every((outcome) => outcome.status === 'applied' && outcome.remoteId !== undefined)).toBe(true);
    expect(hub.records('contacts')).toHaveLength(40);
    expect(hub.counts.created.contacts).toBe(40);
    expect(hub.counts.rateLimited).toBeGreaterThan(0);
    const total = batches.reduce((sum, batch) => ({ throttled: sum.throttled + batch.stats.throttled, retries: sum.retries + batch.stats.retries }), { throttled: 0, retries: 0 });
    expect(total.throttled).toBe(hub.counts.rateLimited);
    expect(total.retries).toBe(0);
  });

  it('ends the batch, retryable, at the daily limit', async () => {
    hub.answerNext(429, { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', policyName: 'DAILY', correlationId: 'c2' });
    const error = await failure(adapter().send(batchOf([row(1, 'upsert', 'L1', {})])));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('daily API limit');
    expect(hub.counts.requests[UPSERT]).toBe(1);
    // also when the answer carries a Retry-After: a daily limit is not waited out a second at a time
    hub.answerNext(429, { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', policyName: 'DAILY', correlationId: 'c3' }, { 'retry-after': '1' });
    const again = await failure(adapter().send(batchOf([row(2, 'upsert', 'L2', {})])));
    expect(again.message).toContain('daily API limit');
    expect(hub.counts.requests[UPSERT]).toBe(2);
  });

  it('retries two 5xx answers, then applies', async () => {
    hub.failNext(2, 502);
    const batch = batchOf([row(1, 'upsert', 'F1', { firstname: 'Fay' })]);
    const outcomes = await adapter().send(batch);
    const [record] = hub.records('contacts');
    expect(outcomes).toEqual([{ seq: 1, status: 'applied', remoteId: record.id }]);
    expect(batch.stats).toEqual({ requests: 3, throttled: 0, retries: 2, lookedUp: 0 });
  });

  it('throws a non-retryable error for a refused token, without the token', async () => {
    const token = 'pat-na1-wrong-token-9999';
    const sent = await failure(adapter({ token }).send(batchOf([row(1, 'upsert', 'L1', {})])));
    const prepared = await failure(adapter({ token }).prepare());
    for (const error of [sent, prepared]) {
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('HubSpot refused the token');
      expect(error.message).toContain('crm.objects.contacts.write');
      expect(error.message).not.toContain(token);
      expect(error.message).not.toContain(hub.token);
    }
    expect(hub.records('contacts')).toEqual([]);
  });

  it('throws a non-retryable error naming an object type HubSpot does not have', async () => {
    const error = await failure(adapter({ objectType: 'widgets' }).send(batchOf([row(1, 'upsert', 'W1', {})])));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("HubSpot has no object type 'widgets'");
  });
});

describe('text', () => {
  it('sends quotes, unicode, emoji, backslashes and newlines byte-identical, in names and values', async () => {
    const key = 'Zoë "the" O\'Brien ✓ 🦄';
    const record: Record<string, JsonValue> = {
      'na"me': 'Zoë "the" O\'Brien ✓',
      'ñame ✓ 👩🏽‍🚀': 'emoji 🎉👨‍👩‍👧 and 漢字',
      'back\\slash': 'C:\\temp\\new\\file \\u0041 \\n',
      notes: 'line one\nline two\r\n\ttabbed "quoted" \u2028 end',
      json: { nested: ['a"b', 'ü\\'], n: 1.5 },
      cleared: null,
    };
    const outcomes = await adapter().send(batchOf([row(1, 'upsert', key, record)]));
    const [stored] = hub.records('contacts');
    expect(outcomes).toEqual([{ seq: 1, status: 'applied', remoteId: stored.id }]);
    const expected: Record<string, string> = {
      lead_id: key,
      'na"me': 'Zoë "the" O\'Brien ✓',
      'ñame ✓ 👩🏽‍🚀': 'emoji 🎉👨‍👩‍👧 and 漢字',
      'back\\slash': 'C:\\temp\\new\\file \\u0041 \\n',
      notes: 'line one\nline two\r\n\ttabbed "quoted" \u2028 end',
      json: JSON.stringify({ nested: ['a"b', 'ü\\'], n: 1.5 }),
    };
    expect(stored.properties).toEqual(expected);
    for (const [name, value] of Object.entries(expected)) {
      const storedName = Object.keys(stored.properties).find((candidate) => Buffer.from(candidate).equals(Buffer.from(name)));
      expect(storedName).toBeDefined();
      expect(Buffer.from(stored.properties[storedName!]).equals(Buffer.from(value))).toBe(true);
    }
    // null went as "" (HubSpot clears the property with it)
    const sent = (hub.requests.at(-1)!.body as { inputs: Array<{ properties: Record<string, unknown> }> }).inputs[0].properties;
    expect(sent.cleared).toBe('');
    // and upserted again by the same odd key, it is the same record
    const again = await adapter().send(batchOf([row(2, 'upsert', key, { notes: 'changed' })], { batch: 2 }));
    expect(again).toEqual([{ seq: 2, status: 'applied', remoteId: stored.id }]);
    expect(hub.records('contacts')).toHaveLength(1);
  });
});

/**
 * The generic HTTP destination (src/reverse-etl/destinations/http.ts) against a real local server that implements the
 * receiving side of the contract (test/support/sync-server.ts): outcomes per row, the server's final state,
 * idempotent resends after timeouts and dropped connections, 429s waited out, 5xx retried, errors typed and free of
 * the token, and awkward text arriving exactly as sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type HttpAdapterOptions, httpDestination } from '../../src/reverse-etl/destinations/http.js';
import type { JsonValue, OutgoingRow, Pace, RowOutcome, SendBatch, SendStats, SyncOp } from '../../src/reverse-etl/destinations/types.js';
import { SyncError } from '../../src/reverse-etl/errors.js';
import { createPace } from '../../src/reverse-etl/pace.js';
import { type SyncServer, type SyncServerOptions, startSyncServer } from '../support/sync-server.js';

const servers: SyncServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function setup(serverOptions: SyncServerOptions = {}, adapter: Partial<HttpAdapterOptions> = {}) {
  const server = await startSyncServer(serverOptions);
  servers.push(server);
  const destination = httpDestination({ url: server.url, method: 'POST', token: server.token, timeoutMs: 300, attempts: 3, backoffMs: () => 10, ...adapter });
  return { server, destination };
}

const stats = (): SendStats => ({ requests: 0, throttled: 0, retries: 0, lookedUp: 0 });

function row(seq: number, op: SyncOp, key: Record<string, string | number>, record: Record<string, JsonValue> | null, remoteId: string | null = null): OutgoingRow {
  return { seq, op, key, record, remoteId };
}

function batch(idempotencyKey: string, rows: OutgoingRow[], more: { resent?: boolean; pace?: Pace; stats?: SendStats; batch?: number } = {}): SendBatch {
  return { idempotencyKey, batch: more.batch ?? 1, rows, resent: more.resent ?? false, stats: more.stats ?? stats(), pace: more.pace ?? createPace({}) };
}

async function failure(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SyncError);
  return error as SyncError;
}

/** Sends the batches `concurrency` at a time, as a sync does, and returns their outcomes in order. */
async function sendAll(send: (b: SendBatch) => Promise<RowOutcome[]>, batches: SendBatch[], concurrency: number): Promise<RowOutcome[][]> {
  const outcomes: RowOutcome[][] = [];
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const index = next++;
      outcomes[index] = await send(batches[index]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

describe('the HTTP destination against a contract server', () => {
  it('reports every operation by row and leaves the server holding exactly what was sent', async () => {
    const { server, destination } = await setup();
    const first = await destination.send(
      batch('run1:1', [
        row(10, 'insert', { id: 1 }, { name: 'Ada', plan: 'free' }),
        row(11, 'insert', { id: 2 }, { name: 'Bob', plan: 'free' }),
        row(12, 'upsert', { id: 3 }, { name: 'Cy', tags: ['a', 'b'], address: { city: 'Oslo', zip: '0150' } }),
        row(13, 'insert', { region: 'eu', id: 4 }, { name: 'Di' }),
      ]),
    );
    expect(first).toEqual([
      { seq: 10, status: 'applied', remoteId: 'rec_1' },
      { seq: 11, status: 'applied', remoteId: 'rec_2' },
      { seq: 12, status: 'applied', remoteId: 'rec_3' },
      { seq: 13, status: 'applied', remoteId: 'rec_4' },
    ]);

    const second = await destination.send(
      batch('run1:2', [
        row(20, 'insert', { id: 1 }, { name: 'Ada again' }),
        row(21, 'update', { id: 2 }, { plan: 'pro' }, 'rec_2'),
        row(22, 'update', { id: 99 }, { plan: 'pro' }),
        row(23, 'upsert', { id: 3 }, { address: { zip: '0150', city: 'Oslo' }, name: 'Cy' }),
        row(24, 'upsert', { id: 5 }, { name: 'Eve' }),
        row(25, 'update', { id: 1 }, { name: 'Ada' }),
        row(26, 'delete', { id: 4, region: 'eu' }, { name: 'Di' }),
        row(27, 'delete', { id: 404 }, null),
        row(28, 'update', { id: 3 }, { plan: 'team' }, 'rec_999'),
      ]),
    );
    expect(second).toEqual([
      { seq: 20, status: 'rejected', reason: 'already exists', remoteId: 'rec_1' },
      { seq: 21, status: 'applied', remoteId: 'rec_2' },
      { seq: 22, status: 'rejected', reason: 'no such record' },
      { seq: 23, status: 'unchanged', remoteId: 'rec_3' },
      { seq: 24, status: 'applied', remoteId: 'rec_5' },
      { seq: 25, status: 'unchanged', remoteId: 'rec_1' },
      { seq: 26, status: 'applied', remoteId: 'rec_4' },
      { seq: 27, status: 'unchanged' },
      { seq: 28, status: 'rejected', reason: "id rec_999 is not this record's (rec_3)" },
    ]);
    expect(server.records()).toEqual([
      { key: { id: 1 }, record: { name: 'Ada', plan: 'free' }, id: 'rec_1' },
      { key: { id: 2 }, record: { name: 'Bob', plan: 'pro' }, id: 'rec_2' },
      { key: { id: 3 }, record: { name: 'Cy', tags: ['a', 'b'], address: { city: 'Oslo', zip: '0150' } }, id: 'rec_3' },
      { key: { id: 5 }, record: { name: 'Eve' }, id: 'rec_5' },
    ]);
    expect(server.counts).toMatchObject({ requests: 2, byStatus: { 200: 1, 207: 1 }, rowsApplied: 7, duplicates: 0 });
  });

  it('passes the destination’s per-row rejections and transients through, and accepts PUT and PATCH', async () => {
    const { server, destination } = await setup({
      rejectWhen: (op) => (op.record?.email === 'not-an-email' ? 'email: "not-an-email" is invalid' : undefined),
      transientWhen: (op) => (op.key.id === 2 ? 'row locked, try again' : undefined),
    });
    const rows = [row(0, 'upsert', { id: 1 }, { email: 'not-an-email' }), row(1, 'upsert', { id: 2 }, { email: 'b@example.com' }), row(2, 'upsert', { id: 3 }, { email: 'c@example.com' })];
    const outcomes = await destination.send(batch('run2:1', rows));
    expect(outcomes).toEqual([
      { seq: 0, status: 'rejected', reason: 'email: "not-an-email" is invalid' },
      { seq: 1, status: 'transient', reason: 'row locked, try again' },
      { seq: 2, status: 'applied', remoteId: 'rec_1' },
    ]);
    // the transient row goes again in a later round, under its own key (the same key would replay the answer)
    const put = httpDestination({ url: server.url, method: 'PUT', token: server.token, timeoutMs: 300 });
    expect(await put.send(batch('run2:1', rows))).toEqual(outcomes);
    expect(server.applicationsOf('run2:1')).toBe(1);
    expect(await put.send(batch('run2:1:r2', [row(1, 'upsert', { id: 2 }, { email: 'b@example.com' })]))).toEqual([{ seq: 1, status: 'applied', remoteId: 'rec_2' }]);
    const patch = httpDestination({ url: server.url, method: 'PATCH', token: server.token, timeoutMs: 300 });
    expect(await patch.send(batch('run2:2', [row(3, 'update', { id: 3 }, { email: 'c@example.org' })]))).toEqual([{ seq: 3, status: 'applied', remoteId: 'rec_1' }]);
    expect(server.records()).toEqual([
      { key: { id: 3 }, record: { email: 'c@example.org' }, id: 'rec_1' },
      { key: { id: 2 }, record: { email: 'b@example.com' }, id: 'rec_2' },
    ]);
  });

  it('a repeated send under the same idempotency key changes nothing and answers the same', async () => {
    const { server, destination } = await setup();
    const rows = [row(0, 'insert', { id: 1 }, { n: 1 }), row(1, 'upsert', { id: 2 }, { n: 2 }), row(2, 'delete', { id: 3 }, null)];
    const first = await destination.send(batch('run3:1', rows));
    const before = structuredClone(server.records());
    const again = await destination.send(batch('run3:1', rows, { resent: true }));
    expect(again).toEqual(first);
    expect(first.map((outcome) => outcome.status)).toEqual(['applied', 'applied', 'unchanged']);
    expect(server.records()).toEqual(before);
    expect(server.applicationsOf('run3:1')).toBe(1);
    expect(server.counts).toMatchObject({ requests: 2, duplicates: 1, rowsApplied: 2 });
  });

  it('a stalled answer times out, and the resend under the same key is applied once', async () => {
    const { server, destination } = await setup({}, { attempts: 1 });
    server.stallNext(1, 1_000);
    const rows = [row(0, 'insert', { id: 1 }, { n: 1 }), row(1, 'upsert', { id: 2 }, { n: 2 })];
    const error = await failure(destination.send(batch('run4:1', rows)));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/no answer within 0\.3s/);
    // the outcome was unknown to the client, but the server had applied the batch
    expect(server.records()).toHaveLength(2);
    const outcomes = await destination.send(batch('run4:1', rows, { resent: true }));
    expect(outcomes).toEqual([
      { seq: 0, status: 'applied', remoteId: 'rec_1' },
      { seq: 1, status: 'applied', remoteId: 'rec_2' },
    ]);
    expect(server.applicationsOf('run4:1')).toBe(1);
    expect(server.counts).toMatchObject({ duplicates: 1, rowsApplied: 2 });
  });

  it('within its attempts, the adapter itself resends a stalled batch under the same key', async () => {
    const { server, destination } = await setup();
    server.stallNext(1, 1_000);
    const sent = stats();
    const outcomes = await destination.send(batch('run5:1', [row(0, 'insert', { id: 1 }, { n: 1 })], { stats: sent }));
    expect(outcomes).toEqual([{ seq: 0, status: 'applied', remoteId: 'rec_1' }]);
    expect(sent).toMatchObject({ requests: 2, retries: 1 });
    expect(server.applicationsOf('run5:1')).toBe(1);
  });

  it('a dropped connection, then the resend under the same key, applies the batch once', async () => {
    const { server, destination } = await setup({}, { attempts: 1 });
    server.dropNext(1);
    const rows = [row(0, 'insert', { id: 1 }, { n: 1 })];
    const error = await failure(destination.send(batch('run6:1', rows)));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/network error/);
    expect(server.counts.dropped).toBe(1);
    expect(await destination.send(batch('run6:1', rows, { resent: true }))).toEqual([{ seq: 0, status: 'applied', remoteId: 'rec_1' }]);

    const retrying = httpDestination({ url: server.url, method: 'POST', token: server.token, timeoutMs: 300, attempts: 3, backoffMs: () => 10 });
    server.dropNext(1);
    const sent = stats();
    expect(await retrying.send(batch('run6:2', [row(1, 'insert', { id: 2 }, { n: 2 })], { stats: sent }))).toEqual([{ seq: 1, status: 'applied', remoteId: 'rec_2' }]);
    expect(sent).toMatchObject({ requests: 2, retries: 1 });
    expect([server.applicationsOf('run6:1'), server.applicationsOf('run6:2')]).toEqual([1, 1]);
    expect(server.records().map((held) => held.key)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('waits out a 429 storm through one shared pace: everything applied, nothing retried, nothing lost', { timeout: 30_000 }, async () => {
    const { server, destination } = await setup({ rateLimit: 5 });
    const pace = createPace({});
    const sent = stats();
    const batches = Array.from({ length: 30 }, (_, n) => batch(`run7:${n}`, [row(n, 'upsert', { id: n }, { n })], { pace, stats: sent, batch: n }));
    const outcomes = await sendAll((b) => destination.send(b), batches, 4);
    const ids = new Map(server.records().map((held) => [held.key.id, held.id]));
    expect(outcomes.flat()).toEqual(Array.from({ length: 30 }, (_, n) => ({ seq: n, status: 'applied', remoteId: ids.get(n) })));
    expect(sent.throttled).toBeGreaterThan(0);
    expect(sent.retries).toBe(0);
    expect(sent.requests).toBe(30 + sent.throttled);
    expect(server.counts.byStatus[429]).toBe(sent.throttled);
    expect(server.records()).toHaveLength(30);
    expect([...server.applications().values()].every((times) => times === 1)).toBe(true);
    expect(server.applications().size).toBe(30);
  });

  it('paced at the destination’s rate, stays within it: at most 5 requests in any second, (nearly) no 429', { timeout: 30_000 }, async () => {
    const { server, destination } = await setup({ rateLimit: 5 });
    // one request first, so the timed ones go over an open connection, then a clean slate for the counters
    await destination.send(batch('run8:warm', [row(100, 'upsert', { id: 100 }, { n: 0 })]));
    server.resetCounts();
    const pace = createPace({ requestsPerSecond: 5 });
    const sent = stats();
    const batches = Array.from({ length: 12 }, (_, n) => batch(`run8:${n}`, [row(n, 'upsert', { id: n }, { n })], { pace, stats: sent, batch: n }));
    const started = Date.now();
    const outcomes = await sendAll((b) => destination.send(b), batches, 4);
    expect(outcomes.flat().every((outcome) => outcome.status === 'applied')).toBe(true);
    expect(server.records()).toHaveLength(13);
    expect(Date.now() - started).toBeGreaterThanOrEqual(11 * 200 - 5);
    // Requests leave the pace 200 ms apart, but take 0–5 ms to reach the server: one that leaves exactly a second
    // after the fifth before it can arrive a hair under a second after it, which a strict sliding window counts as
    // six (and answers 429: once in about every other run, twice in one of ten). Within 950 ms the server never sees
    // more than five, which a pace saving up tokens would break: it lets five out at once after a Retry-After, and a
    // sixth 200 ms later.
    expect(server.maxWithin(950)).toBeLessThanOrEqual(5);
    expect(server.counts.maxPerSecond).toBeLessThanOrEqual(6);
    expect(sent.throttled).toBeLessThanOrEqual(2);
    expect(sent.retries).toBe(0);
  });

  it('honours a fractional Retry-After and one given as an HTTP date', { timeout: 15_000 }, async () => {
    const { server, destination } = await setup({ rateLimit: 1, retryAfter: '0.2' });
    const pace = createPace({});
    const sent = stats();
    await destination.send(batch('run9:1', [row(0, 'upsert', { id: 1 }, { n: 1 })], { pace, stats: sent }));
    let started = Date.now();
    await destination.send(batch('run9:2', [row(1, 'upsert', { id: 2 }, { n: 2 })], { pace, stats: sent }));
    expect(sent.throttled).toBeGreaterThanOrEqual(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);

    server.limitRate(1, () => new Date(Date.now() + 2_000).toUTCString());
    const dated = stats();
    started = Date.now();
    await destination.send(batch('run9:3', [row(2, 'upsert', { id: 3 }, { n: 3 })], { pace, stats: dated }));
    expect(dated.throttled).toBe(1);
    // an HTTP date has whole seconds: the wait is between one and two seconds
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sent.retries + dated.retries).toBe(0);
    expect(server.records()).toHaveLength(3);
  });

  it('retries 5xx answers with backoff and then succeeds', async () => {
    const { server, destination } = await setup();
    server.failNext(2, 503);
    const sent = stats();
    expect(await destination.send(batch('run10:1', [row(0, 'upsert', { id: 1 }, { n: 1 })], { stats: sent }))).toEqual([{ seq: 0, status: 'applied', remoteId: 'rec_1' }]);
    expect(sent).toEqual({ requests: 3, throttled: 0, retries: 2, lookedUp: 0 });
    expect(server.counts.byStatus).toEqual({ 503: 2, 200: 1 });
    expect(server.applicationsOf('run10:1')).toBe(1);
  });

  it('gives up on a destination that keeps answering 5xx with a retryable error after its attempts', async () => {
    const { server, destination } = await setup();
    server.failNext(1_000, 500);
    const sent = stats();
    const error = await failure(destination.send(batch('run11:1', [row(0, 'upsert', { id: 1 }, { n: 1 })], { stats: sent })));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/answered HTTP 500: \{"error":"failing on purpose"\} \(3 attempts\)/);
    expect(sent).toMatchObject({ requests: 3, retries: 2 });
    expect(server.records()).toEqual([]);
  });

  it('a refused token is a non-retryable error that never shows the token', async () => {
    const { server } = await setup();
    const wrong = 'sk_live_wrong_51HxYz';
    const destination = httpDestination({ url: server.url, method: 'POST', token: wrong, timeoutMs: 300, attempts: 3, backoffMs: () => 10 });
    const sent = stats();
    const error = await failure(destination.send(batch('run12:1', [row(0, 'upsert', { id: 1 }, { n: 1 })], { stats: sent })));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/refused the token \(HTTP 401/);
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(server.token);
    expect(sent.requests).toBe(1);
    const without = httpDestination({ url: server.url, method: 'POST', timeoutMs: 300 });
    expect((await failure(without.send(batch('run12:2', [row(0, 'upsert', { id: 1 }, { n: 1 })])))).retryable).toBe(false);
    expect(server.records()).toEqual([]);
    expect(server.counts.byStatus).toEqual({ 401: 2 });
  });

  it('rows the answer leaves out are transient', async () => {
    const { server, destination } = await setup({ omitResults: (_op, index) => index === 1 || index === 3 });
    const outcomes = await destination.send(batch('run13:1', [0, 1, 2, 3].map((n) => row(n + 50, 'upsert', { id: n }, { n }))));
    expect(outcomes).toEqual([
      { seq: 50, status: 'applied', remoteId: 'rec_1' },
      { seq: 51, status: 'transient', reason: 'the destination reported no result for this operation' },
      { seq: 52, status: 'applied', remoteId: 'rec_3' },
      { seq: 53, status: 'transient', reason: 'the destination reported no result for this operation' },
    ]);
    server.omitResults(undefined);
    // sent again in the next round, the unreported rows turn out to be there already
    expect(await destination.send(batch('run13:1:r2', [row(51, 'upsert', { id: 1 }, { n: 1 }), row(53, 'upsert', { id: 3 }, { n: 3 })]))).toEqual([
      { seq: 51, status: 'unchanged', remoteId: 'rec_2' },
      { seq: 53, status: 'unchanged', remoteId: 'rec_4' },
    ]);
  });

  it('a 400 without results rejects every row with the destination’s words', async () => {
    const { server, destination } = await setup();
    const rows = [row(0, 'upsert', { id: 1 }, { n: 1 }), { ...row(1, 'upsert', { id: 2 }, { n: 2 }), op: 'merge' as SyncOp }];
    const reason = 'HTTP 400: {"error":"operation 1: unknown op \\"merge\\""}';
    expect(await destination.send(batch('run14:1', rows))).toEqual([
      { seq: 0, status: 'rejected', reason },
      { seq: 1, status: 'rejected', reason },
    ]);
    expect(server.records()).toEqual([]);
    expect(server.applicationsOf('run14:1')).toBe(0);
  });

  it('a 200 whose body is not JSON is a non-retryable error', async () => {
    const { server, destination } = await setup();
    server.answerNext(1, { status: 200, body: '<html><body>Thanks!</body></html>', headers: { 'content-type': 'text/html' } });
    const error = await failure(destination.send(batch('run15:1', [row(0, 'upsert', { id: 1 }, { n: 1 })])));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/HTTP 200 with a body that is not JSON: <html><body>Thanks!<\/body><\/html>/);
  });

  it('field names and values with quotes, unicode, emoji, backslashes, newlines and separators arrive byte-identical', async () => {
    const { server, destination } = await setup();
    const awkward = ['say "hi"', "it's", 'Zürich – Ελλάδα – 東京', '👩🏽‍🚀🇳🇴', 'C:\\temp\\new', 'line 1\nline 2\r\n\ttab', '</script><script>alert(1)</script>', 'a\u2028b\u2029c', 'nul \u0000 here', '\ud83d'];
    const key = { 'a"b': 'k"1\\', 'ключ 🔑': 'значение\n' };
    const record: Record<string, JsonValue> = Object.fromEntries(awkward.map((text, n) => [`${text} #${n}`, text]));
    record['nested\\"'] = { '</script>': ['\u2028', '🎉', { 'x"y': 'a\\"b' }] };
    expect(await destination.send(batch('run16:1', [row(0, 'upsert', key, record)]))).toEqual([{ seq: 0, status: 'applied', remoteId: 'rec_1' }]);
    const [held] = server.records();
    expect(held.key).toEqual(key);
    expect(held.record).toEqual(record);
    const bytes = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
    expect(bytes(Object.keys(held.record)).equals(bytes(Object.keys(record)))).toBe(true);
    expect(bytes(Object.values(held.record)).equals(bytes(Object.values(record)))).toBe(true);
    expect(bytes(held.key).equals(bytes(key))).toBe(true);
    // the same row again, with its key fields in the other order, names the same record and changes nothing
    const reordered = { 'ключ 🔑': key['ключ 🔑'], 'a"b': key['a"b'] };
    expect(await destination.send(batch('run16:2', [row(1, 'upsert', reordered, record)]))).toEqual([{ seq: 1, status: 'unchanged', remoteId: 'rec_1' }]);
    expect(server.records()).toHaveLength(1);
  });
});

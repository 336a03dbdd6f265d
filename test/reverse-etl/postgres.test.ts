/**
 * The PostgreSQL destination adapter against a real PostgreSQL table: every operation leaves the exact state, a row
 * that violates a constraint is rejected with PostgreSQL's reason while the rest of its batch lands, a batch sent
 * twice under one idempotency key is applied once, the table is checked before the first batch, and hostile field
 * names and values go through quoting and COPY intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { postgresDestination, type PostgresAdapterOptions } from '../../src/reverse-etl/destinations/postgres.js';
import type { OutgoingRow, SendBatch } from '../../src/reverse-etl/destinations/types.js';
import { createPace } from '../../src/reverse-etl/pace.js';
import { startTestPostgres, type TestPostgres } from '../warehouse/support.js';

let db: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  db = await startTestPostgres();
  pool = db.pool(await db.freshDatabase('ops'));
  await pool.query(`create schema crm;
    create table crm.leads (lead_id bigint primary key, email text not null, score numeric(5,4) check (score between 0 and 1), "Weird ""Name""" text);
    create table crm.nokey (lead_id bigint, score numeric);`);
}, 120_000);

afterAll(async () => {
  await db?.stop();
});

const options = (over: Partial<PostgresAdapterOptions> = {}): PostgresAdapterOptions => ({
  pool,
  ownsPool: false,
  table: { schema: 'crm', name: 'leads' },
  keyFields: ['lead_id'],
  fields: ['lead_id', 'email', 'score', 'Weird "Name"'],
  nulls: 'send',
  needsUnique: true,
  label: 'crm.leads',
  ...over,
});

let seq = 0;
const row = (op: OutgoingRow['op'], id: number, record: Record<string, unknown> | null): OutgoingRow => ({
  seq: ++seq,
  op,
  key: { lead_id: id },
  record: record === null ? null : ({ lead_id: id, ...record } as OutgoingRow['record']),
  remoteId: null,
});
const batch = (key: string, rows: OutgoingRow[]): SendBatch => ({
  idempotencyKey: key,
  batch: 0,
  rows,
  resent: false,
  stats: { requests: 0, throttled: 0, retries: 0, lookedUp: 0 },
  pace: createPace({}),
});
const leads = async () => (await pool.query(`select lead_id::int as id, email, score::text as score, "Weird ""Name""" as weird from crm.leads order by lead_id`)).rows;

describe('the PostgreSQL destination', () => {
  it('checks the table before the first batch, naming what is missing', async () => {
    await expect(postgresDestination(options({ table: { schema: 'crm', name: 'missing' } })).prepare()).rejects.toThrow(/the table crm.missing does not exist at the destination/);
    await expect(postgresDestination(options({ fields: ['lead_id', 'mail'] })).prepare()).rejects.toThrow(/has no column "mail"/);
    await expect(postgresDestination(options({ table: { schema: 'crm', name: 'nokey' }, fields: ['lead_id', 'score'] })).prepare()).rejects.toThrow(/no primary key or unique index on \(lead_id\)/);
    // update-only syncs do not need one
    await postgresDestination(options({ table: { schema: 'crm', name: 'nokey' }, fields: ['lead_id', 'score'], needsUnique: false })).prepare();
  });

  it('applies every operation, rejecting the row a constraint refuses while the others land', async () => {
    const adapter = postgresDestination(options());
    await adapter.prepare();
    const first = [row('insert', 1, { email: 'a@x', score: 0.5, 'Weird "Name"': 'it\'s "q"\t\\ ✓\nline' }), row('upsert', 2, { email: 'b@x', score: 0.25, 'Weird "Name"': null })];
    expect((await adapter.send(batch('r1:0', first))).map((o) => o.status)).toEqual(['applied', 'applied']);
    const second = [
      row('upsert', 2, { email: 'b2@x', score: 0.75, 'Weird "Name"': 'x' }),
      row('update', 1, { email: 'a2@x', score: 0.1, 'Weird "Name"': 'y' }),
      row('update', 9, { email: 'z@x', score: 0.1, 'Weird "Name"': null }),
      row('insert', 3, { email: 'c@x', score: 7, 'Weird "Name"': null }),
      row('insert', 1, { email: 'dup@x', score: 0.2, 'Weird "Name"': null }),
      row('insert', 4, { email: 'd@x', score: 0.4, 'Weird "Name"': null }),
    ];
    const outcomes = await adapter.send(batch('r2:0', second));
    expect(outcomes.map((o) => [o.status, o.reason ?? ''])).toEqual([
      ['applied', ''],
      ['applied', ''],
      ['rejected', 'no record with this key at the destination'],
      ['rejected', expect.stringMatching(/violates check constraint "leads_score_check"/)],
      ['rejected', expect.stringMatching(/duplicate key value violates unique constraint "leads_pkey".*\(lead_id\)=\(1\)/)],
      ['applied', ''],
    ]);
    expect(await leads()).toEqual([
      { id: 1, email: 'a2@x', score: '0.1000', weird: 'y' },
      { id: 2, email: 'b2@x', score: '0.7500', weird: 'x' },
      { id: 4, email: 'd@x', score: '0.4000', weird: null },
    ]);
    const deletes = await adapter.send(batch('r3:0', [row('delete', 4, { email: 'd@x' }), row('delete', 77, null)]));
    expect(deletes.map((o) => o.status)).toEqual(['applied', 'unchanged']);
    expect((await leads()).map((l) => l.id)).toEqual([1, 2]);
  });

  it('applies a batch sent twice under one idempotency key once, and answers the same', async () => {
    const adapter = postgresDestination(options());
    await adapter.prepare();
    await pool.query(`delete from crm.leads`);
    const rows = [row('insert', 10, { email: 'once@x', score: 0.3, 'Weird "Name"': 'intact: \'"\\ \u2028 😀' })];
    const first = await adapter.send(batch('r4:0', rows));
    // the answer was lost: the same rows again under the same key (a plain insert would now be a duplicate)
    const again = await adapter.send({ ...batch('r4:0', rows), resent: true });
    expect(again).toEqual(first);
    expect(await leads()).toEqual([{ id: 10, email: 'once@x', score: '0.3000', weird: 'intact: \'"\\ \u2028 😀' }]);
    const book = await pool.query(`select count(*)::int as n from crm.lastmile_sync_batches where idempotency_key = 'r4:0'`);
    expect(book.rows[0].n).toBe(1);
  });

  it("nulls: 'skip' keeps the destination's value where the record has no field", async () => {
    const adapter = postgresDestination(options({ nulls: 'skip' }));
    await adapter.prepare();
    const outcomes = await adapter.send(batch('r5:0', [row('upsert', 10, { score: 0.9 }), row('upsert', 11, { email: 'new@x' })]));
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied']);
    await pool.query(`delete from crm.leads where lead_id = 11`);
    expect(await leads()).toEqual([{ id: 10, email: 'once@x', score: '0.9000', weird: 'intact: \'"\\ \u2028 😀' }]);
  });
});

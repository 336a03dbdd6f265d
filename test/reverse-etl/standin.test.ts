/**
 * Reverse ETL end to end in dev, on real parts (embedded PostgreSQL, the devserver, the real worker): a destination
 * declared for production syncs into the environment's stand-in table; each sync sends only the difference against
 * what the destination acknowledged, computed in the warehouse; every mode leaves the exact final state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runResult, startRun } from '../../src/runtime/session.js';
import { productModule } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const CONFIG = `import { defineConfig } from 'lastmile';
export default defineConfig({
  environments: { dev: { warehouse: { urlEnv: 'LS_WAREHOUSE_URL' } }, prod: { warehouse: { urlEnv: 'LS_PROD_WAREHOUSE_URL' } } },
  promotion: ['dev', 'prod'],
});
`;

const COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'name', type: 'text' },
  { name: 'score', type: 'numeric(6,2)' },
];

const sync = (name: string, mode: string, extra = '') =>
  productModule({
    name,
    source: "select id, name, score from ${table('scratch.leads')}",
    columns: COLUMNS,
    key: ['id'],
    serve: [
      `reverseEtl({ name: 'crm', mode: '${mode}', destination: { type: 'http', url: 'https://crm.example.com/api/leads' }, key: 'id', mapping: { leadId: 'id', fullName: 'name', leadScore: 'score' }${extra} })`,
    ],
  });

let rt: RuntimeHarness;

beforeAll(async () => {
  rt = await startRuntime({
    config: CONFIG,
    warehouseUrlEnv: 'LS_WAREHOUSE_URL',
    sql: `create schema scratch;
          create table scratch.leads (id bigint primary key, name text, score numeric(6,2));
          insert into scratch.leads select g, 'lead ' || g, g / 10.0 from generate_series(1, 50) g;`,
    products: {
      upserts: sync('upserts', 'upsert'),
      mirrors: sync('mirrors', 'mirror', ", guardrails: { maxDeletedShare: 0.5 }"),
      inserts: sync('inserts', 'insert'),
      updates: sync('updates', 'update'),
      skips: sync('skips', 'upsert', ", nulls: 'skip'"),
    },
  });
}, 120_000);

afterAll(async () => {
  await rt?.close();
});

const standIn = async (product: string) =>
  (await rt.warehouse.query<{ leadId: string; fullName: string | null; leadScore: string | null }>(`select "leadId", "fullName", "leadScore" from standin.${product}__crm order by "leadId"`)).rows;

const run = async (product: string) => runResult(await startRun(rt.session, rt.product(product)));

describe('a sync into the stand-in of dev', () => {
  it('upserts every row first, then only what changed', async () => {
    const first = await run('upserts');
    expect(first.status).toBe('succeeded');
    expect(first.targets[0]).toMatchObject({ status: 'succeeded', rows: 50, sync: { planned: { upsert: 50, unchanged: 0 } } });
    expect(await standIn('upserts')).toHaveLength(50);

    await rt.warehouse.query(`update scratch.leads set score = 9.99 where id in (3, 4)`);
    await rt.warehouse.query(`insert into scratch.leads values (51, 'lead 51', 5.1)`);
    const second = await run('upserts');
    expect(second.targets[0]).toMatchObject({ status: 'succeeded', rows: 3, sync: { planned: { upsert: 3, unchanged: 48, synced: 50 } } });
    const rows = await standIn('upserts');
    expect(rows).toHaveLength(51);
    expect(rows.find((r) => r.leadId === '3')?.leadScore).toBe('9.99');

    const third = await run('upserts');
    expect(third.targets[0]).toMatchObject({ status: 'succeeded', rows: 0 });
    expect(third.targets[0]!.detail).toMatch(/nothing to send: 51 records already in sync/);
  }, 120_000);

  it('mirrors deletes only what it synced, and not upserts-only targets', async () => {
    await run('mirrors');
    await run('upserts');
    // a record somebody else put at the destination is never deleted by the mirror
    await rt.warehouse.query(`insert into standin.mirrors__crm ("leadId", "fullName", "leadScore") values (9999, 'not ours', 1)`);
    await rt.warehouse.query(`delete from scratch.leads where id in (1, 2)`);
    const mirrored = await run('mirrors');
    expect(mirrored.targets[0]).toMatchObject({ status: 'succeeded', sync: { planned: { delete: 2 } } });
    const ids = (await standIn('mirrors')).map((r) => Number(r.leadId));
    expect(ids).not.toContain(1);
    expect(ids).not.toContain(2);
    expect(ids).toContain(9999);
    const upserted = await run('upserts');
    expect(upserted.targets[0]).toMatchObject({ sync: { planned: { delete: 0 } } });
    expect((await standIn('upserts')).map((r) => Number(r.leadId))).toContain(1);
  }, 120_000);

  it('inserts only new records; updates only existing ones, rejecting the rest', async () => {
    await run('inserts');
    await rt.warehouse.query(`update scratch.leads set name = 'renamed' where id = 5`);
    const again = await run('inserts');
    // insert mode does not send changes
    expect(again.targets[0]).toMatchObject({ status: 'succeeded', rows: 0 });
    expect((await standIn('inserts')).find((r) => r.leadId === '5')?.fullName).toBe('lead 5');

    // update mode on an empty destination: every row is rejected, and the run says so
    const updated = await run('updates');
    expect(updated.status).toBe('partial');
    expect(updated.targets[0]).toMatchObject({ status: 'partial', rows: 0 });
    const leads = (await rt.warehouse.query(`select count(*)::int as n from scratch.leads`)).rows[0].n as number;
    expect(updated.targets[0]!.detail).toMatch(new RegExp(`0 applied, 0 unchanged, ${leads} rejected`));
    const rejected = await rt.warehouse.query(`select count(*)::int as n from lastmile.sync_ops o join lastmile.sync_runs r using (run_id) where r.product = 'updates' and o.status = 'rejected' and o.reason like 'no record%'`);
    expect(rejected.rows[0].n).toBe(leads);
    // a record that appears at the destination is updated at the next sync (rejected rows are sent again)
    await rt.warehouse.query(`insert into standin.updates__crm ("leadId", "fullName", "leadScore") values (7, 'old', 0)`);
    const retried = await run('updates');
    expect(retried.targets[0]).toMatchObject({ status: 'partial', rows: 1 });
    expect((await standIn('updates')).find((r) => r.leadId === '7')?.fullName).toBe('lead 7');
  }, 120_000);

  it("nulls: 'skip' never overwrites a value with NULL", async () => {
    await run('skips');
    await rt.warehouse.query(`update scratch.leads set name = null where id = 10`);
    const skipped = await run('skips');
    expect(skipped.targets[0]).toMatchObject({ status: 'succeeded', rows: 1 });
    expect((await standIn('skips')).find((r) => r.leadId === '10')?.fullName).toBe('lead 10');
    await run('upserts');
    expect((await standIn('upserts')).find((r) => r.leadId === '10')?.fullName).toBeNull();
  }, 120_000);
});

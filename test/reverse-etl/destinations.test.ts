/**
 * Syncs through the workflow into each kind of real destination an environment's `destinations` map it to: an HTTP
 * API (the contract's stand-in server, rate-limited), HubSpot (a local server behaving as HubSpot documents) and a
 * PostgreSQL table in another database (by its URL variable) — each mode leaving the destination's exact state, and
 * the declared production places never reached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { runResult, startRun } from '../../src/runtime/session.js';
import { productModule } from '../support/cli.js';
import { startFakeHubspot, type FakeHubspot } from '../support/fake-hubspot.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';
import { startSyncServer, type SyncServer } from '../support/sync-server.js';

let api: SyncServer;
let hubspot: FakeHubspot;
let rt: RuntimeHarness;
let ops: pg.Pool;

const COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'email', type: 'text' },
  { name: 'score', type: 'numeric(5,2)' },
];

const target = (name: string, destination: string, mode: string, extra = '') =>
  productModule({
    name,
    source: "select id, email, score from ${table('scratch.leads')}",
    columns: COLUMNS,
    key: ['id'],
    serve: [`reverseEtl({ name: 'sync', mode: '${mode}', destination: ${destination}, key: 'id', mapping: { lead_id: 'id', email: 'email', score: 'score' }${extra} })`],
  });

beforeAll(async () => {
  api = await startSyncServer({ token: 'api-token-0123456789', rateLimit: 4 });
  hubspot = await startFakeHubspot({ token: 'hub-token-0123456789', objectTypes: { contacts: { unique: ['email', 'lead_id'] } } });
  process.env.LT_API_TOKEN = api.token!;
  process.env.LT_HUB_TOKEN = hubspot.token;
  const config = `import { defineConfig } from 'lastmile';
export default defineConfig({
  environments: {
    dev: {
      warehouse: { urlEnv: 'LT_WAREHOUSE_URL' },
      destinations: {
        'https://api.example.com/': '${api.url.replace(/\/sync$/, '/')}',
        'https://api.hubapi.com': '${hubspot.url}',
        'secret:LT_OPS_DB_URL': 'secret:LT_OPS_DEV_DB_URL',
      },
    },
    prod: { warehouse: { urlEnv: 'LT_PROD_WAREHOUSE_URL' } },
  },
  promotion: ['dev', 'prod'],
});
`;
  rt = await startRuntime({
    config,
    warehouseUrlEnv: 'LT_WAREHOUSE_URL',
    sql: `create schema scratch;
          create table scratch.leads as select g::bigint as id, 'lead' || g || '@example.com' as email, (g % 10)::numeric(5,2) as score from generate_series(1, 60) g;`,
    products: {
      http_mirror: target('http_mirror', "{ type: 'http', url: 'https://api.example.com/sync', auth: secret('LT_API_TOKEN') }", 'mirror', ', batchSize: 5, concurrency: 3, rateLimit: { requestsPerSecond: 4 }, guardrails: { maxDeletedShare: 0.5 }'),
      hub_mirror: target('hub_mirror', "{ type: 'hubspot', objectType: 'contacts', idProperty: 'lead_id', token: secret('LT_HUB_TOKEN') }", 'mirror', ', guardrails: { maxDeletedShare: 0.5 }'),
      pg_upsert: target('pg_upsert', "{ type: 'postgres', url: secret('LT_OPS_DB_URL'), table: 'crm.leads' }", 'upsert'),
    },
  });
  await rt.server.ensureDatabase('ops_dev');
  process.env.LT_OPS_DEV_DB_URL = rt.server.urlFor('ops_dev');
  // the production variable points nowhere: reading it would fail the sync
  process.env.LT_OPS_DB_URL = 'postgres://nobody@127.0.0.1:1/none';
  ops = new pg.Pool({ connectionString: process.env.LT_OPS_DEV_DB_URL, max: 2 });
  ops.on('error', () => undefined);
  await ops.query(`create schema crm; create table crm.leads (lead_id bigint primary key, email text, score numeric(5,2))`);
}, 120_000);

afterAll(async () => {
  await ops?.end();
  await rt?.close();
  await api?.close();
  await hubspot?.close();
});

const run = async (product: string) => runResult(await startRun(rt.session, rt.product(product)));

describe('syncs into mapped destinations', () => {
  it('an HTTP API: mirror at the configured pace, then only the difference, deletes included', async () => {
    const first = await run('http_mirror');
    expect(first.status, first.error).toBe('succeeded');
    // 12 batches of 5; a request the server throttled was sent again, not counted as a failure
    expect(first.targets[0]).toMatchObject({ rows: 60, sync: { retries: 0 } });
    expect(first.targets[0]!.sync!.requests - first.targets[0]!.sync!.throttled).toBe(12);
    expect(api.records()).toHaveLength(60);
    // 12 requests at 4 a second (the server allows 4): the pace kept it from being throttled more than a little
    expect(first.targets[0]!.sync!.throttled).toBeLessThanOrEqual(2);
    expect(api.maxWithin(950)).toBeLessThanOrEqual(4);

    await rt.warehouse.query(`update scratch.leads set score = 99 where id = 5; delete from scratch.leads where id in (1, 2)`);
    const second = await run('http_mirror');
    expect(second.targets[0]).toMatchObject({ status: 'succeeded', sync: { planned: { upsert: 1, delete: 2 } } });
    const records = api.records();
    expect(records.map((r) => Number(r.key.lead_id)).sort((a, b) => a - b)).toEqual(Array.from({ length: 58 }, (_, i) => i + 3));
    expect(records.find((r) => Number(r.key.lead_id) === 5)!.record.score).toBe(99);
    expect([...api.applications().values()].every((n) => n === 1)).toBe(true);
  }, 120_000);

  it('HubSpot: upserts by the unique property, then archives what left the result by its object id', async () => {
    const first = await run('hub_mirror');
    expect(first.status, first.error).toBe('succeeded');
    expect(hubspot.records('contacts')).toHaveLength(58);
    const ids = await rt.warehouse.query(`select count(*)::int as n from lastmile.sync_state where product = 'hub_mirror' and remote_id is not null`);
    expect(ids.rows[0].n).toBe(58);
    await rt.warehouse.query(`delete from scratch.leads where id = 3; update scratch.leads set email = 'changed@example.com' where id = 4`);
    const second = await run('hub_mirror');
    expect(second.targets[0]).toMatchObject({ status: 'succeeded', sync: { planned: { upsert: 1, delete: 1 } } });
    const contacts = hubspot.records('contacts');
    expect(contacts).toHaveLength(57);
    expect(contacts.find((c) => c.properties.lead_id === '4')!.properties.email).toBe('changed@example.com');
    expect(contacts.some((c) => c.properties.lead_id === '3')).toBe(false);
  }, 120_000);

  it("a PostgreSQL table through the environment's own URL variable, never production's", async () => {
    const first = await run('pg_upsert');
    expect(first.status, first.error).toBe('succeeded');
    const rows = await ops.query(`select count(*)::int as n, sum(score)::text as total from crm.leads`);
    const source = await rt.warehouse.query(`select count(*)::int as n, sum(score)::text as total from scratch.leads`);
    expect(rows.rows[0]).toEqual(source.rows[0]);
    expect(first.targets[0]!.detail).toMatch(/at postgres crm\.leads \(LT_OPS_DEV_DB_URL\)/);
  }, 120_000);
});

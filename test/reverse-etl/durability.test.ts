/**
 * Reverse ETL across failures, on real parts: `lastmile worker` processes SIGKILLed at random points of a 50,000-row
 * sync into an HTTP destination that counts every batch by idempotency key — the final state is exact and no batch is
 * applied twice; a sync its guardrails hold waits through a worker restart, then applies exactly its frozen plan when
 * approved; one nobody decides on is abandoned at its timeout, sending nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runResult, startRun } from '../../src/runtime/session.js';
import { killStrays, productModule, spawnCli, type CliProcess } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';
import { startSyncServer, type SyncServer } from '../support/sync-server.js';

const ROWS = 50_000;
const KILLS = 20;

let server: SyncServer;
let rt: RuntimeHarness;

const config = (url: string) => `import { defineConfig } from 'lastmile';
export default defineConfig({
  environments: {
    dev: { warehouse: { urlEnv: 'LD_WAREHOUSE_URL' }, destinations: { 'https://crm.example.com/': '${url.replace(/\/sync$/, '/')}' }, alerts: { log: true } },
    prod: { warehouse: { urlEnv: 'LD_PROD_WAREHOUSE_URL' } },
  },
  promotion: ['dev', 'prod'],
});
`;

const COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'score', type: 'numeric(8,2)' },
];

beforeAll(async () => {
  server = await startSyncServer({ token: 'sync-token-0123456789' });
  process.env.LD_SYNC_TOKEN = server.token!;
  rt = await startRuntime({
    config: config(server.url),
    warehouseUrlEnv: 'LD_WAREHOUSE_URL',
    worker: false,
    sql: `create schema scratch;
          create table scratch.leads as select g::bigint as id, (g % 100)::numeric(8,2) as score from generate_series(1, ${ROWS}) g;
          create table scratch.bids as select g::bigint as id, 1.00::numeric(8,2) as score from generate_series(1, 100) g;`,
    products: {
      bulk: productModule({
        name: 'bulk',
        source: "select id, score from ${table('scratch.leads')}",
        columns: COLUMNS,
        key: ['id'],
        serve: [
          "reverseEtl({ name: 'crm', destination: { type: 'http', url: 'https://crm.example.com/sync', auth: secret('LD_SYNC_TOKEN'), timeout: '3s' }, key: 'id', mapping: { leadId: 'id', score: 'score' }, batchSize: 100, concurrency: 2, rateLimit: { requestsPerSecond: 20 } })",
        ],
      }),
      bids: productModule({
        name: 'bids',
        source: "select id, score from ${table('scratch.bids')}",
        columns: COLUMNS,
        key: ['id'],
        serve: [
          "reverseEtl({ name: 'ads', destination: { type: 'http', url: 'https://crm.example.com/sync', auth: secret('LD_SYNC_TOKEN') }, key: 'id', mapping: { bidId: 'id', maxCpc: 'score' }, guardrails: { totals: [{ column: 'score', maxIncrease: 0.2 }] }, approvalTimeout: '4s' })",
        ],
      }),
    },
  });
}, 120_000);

afterAll(async () => {
  await killStrays();
  await rt?.close();
  await server?.close();
});

const workerEnv = () => ({ LD_WAREHOUSE_URL: process.env.LD_WAREHOUSE_URL, LD_SYNC_TOKEN: server.token, TEMPORAL_ADDRESS: rt.devserver.address });

async function startWorker(): Promise<CliProcess> {
  const worker = spawnCli(['worker', '--root', rt.project.root], { env: workerEnv() });
  await worker.waitFor(/worker ready for dev/, 120_000);
  return worker;
}

async function kill(worker: CliProcess): Promise<void> {
  process.kill(-worker.pid, 'SIGKILL');
  await worker.exited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a sync whose workers are killed at random points', () => {
  it(`ends with the exact state and no batch applied twice after ${KILLS} SIGKILLs`, async () => {
    const handle = await startRun(rt.session, rt.product('bulk'));
    // a seeded sequence of kill moments: some before the plan is frozen, most in the middle of sending batches
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    let kills = 0;
    while (kills < KILLS) {
      const worker = await startWorker();
      await sleep(200 + random() * 2500);
      await kill(worker);
      kills += 1;
      const done = await rt.warehouse.query<{ acked: string }>(`select count(*) filter (where acked_at is not null) as acked from lastmile.sync_batches`);
      if (Number(done.rows[0]?.acked ?? 0) >= ROWS / 100) break;
    }
    expect(kills).toBe(KILLS);
    const last = await startWorker();
    const summary = await runResult(handle);
    await kill(last);
    expect(summary.status, JSON.stringify(summary.targets)).toBe('succeeded');
    expect(summary.targets[0]).toMatchObject({ status: 'succeeded', rows: ROWS });

    const records = server.records();
    expect(records).toHaveLength(ROWS);
    const byId = new Map(records.map((r) => [Number(r.key.leadId), r.record]));
    for (const id of [1, 99, 100, 25_000, ROWS]) expect(byId.get(id)).toEqual({ leadId: id, score: id % 100 });
    // the destination applied every batch exactly once, however often it was sent
    const applied = [...server.applications().values()];
    expect(applied.every((n) => n === 1)).toBe(true);
    expect(server.counts.rowsApplied).toBe(ROWS);
    const state = await rt.warehouse.query<{ n: string }>(`select count(*) as n from lastmile.sync_state where product = 'bulk' and status = 'applied'`);
    expect(Number(state.rows[0]!.n)).toBe(ROWS);
  }, 600_000);
});

describe('a sync held by its guardrails', () => {
  it('waits through a worker restart, then applies exactly its frozen plan when approved', async () => {
    let worker = await startWorker();
    const first = await runResult(await startRun(rt.session, rt.product('bids')));
    expect(first.status).toBe('succeeded');
    // every bid up 50 %: the total guardrail (+20 %) holds the sync
    await rt.warehouse.query(`update scratch.bids set score = 1.50`);
    const held = await startRun(rt.session, rt.product('bids'));
    const runId = await waitForState('bids', 'held');
    // the alert is raised once the plan is held
    let alert = await rt.warehouse.query(`select message from lastmile.alerts where kind = 'sync' and resolved_at is null`);
    for (let i = 0; i < 100 && alert.rows.length === 0; i++) {
      await sleep(100);
      alert = await rt.warehouse.query(`select message from lastmile.alerts where kind = 'sync' and resolved_at is null`);
    }
    expect(alert.rows[0].message).toMatch(/the total of score would go from 100 to 150 \(\+50 %; limit \+20 %\)/);
    // the frozen plan is what is approved: a change to the source after the freeze is not sent by this run
    await rt.warehouse.query(`update scratch.bids set score = 9.99 where id = 1`);
    await kill(worker);
    worker = await startWorker();
    await rt.session.client.workflow.getHandle(await childOf(runId)).signal('approveSync', { by: 'tester', reason: 'the campaign doubles' });
    const summary = await runResult(held);
    expect(summary.status).toBe('succeeded');
    expect(summary.targets[0]!.detail).toMatch(/100 applied.*approved after its guardrails held it/);
    const bid1 = server.records().find((r) => Number(r.key.bidId) === 1)!;
    expect(bid1.record.maxCpc).toBe(1.5);
    const decided = await rt.warehouse.query(`select state, decided_by, decision_reason from lastmile.sync_runs where run_id = $1`, [runId]);
    expect(decided.rows[0]).toEqual({ state: 'applied', decided_by: 'tester', decision_reason: 'the campaign doubles' });
    expect((await rt.warehouse.query(`select count(*)::int as n from lastmile.alerts where kind = 'sync' and resolved_at is null`)).rows[0].n).toBe(0);
    await kill(worker);
  }, 240_000);

  it('is abandoned when nobody decides before its timeout, and sends nothing', async () => {
    const worker = await startWorker();
    const before = server.counts.requests;
    await rt.warehouse.query(`update scratch.bids set score = 5.00`);
    const summary = await runResult(await startRun(rt.session, rt.product('bids')));
    expect(summary.status).toBe('blocked');
    expect(summary.targets[0]).toMatchObject({ status: 'blocked', rows: 0 });
    expect(summary.targets[0]!.detail).toMatch(/held by guardrails .* then abandoned: nothing was sent/);
    expect(server.counts.requests).toBe(before);
    const run = await rt.warehouse.query(`select state from lastmile.sync_runs where run_id = $1`, [`${summary.runId}/ads`]);
    expect(run.rows[0].state).toBe('abandoned');
    await kill(worker);
  }, 240_000);
});

async function waitForState(product: string, state: string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const found = await rt.warehouse.query<{ run_id: string }>(`select run_id from lastmile.sync_runs where product = $1 and state = $2 order by created_at desc limit 1`, [product, state]);
    if (found.rows[0]) return found.rows[0].run_id;
    await sleep(100);
  }
  throw new Error(`no sync of ${product} reached ${state}`);
}

async function childOf(runId: string): Promise<string> {
  const found = await rt.warehouse.query<{ workflow_id: string }>(`select workflow_id from lastmile.sync_runs where run_id = $1`, [runId]);
  return found.rows[0]!.workflow_id;
}

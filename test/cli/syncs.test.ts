/**
 * The reverse ETL commands as a user runs them, on real parts (embedded PostgreSQL, the devserver and the real worker
 * in this process; the CLI as child processes reaching the same warehouse and Temporal): `run --dry-run` computes a
 * sync's plan and leaves no trace, `syncs` reads the sync log, `approve` and `reject` decide a sync its guardrails
 * held — through the workflow — and refuse, saying why, a sync that is not held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runResult, startRun } from '../../src/runtime/session.js';
import { json, killStrays, productModule, runCli, type CliResult } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const CONFIG = `import { defineConfig } from 'lastmile';
export default defineConfig({
  environments: { dev: { warehouse: { urlEnv: 'SY_WAREHOUSE_URL' } }, prod: { warehouse: { urlEnv: 'SY_PROD_WAREHOUSE_URL' } } },
  promotion: ['dev', 'prod'],
});
`;

const COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'score', type: 'numeric(6,2)' },
];
const SOURCE = "select id, score from ${table('scratch.leads')}";

const LEADS = productModule({
  name: 'leads',
  source: SOURCE,
  columns: COLUMNS,
  key: ['id'],
  serve: [
    "reverseEtl({ name: 'crm', destination: { type: 'http', url: 'https://crm.example.com/api' }, key: 'id', mapping: { leadId: 'id', leadScore: 'score' }, guardrails: { values: [{ column: 'score', max: 5 }] } })",
    "files({ name: 'weekly_csv', format: 'csv', to: './exchange/leads' })",
  ],
});
const PLAIN = productModule({ name: 'plain', source: SOURCE, columns: COLUMNS, serve: ["files({ name: 'weekly_csv', format: 'csv', to: './exchange/plain' })"] });

interface DryRunJson {
  destination: string;
  place: { kind: string; table?: string };
  mode: string;
  counts: Record<string, number>;
  verdicts: { guardrail: string; tripped: boolean; message: string }[];
  held: boolean;
  samples: { op: string; key: string; record: Record<string, unknown> }[];
}
interface SyncsJson {
  runs: { runId: string; target: string; state: string; counts: Record<string, number>; outcome: Record<string, number> | null; decidedBy: string | null; tripped: string[] }[];
  run: { runId: string; state: string; operations: { total: number; matching: number; byStatus: Record<string, number>; rows: { key: string; op: string; status: string; attempt: number; reason: string | null }[] } } | null;
}

let rt: RuntimeHarness;
let env: Record<string, string>;
const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--root', rt.project.root], { env });

const count = async (table: string): Promise<number> => (await rt.warehouse.query(`select count(*)::int as n from ${table}`)).rows[0].n as number;
const standIn = async (): Promise<{ leadId: string; leadScore: string }[] | null> => {
  const exists = (await rt.warehouse.query(`select to_regclass('standin.leads__crm') as t`)).rows[0].t;
  if (exists === null) return null;
  return (await rt.warehouse.query(`select "leadId", "leadScore" from standin.leads__crm order by "leadId"`)).rows;
};
const syncRun = async (runId: string) =>
  (await rt.warehouse.query<{ state: string; decided_by: string | null; workflow_id: string }>(`select state, decided_by, workflow_id from lastmile.sync_runs where run_id = $1`, [runId])).rows[0];

/** Starts a run of leads/crm and waits until its sync is held for a decision. */
async function heldRun() {
  const handle = await startRun(rt.session, rt.product('leads'), { targets: ['crm'] });
  const runId = `${handle.firstExecutionRunId}/crm`;
  const deadline = Date.now() + 30_000;
  while ((await syncRun(runId))?.state !== 'held') {
    if (Date.now() > deadline) throw new Error(`the sync of run ${runId} was not held within 30 s: ${JSON.stringify(await syncRun(runId))}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { handle, runId };
}

beforeAll(async () => {
  rt = await startRuntime({
    config: CONFIG,
    warehouseUrlEnv: 'SY_WAREHOUSE_URL',
    sql: `create schema scratch;
          create table scratch.leads (id bigint primary key, score numeric(6,2));
          insert into scratch.leads values (1, 1), (2, 2), (3, 3);`,
    products: { leads: LEADS, plain: PLAIN },
  });
  env = { SY_WAREHOUSE_URL: rt.server.urlFor('warehouse_dev'), TEMPORAL_ADDRESS: rt.devserver.address };
}, 120_000);

afterAll(async () => {
  await killStrays();
  await rt?.close();
});

describe('lastmile run --dry-run, syncs, approve and reject', () => {
  let appliedRunId: string;

  it('run --dry-run prints the plan, its verdicts and sample rows, and writes nothing', async () => {
    const before = { runs: await count('lastmile.sync_runs'), state: await count('lastmile.sync_state'), table: await standIn() };
    const [asJson, asText] = await Promise.all([cli('run', 'leads', '--target', 'crm', '--dry-run', '--json'), cli('run', 'leads', '--target', 'crm', '--dry-run')]);
    expect(asJson.code, asJson.stderr).toBe(0);
    const plan = json<DryRunJson>(asJson);
    expect(plan).toMatchObject({ destination: 'stand-in standin.leads__crm', place: { kind: 'standin', table: 'standin.leads__crm' }, mode: 'upsert', held: false });
    expect(plan.counts).toEqual({ rows: 3, insert: 0, update: 0, upsert: 3, delete: 0, nullKeys: 0, unchanged: 0, synced: 0 });
    expect(plan.verdicts).toEqual([expect.objectContaining({ guardrail: 'values.score', tripped: false, message: 'every score sent is within −∞ to 5' })]);
    expect(plan.samples.map((s) => [s.op, s.key, Number(s.record.leadScore)])).toEqual([['upsert', '1', 1], ['upsert', '2', 2], ['upsert', '3', 3]]);

    expect(asText.code, asText.stderr).toBe(0);
    expect(asText.stdout).toMatch(/^dry run of leads\/crm in dev: nothing was sent and nothing recorded/m);
    expect(asText.stdout).toMatch(/^destination: stand-in standin\.leads__crm — https:\/\/crm\.example\.com\/api is the production environment's/m);
    expect(asText.stdout).toMatch(/^mode upsert: 3 rows read, 3 operations in 1 batch of up to \d+; 0 records synced before$/m);
    expect(asText.stdout).toMatch(/^upsert\s+3$/m);
    expect(asText.stdout).toMatch(/^null keys\s+0$/m);
    expect(asText.stdout).toMatch(/^values\.score\s+ok\s+every score sent is within −∞ to 5$/m);
    expect(asText.stdout).toMatch(/^a run now would apply this plan without waiting for a decision$/m);
    expect(asText.stdout).toMatch(/^its 3 operations:$/m);
    expect(asText.stdout).toMatch(/^upsert\s+2\s+\{"leadId":2,"leadScore":2(\.00)?\}$/m);

    // rolled back: no sync run, no synced state, no stand-in table
    expect({ runs: await count('lastmile.sync_runs'), state: await count('lastmile.sync_state'), table: await standIn() }).toEqual(before);
    expect(before).toEqual({ runs: 0, state: 0, table: null });
  }, 60_000);

  it('a run syncs the rows; syncs lists the run and its operations, as text and as JSON', async () => {
    const handle = await startRun(rt.session, rt.product('leads'), { targets: ['crm'] });
    // a sync run is one target of a product run: <runId>/<target>
    appliedRunId = `${handle.firstExecutionRunId}/crm`;
    const summary = await runResult(handle);
    expect(summary.status).toBe('succeeded');
    expect(summary.targets[0]).toMatchObject({ name: 'crm', status: 'succeeded', rows: 3 });
    expect((await standIn())!.map((r) => [r.leadId, r.leadScore])).toEqual([['1', '1.00'], ['2', '2.00'], ['3', '3.00']]);

    const [text, asJson] = await Promise.all([cli('syncs', 'leads'), cli('syncs', 'leads', '--json')]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^leads in dev — the latest sync run of its reverse ETL target \(crm\), newest first$/m);
    expect(text.stdout).toMatch(/^run id\s+target\s+state\s+mode\s+planned\s+applied\s+unchanged\s+rejected\s+transient\s+destination\s+created \(UTC\)\s+decided by\s+note$/m);
    expect(text.stdout).toMatch(new RegExp(`^${appliedRunId}\\s+crm\\s+applied\\s+upsert\\s+3 upsert\\s+3\\s+0\\s+0\\s+0\\s+stand-in standin\\.leads__crm\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^run ${appliedRunId} of crm: applied at .+ UTC — its guardrails passed, so it needed no decision\\n3 operations: 3 applied$`, 'm'));
    expect(text.stdout).toMatch(/^key\s+op\s+status\s+attempt\s+reason$/m);
    expect(text.stdout).toMatch(/^2\s+upsert\s+applied\s+\d+$/m);

    expect(asJson.code, asJson.stderr).toBe(0);
    const log = json<SyncsJson>(asJson);
    expect(log.runs).toEqual([expect.objectContaining({ runId: appliedRunId, target: 'crm', state: 'applied', decidedBy: null, tripped: [] })]);
    expect(log.runs[0]!.counts).toMatchObject({ upsert: 3, unchanged: 0 });
    expect(log.runs[0]!.outcome).toMatchObject({ applied: 3, rejected: 0, transient: 0 });
    expect(log.run).toMatchObject({ runId: appliedRunId, state: 'applied', operations: { total: 3, matching: 3, byStatus: { applied: 3 } } });
    expect(log.run!.operations.rows.map((o) => [o.key, o.op, o.status])).toEqual([['1', 'upsert', 'applied'], ['2', 'upsert', 'applied'], ['3', 'upsert', 'applied']]);
  }, 60_000);

  it('a value over its bound: the dry run says TRIPS, the run holds, and approve applies the frozen plan', async () => {
    await rt.warehouse.query(`update scratch.leads set score = 9 where id = 2`);
    const dry = await cli('run', 'leads', '--target', 'crm', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^upsert\s+1$/m);
    expect(dry.stdout).toMatch(/^unchanged\s+2$/m);
    expect(dry.stdout).toMatch(/^values\.score\s+TRIPS\s+1 rows have score outside −∞ to 5$/m);
    expect(dry.stdout).toMatch(/^a run now would hold this sync for a decision/m);
    expect((await standIn())!.find((r) => r.leadId === '2')!.leadScore).toBe('2.00');

    const { handle, runId } = await heldRun();
    const held = json<SyncsJson>(await cli('syncs', 'leads', '--json'));
    expect(held.runs[0]).toMatchObject({ runId, state: 'held', tripped: ['1 rows have score outside −∞ to 5'] });

    // a unique prefix of the run id is enough
    const approved = await cli('approve', runId.slice(0, 8), '--by', 'alice', '--reason', 'scores rescaled on purpose');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`approving the held sync of run ${runId}: leads/crm in dev → stand-in standin.leads__crm (upsert)`);
    expect(approved.stdout).toMatch(/^ {2}plan: 1 upsert \(2 unchanged\) in 1 batch, frozen .+ UTC$/m);
    expect(approved.stdout).toMatch(/^ {2}held by values\.score: 1 rows have score outside −∞ to 5$/m);
    expect(approved.stdout).toMatch(/^approved by alice \(scores rescaled on purpose\): .*\(state (approved|applying|applied)/m);
    expect(approved.stderr).toContain(`signalled approveSync to ${(await syncRun(runId))!.workflow_id}`);

    const summary = await runResult(handle);
    expect(summary.status).toBe('succeeded');
    expect(summary.targets[0]!.detail).toMatch(/approved after its guardrails held it/);
    expect((await standIn())!.map((r) => [r.leadId, r.leadScore])).toEqual([['1', '1.00'], ['2', '9.00'], ['3', '3.00']]);
    expect(await syncRun(runId)).toMatchObject({ state: 'applied', decided_by: 'alice' });

    // deciding a sync that is not held is refused with its state
    const again = await cli('approve', runId);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`the sync of run ${runId} \\(leads/crm in dev\\) is not held, so there is nothing to approve: it is applied at .+ UTC, approved by alice at .+ UTC \\(scores rescaled on purpose\\) after its guardrails held it`));
  }, 90_000);

  it('reject sends nothing and leaves the run blocked; approving it afterwards says it was rejected, and by whom', async () => {
    await rt.warehouse.query(`update scratch.leads set score = 10 where id = 3`);
    const { handle, runId } = await heldRun();
    const rejected = await cli('reject', runId, '--by', 'bob', '--reason', 'upstream bug', '--json');
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(json(rejected)).toMatchObject({
      runId,
      product: 'leads',
      target: 'crm',
      decision: 'rejected',
      by: 'bob',
      recorded: true,
      state: 'rejected',
      decidedBy: 'bob',
      decisionReason: 'upstream bug',
      plan: { planned: '1 upsert (2 unchanged)', tripped: [{ guardrail: 'values.score', message: '1 rows have score outside −∞ to 5' }] },
    });
    const summary = await runResult(handle);
    expect(summary.status).toBe('blocked');
    expect(summary.targets[0]).toMatchObject({ status: 'blocked', rows: 0 });
    expect(summary.targets[0]!.detail).toMatch(/then rejected by bob: nothing was sent/);
    expect((await standIn())!.find((r) => r.leadId === '3')!.leadScore).toBe('3.00');

    const [approveRejected, approveApplied, failedOnly] = await Promise.all([
      cli('approve', runId),
      cli('approve', appliedRunId, '--json'),
      cli('syncs', 'leads', '--run', runId.slice(0, 12), '--failed'),
    ]);
    expect(approveRejected.code).toBe(1);
    expect(approveRejected.stderr).toMatch(new RegExp(`is not held, so there is nothing to approve: it is rejected by bob at .+ UTC \\(upstream bug\\): nothing was sent`));
    expect(approveApplied.code).toBe(1);
    expect(json<{ error: { message: string } }>(approveApplied).error.message).toMatch(/it is applied at .+ UTC — its guardrails passed, so it needed no decision$/);
    expect(failedOnly.code, failedOnly.stderr).toBe(0);
    expect(failedOnly.stdout).toMatch(new RegExp(`^${runId}\\s+crm\\s+rejected\\s+upsert\\s+1 upsert \\(2 unchanged\\)\\s+.*\\s+bob\\s+upstream bug$`, 'm'));
    expect(failedOnly.stdout).toMatch(new RegExp(`^run ${runId} of crm: rejected by bob at .+ UTC \\(upstream bug\\): nothing was sent\\n0 of 1 operations rejected or transient$`, 'm'));
  }, 90_000);

  it('a held sync whose workflow is gone: approve says the workflow is closed and exits 1', async () => {
    const { runId } = await heldRun();
    const { workflow_id } = (await syncRun(runId))!;
    await rt.session.client.workflow.getHandle(workflow_id).terminate('test: the workflow went away');
    const approved = await cli('approve', runId);
    expect(approved.code).toBe(1);
    expect(approved.stderr).toContain(`the workflow of this sync, ${workflow_id}, is closed (terminated): it no longer waits for a decision, so nothing was approved`);
    expect((await syncRun(runId))!.state).toBe('held');
  }, 60_000);

  it('errors name what exists: unknown product, target, run, a product without reverse ETL, a dry run of another kind', async () => {
    const plainRun = await runResult(await startRun(rt.session, rt.product('plain')));
    const [unknownProduct, unknownTarget, filesTarget, noSyncs, dryFiles, dryNoTarget, unknownRun, otherProductRun] = await Promise.all([
      cli('syncs', 'nope'),
      cli('syncs', 'leads', '--target', 'nope'),
      cli('syncs', 'leads', '--target', 'weekly_csv'),
      cli('syncs', 'plain'),
      cli('run', 'leads', '--target', 'weekly_csv', '--dry-run'),
      cli('run', 'leads', '--dry-run'),
      cli('approve', '00000000-no-such-run'),
      cli('syncs', 'leads', '--run', plainRun.runId),
    ]);
    expect(unknownProduct.code).toBe(2);
    expect(unknownProduct.stderr).toMatch(/no product named nope in .*; the products are leads, plain/);
    expect(unknownTarget.code).toBe(2);
    expect(unknownTarget.stderr).toContain('product leads has no reverse ETL target nope; its reverse ETL target is crm');
    expect(filesTarget.code).toBe(2);
    expect(filesTarget.stderr).toContain('product leads has no reverse ETL target weekly_csv (weekly_csv is a files target); its reverse ETL target is crm');
    expect(noSyncs.code).toBe(2);
    expect(noSyncs.stderr).toContain('product plain has no reverse ETL targets, so it has no sync log; its targets are weekly_csv (files)');
    expect(dryFiles.code).toBe(2);
    expect(dryFiles.stderr).toContain('run --dry-run is only for reverse ETL targets, and leads/weekly_csv is a files target; its reverse ETL target is crm');
    expect(dryNoTarget.code).toBe(2);
    expect(dryNoTarget.stderr).toContain('run --dry-run takes exactly one --target, a reverse ETL target of leads; its reverse ETL target is crm');
    expect(unknownRun.code).toBe(1);
    expect(unknownRun.stderr).toMatch(/no sync run 00000000-no-such-run in dev; the held syncs in dev are \S+ \(leads\/crm\)/);
    expect(otherProductRun.code).toBe(1);
    expect(otherProductRun.stderr).toMatch(new RegExp(`run ${plainRun.runId} is not a sync run of leads in dev: it is a run of plain in dev; the latest sync runs of leads in dev are \\S+`));
  }, 60_000);
});

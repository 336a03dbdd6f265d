/**
 * The commands that look into what runs left behind — `runs`, `checks`, `quarantine` — and the way into the
 * warehouse — `sql` (psql when installed, the built-in prompt otherwise) and `warehouse url` — against a project
 * whose embedded Postgres and devserver are held by the test, after real `lastmile run`s. Also: `revoke` of a
 * version that does not exist, an invalid product beside valid ones for the commands that read the store, and the
 * embedded PostgreSQL's stable port across starts of a project (a second project, nothing held for it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../workflows/types.js';
import { derivedPort } from '../../src/warehouse/embedded-port.js';
import { BIN, cliEnv, createCliProject, json, killStrays, productModule, runCli, stackLines, startProjectServices, type CliProject, type ProjectServices } from '../support/cli.js';

interface RunsJson {
  env: string;
  runs: { runId: string; product: string; status: string; trigger: string; rows: number | null; gitSha: string | null }[];
}

interface ChecksJson {
  env: string;
  product: string;
  run: { runId: string; status: string } | null;
  checks: { name: string; type: string; severity: string; status: string; failing: number; sampleKeys: Record<string, unknown>[]; message: string | null; sql: string | null }[];
}

interface QuarantineJson {
  env: string;
  product: string;
  runId: string | null;
  total: number;
  rows: { row: Record<string, unknown>; checks: string[] }[];
}

interface StatementJson {
  command: string;
  rowCount: number | null;
  rows: Record<string, string | null>[];
}

/** PATH with every folder holding `name` replaced by a copy (symlinks) without it. */
async function pathWithout(name: string, cleanup: string[]): Promise<string> {
  const dirs: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || !existsSync(path.join(dir, name))) {
      dirs.push(dir);
      continue;
    }
    const shadow = await mkdtemp(path.join(os.tmpdir(), `lastmile-no-${name}-`));
    cleanup.push(shadow);
    for (const entry of await readdir(dir)) {
      if (entry !== name) await symlink(path.join(dir, entry), path.join(shadow, entry)).catch(() => undefined);
    }
    dirs.push(shadow);
  }
  return dirs.join(path.delimiter);
}

describe('lastmile runs, checks, quarantine, sql and warehouse url', () => {
  let project: CliProject;
  let services: ProjectServices;
  let env: Record<string, string>;
  let noPsql: string;
  const cleanup: string[] = [];
  let adBids: RunSummary;
  let head: string;
  let invoices: RunSummary;

  beforeAll(async () => {
    project = await createCliProject({ git: true });
    head = project.commit('nothing new');
    services = await startProjectServices(project, { devserver: true });
    env = { TEMPORAL_ADDRESS: services.address! };
    noPsql = await pathWithout('psql', cleanup);
    // ad_bids' checks fail by design (runaway bids, quarantined); partner_invoices publishes a file version
    const ads = await runCli(['run', 'ad_bids', '--json', '--local-worker', '--root', project.root], { env, timeoutMs: 120_000 });
    const files = await runCli(['run', 'partner_invoices', '--target', 'monthly_csv', '--json', '--local-worker', '--root', project.root], { env, timeoutMs: 120_000 });
    adBids = json<RunSummary>(ads);
    invoices = json<RunSummary>(files);
  }, 240_000);

  afterEach(async () => {
    await killStrays();
  });

  afterAll(async () => {
    await killStrays();
    await services?.stop();
    await project?.remove();
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  });

  it('runs lists the recent runs newest first, with what the store holds', async () => {
    const result = await runCli(['runs', '--json', '--root', project.root], { env });
    expect(result.code, result.stderr).toBe(0);
    const listed = json<RunsJson>(result);
    const stored = (await services.warehouse.query<{ run_id: string }>(`select run_id from lastmile.runs where env = 'dev' order by started_at desc, run_id desc`)).rows;
    expect(listed.runs.map((r) => r.runId)).toEqual(stored.map((r) => r.run_id));
    expect(listed.runs.map((r) => r.product).sort()).toEqual(['ad_bids', 'partner_invoices']);
    // committed work tree: the plain SHA
    expect(listed.runs.find((r) => r.runId === adBids.runId)).toMatchObject({ product: 'ad_bids', trigger: 'manual', rows: adBids.rows, gitSha: head });

    const text = await runCli(['runs', '--product', 'ad_bids', '--limit', '5', '--root', project.root], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^run id\s+product\s+trigger\s+status\s+rows\s+defect-free\s+started \(UTC\)\s+took\s+error \/ reasons$/m);
    expect(text.stdout).toContain(adBids.runId);
    expect(text.stdout).not.toContain(invoices.runId);
    expect(text.stdout).toMatch(new RegExp(`^${adBids.runId}\\s+ad_bids\\s+manual\\s+${adBids.status}\\s+${adBids.rows}\\s+\\d+\\.\\d %`, 'm'));

    const bad = await runCli(['runs', '--limit', 'many', '--root', project.root], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("lastmile: runs: --limit must be a whole number from 1 to 1000, got 'many'. Run lastmile runs --help.\n");
  }, 60_000);

  it('checks --failing shows only the failed checks with their failing keys, and SQL that lists exactly the failing rows when pasted', async () => {
    const result = await runCli(['checks', 'ad_bids', '--failing', '--json', '--root', project.root], { env });
    expect(result.code, result.stderr).toBe(0);
    const shown = json<ChecksJson>(result);
    expect(shown.run?.runId).toBe(adBids.runId);
    const stored = (await services.warehouse.query<{ check_name: string; status: string; failing: string }>(
      `select check_name, status, failing from lastmile.check_results where run_id = $1 and status in ('failed', 'error') order by check_name`,
      [adBids.runId],
    )).rows;
    expect(stored.length).toBeGreaterThan(0);
    expect(shown.checks.map((c) => [c.name, c.status, c.failing])).toEqual(stored.map((r) => [r.check_name, r.status, Number(r.failing)]));
    const limits = shown.checks.find((c) => c.name === 'bid_within_limits')!;
    expect(limits).toMatchObject({ type: 'range', severity: 'block', status: 'failed' });
    expect(limits.failing).toBeGreaterThan(0);
    expect(limits.sampleKeys.length).toBeGreaterThan(0);
    expect(Object.keys(limits.sampleKeys[0]!).sort()).toEqual(['campaign_id', 'keyword']);

    // the SQL has its values written in: pasted into the warehouse as is, it returns every failing row
    for (const check of shown.checks) expect(check.sql, check.name).not.toMatch(/\$\d/);
    const rows = (await services.warehouse.query<{ campaign_id: string; keyword: string; bid: string }>(limits.sql!)).rows;
    expect(rows).toHaveLength(limits.failing);
    for (const row of rows) expect(Number(row.bid) < 0.05 || Number(row.bid) > 5, JSON.stringify(row)).toBe(true);
    const keys = rows.map((r) => JSON.stringify({ campaign_id: r.campaign_id, keyword: r.keyword }));
    for (const key of limits.sampleKeys) expect(keys).toContain(JSON.stringify({ campaign_id: key.campaign_id, keyword: key.keyword }));
    // and so it does through lastmile sql, as a user pastes it
    const pasted = await runCli(['sql', '--json', '-c', limits.sql!, '--root', project.root], { env });
    expect(pasted.code, pasted.stderr).toBe(0);
    expect(json<StatementJson>(pasted).rows).toHaveLength(limits.failing);

    const text = await runCli(['checks', 'ad_bids', '--failing', '--root', project.root], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^ad_bids in dev — run ${adBids.runId} \\(${adBids.status}, manual, started .* UTC\\): \\d+ of \\d+ checks failed or could not run$`, 'm'));
    expect(text.stdout).toMatch(/^check\s+type\s+severity\s+status\s+failing\s+sample failing keys$/m);
    expect(text.stdout).toMatch(new RegExp(`^bid_within_limits\\s+range\\s+block\\s+failed\\s+${limits.failing}\\s+campaign_id=\\S+ keyword=`, 'm'));
    expect(text.stdout).not.toMatch(/^\S+\s+\S+\s+\S+\s+passed\s/m);
    expect(text.stdout).toMatch(/^bid_within_limits: check bid_within_limits .* failed on [\d,]+ of [\d,]+ rows\nselect s\.\*\nfrom \(/m);

    const all = await runCli(['checks', 'ad_bids', '--json', '--root', project.root], { env });
    expect(json<ChecksJson>(all).checks.length).toBeGreaterThan(shown.checks.length);
  }, 90_000);

  it('quarantine shows the quarantined rows of the latest run that quarantined, each with the checks it failed', async () => {
    const result = await runCli(['quarantine', 'ad_bids', '--json', '--limit', '500', '--root', project.root], { env });
    expect(result.code, result.stderr).toBe(0);
    const page = json<QuarantineJson>(result);
    expect(page.runId).toBe(adBids.runId);
    const stored = (await services.warehouse.query<{ n: number }>(
      `select count(distinct row)::int as n from lastmile.quarantine where run_id = $1`,
      [adBids.runId],
    )).rows[0]!.n;
    expect(stored).toBeGreaterThan(0);
    expect(page.total).toBe(stored);
    expect(page.rows).toHaveLength(stored);
    for (const { row, checks } of page.rows) {
      expect(Object.keys(row).sort()).toEqual(['bid', 'campaign_id', 'computed_at', 'keyword']);
      expect(checks).toContain('bid_within_limits');
    }

    const text = await runCli(['quarantine', 'ad_bids', '--limit', '3', '--root', project.root], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^ad_bids in dev — run ${adBids.runId} \\(.*\\): ${stored} rows quarantined, showing the first 3 \\(--limit\\)$`, 'm'));
    expect(text.stdout).toMatch(/^campaign_id\s+keyword\s+bid\s+computed_at\s+failed checks$/m);
    expect(text.stdout.trim().split('\n')).toHaveLength(1 + 2 + 3);

    const other = await runCli(['quarantine', 'ad_bids', '--run', invoices.runId, '--root', project.root], { env });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(new RegExp(`^lastmile: run ${invoices.runId} is not a run of ad_bids in dev: it is a run of partner_invoices in dev; the latest runs of ad_bids in dev are ${adBids.runId}`));
  }, 60_000);

  it('revoke of a version the target does not have says so and lists the versions it has (exit 1)', async () => {
    expect(invoices.status, JSON.stringify(invoices)).toBe('succeeded');
    const args = ['revoke', 'partner_invoices', '--target', 'monthly_csv', '--version', 'v=doesnotexist', '--root', project.root];
    const result = await runCli(args, { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      new RegExp(`^lastmile: partner_invoices/monthly_csv has no version v=doesnotexist in .*, so nothing was revoked; its versions, newest first: v=${invoices.runId} \\(.* UTC, current\\)\\.\\n$`),
    );
    const asJson = await runCli([...args, '--json'], { env });
    expect(asJson.code).toBe(1);
    expect(json<{ error: { kind: string; message: string }; exitCode: number }>(asJson)).toMatchObject({
      error: { kind: 'failed', message: expect.stringContaining(`v=${invoices.runId}`) },
      exitCode: 1,
    });
  }, 60_000);

  it('sql -c runs the statement in psql when psql is on PATH', async () => {
    const result = await runCli(['sql', '-c', 'select 1 as one', '--root', project.root], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ one \n-----\n {3}1\n\(1 row\)\n/);
    expect(result.stderr).toMatch(/^warehouse: embedded PostgreSQL \(.*, database warehouse_dev, port \d+\) — \/.*psql$/m);
    // psql gets the password through its environment, never on its command line; a failing statement exits 1
    const failing = await runCli(['sql', '-c', 'select nope', '--root', project.root], { env });
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/column "nope" does not exist/);
  }, 60_000);

  it('sql -c without psql on PATH runs the statement itself and prints the rows as a table (or JSON)', async () => {
    const result = await runCli(['sql', '-c', 'select 1 as one, null::text as nothing', '--root', project.root], { env: { ...env, PATH: noPsql } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('one  nothing\n---  -------\n1\n(1 row)\n');
    const rows = await runCli(['sql', '-c', 'select * from marts.ad_bid_recommendations limit 5', '--root', project.root], { env: { ...env, PATH: noPsql } });
    expect(rows.code, rows.stderr).toBe(0);
    expect(rows.stdout).toMatch(/\(5 rows\)\n$/);

    const asJson = await runCli(['sql', '--json', '-c', 'select 1 as one', '--root', project.root], { env: { ...env, PATH: noPsql } });
    expect(json<StatementJson>(asJson)).toEqual({ command: 'SELECT', rowCount: 1, rows: [{ one: '1' }] });
    const failing = await runCli(['sql', '-c', 'select nope', '--json', '--root', project.root], { env: { ...env, PATH: noPsql } });
    expect(failing.code).toBe(1);
    expect(json<{ error: { kind: string; message: string } }>(failing).error).toMatchObject({ kind: 'failed', message: expect.stringMatching(/column "nope" does not exist/) });
  }, 60_000);

  it('sql without psql and without -c reads statements from its input and prints each result', async () => {
    const child = spawn(process.execPath, [BIN, 'sql', '--root', project.root], { cwd: os.tmpdir(), env: cliEnv({ ...env, PATH: noPsql }), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end('select 1 as one;\nselect 2 as two,\n  3 as three;\nselect nope;\nselect 4 as four;\n\\q\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('one\n---\n1\n(1 row)\ntwo  three\n---  -----\n2    3\n(1 row)\nfour\n----\n4\n(1 row)\n');
    expect(stderr).toMatch(/^ERROR: column "nope" does not exist$/m);
  }, 60_000);

  it('warehouse url prints the URL of the running embedded warehouse (the one the test itself connects with)', async () => {
    const result = await runCli(['warehouse', 'url', '--root', project.root], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${services.pg.urlFor('warehouse_dev')}\n`);
    expect(result.stderr).toBe('');
    const asJson = await runCli(['warehouse', 'url', '--json', '--root', project.root], { env });
    expect(json(asJson)).toEqual({ env: 'dev', embedded: true, url: services.pg.urlFor('warehouse_dev'), database: 'warehouse_dev', port: services.pg.port, running: true });
  }, 30_000);

  it('warehouse url of a real warehouse hides the password and names the variable', async () => {
    const secret = 's3cr3t-pw';
    const result = await runCli(['warehouse', 'url', '--env', 'prod', '--root', project.root], {
      env: { ...env, LASTMILE_PROD_WAREHOUSE_URL: `postgres://etl:${secret}@db.example.com:5432/shop` },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('postgres://etl:***@db.example.com:5432/shop\n');
    expect(result.stderr).toBe('(the password is not shown: the whole URL is in $LASTMILE_PROD_WAREHOUSE_URL)\n');
    expect(result.stdout + result.stderr).not.toContain(secret);
  }, 30_000);

  it('with an invalid product module, the commands reading the store still work and name it in one warning', async () => {
    await project.write('products/bad_cron.ts', productModule({
      name: 'bad_cron',
      serve: ["files({ name: 'nightly', format: 'csv', to: './out', schedule: { cron: '0 25 * * *', timezone: 'UTC' } })"],
    }));
    try {
      const warning =
        'lastmile: warning: 1 product module is invalid and left out: products/bad_cron.ts (product bad_cron, 1 problem). ' +
        'Run lastmile validate to see every problem and how to fix it.\n';
      for (const args of [['status'], ['list'], ['runs'], ['checks', 'ad_bids'], ['quarantine', 'ad_bids'], ['slo']]) {
        const result = await runCli([...args, '--root', project.root], { env, cwd: project.root });
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
        expect(result.stderr, args.join(' ')).toBe(warning);
        expect(stackLines(result.stderr)).toEqual([]);
      }
      const status = await runCli(['status', '--json', '--root', project.root], { env, cwd: project.root });
      expect(json<{ products: { product: string }[] }>(status).products.map((p) => p.product)).not.toContain('bad_cron');
      // a valid product runs; the work tree now has an uncommitted product module, so the run records the SHA as dirty
      const run = await runCli(['run', 'partner_invoices', '--target', 'monthly_csv', '--json', '--local-worker', '--root', project.root], { env, cwd: project.root, timeoutMs: 120_000 });
      expect(run.stderr).toContain(warning);
      const summary = json<RunSummary>(run);
      const row = (await services.warehouse.query<{ git_sha: string }>('select git_sha from lastmile.runs where run_id = $1', [summary.runId])).rows[0];
      expect(row?.git_sha).toBe(`${head}-dirty`);
    } finally {
      await project.unlink('products/bad_cron.ts');
    }
  }, 120_000);
});

describe('the embedded PostgreSQL of a project keeps its port across starts', () => {
  let project: CliProject;

  beforeAll(async () => {
    project = await createCliProject({ products: 'none' });
  });

  afterAll(async () => {
    await killStrays();
    await project?.remove();
  });

  it('warehouse url names the port before anything ran; two successive lastmile sql sessions get that same port', async () => {
    const port = derivedPort(project.dataDir);
    const before = await runCli(['warehouse', 'url', '--json', '--root', project.root]);
    expect(before.code, before.stderr).toBe(0);
    expect(json(before)).toMatchObject({ embedded: true, running: false, port });
    expect(before.stderr).toBe(`(the embedded PostgreSQL is not running; \`lastmile sql\` or \`lastmile dev\` starts it, on port ${port} when that is free)\n`);

    const ports: string[] = [];
    for (let i = 0; i < 2; i++) {
      const result = await runCli(['sql', '--json', '-c', 'show port', '--root', project.root], { timeoutMs: 120_000 });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/; started for this session, stopped after it\)/);
      ports.push(json<StatementJson>(result).rows[0]!.port!);
      // stopped at the end of the session: it was not running before
      expect(existsSync(path.join(project.dataDir, 'postmaster.pid'))).toBe(false);
    }
    expect(ports).toEqual([String(port), String(port)]);
    const after = await runCli(['warehouse', 'url', '--json', '--root', project.root]);
    expect(json(after)).toMatchObject({ running: false, port });
  }, 240_000);
});

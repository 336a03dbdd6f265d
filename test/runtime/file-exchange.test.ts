/**
 * The files serving kind through serveProduct, on real parts: versions published to a local exchange folder with a
 * manifest and the `_latest.json` pointer, one file per partition, retention, a blocked run that publishes nothing,
 * and a worker killed in the middle of an export.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runResult, startRun, type Session } from '../../src/runtime/session.js';
import { killStrays, productModule, runCli, spawnCli } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';
import { startS3Server, type S3TestServer } from '../support/s3-server.js';
import { createHash } from 'node:crypto';

const INVOICES = productModule({
  name: 'invoices',
  source: "select invoice_id, partner, amount, note from ${table('scratch.invoices')}",
  columns: [
    { name: 'invoice_id', type: 'integer' },
    { name: 'partner', type: 'text' },
    { name: 'amount', type: 'numeric(12,2)' },
    { name: 'note', type: 'text' },
  ],
  key: ['invoice_id'],
  serve: [
    "files({ name: 'by_partner', format: 'csv', to: './exchange/invoices', splitBy: 'partner', retention: { keepLast: 2 } })",
    "files({ name: 'all_parquet', format: 'parquet', to: './exchange/invoices-parquet' })",
  ],
  extra: `checks: [check.notNull('partner')],`,
});

const GUARDED = productModule({
  name: 'guarded',
  source: "select invoice_id, amount from ${table('scratch.invoices')}",
  columns: [
    { name: 'invoice_id', type: 'integer' },
    { name: 'amount', type: 'numeric(12,2)' },
  ],
  serve: ["files({ name: 'never', format: 'csv', to: './exchange/guarded' })"],
  extra: `checks: [check.range('amount', { max: 100 })],`,
});

/** Rows of a CSV file, parsed by Python's csv module (an independent reader). */
function readCsv(file: string): string[][] {
  const out = execFileSync('python3', ['-c', 'import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline="")))))', file], { encoding: 'utf8' });
  return JSON.parse(out) as string[][];
}

describe('files targets', () => {
  let rt: RuntimeHarness;
  let warehouse: pg.Pool;
  let session: Session;
  // dev is not the production environment: it publishes into its own folder, never where the product's `to` points
  const exchange = (...parts: string[]) => path.join(rt.project.root, '.lastmile', 'dev', 'exchange', ...parts);

  beforeAll(async () => {
    rt = await startRuntime({
      products: { invoices: INVOICES, guarded: GUARDED },
      sql: `
        create schema scratch;
        create table scratch.invoices as
          select i as invoice_id, 'P-' || (i % 3) as partner, (i * 1.25)::numeric(12,2) as amount,
                 case when i % 7 = 0 then null when i % 5 = 0 then 'line one' || chr(10) || 'say "hi", ok' else 'ü€' || i end as note
          from generate_series(1, 300) as i;`,
    });
    ({ warehouse, session } = rt);
  }, 120_000);

  afterAll(async () => {
    await rt?.close();
  });

  it('publishes a version per run: one file per partition, a manifest, then the pointer', async () => {
    const summary = await runResult(await startRun(session, rt.product('invoices')));
    expect(summary.status, summary.error).toBe('succeeded');
    const csv = summary.targets.find((t) => t.name === 'by_partner')!;
    expect(csv).toMatchObject({ status: 'succeeded', rows: 300 });
    const latest = JSON.parse(await readFile(exchange('invoices', '_latest.json'), 'utf8')) as { version: string; manifest: string };
    expect(latest.version).toBe(`v=${summary.runId}`);
    const manifest = JSON.parse(await readFile(exchange('invoices', latest.manifest), 'utf8')) as {
      product: string; rows: number; files: { key: string; rows: number; bytes: number; sha256: string }[]; schema: unknown[]; checks: unknown;
    };
    expect(manifest).toMatchObject({ product: 'invoices', env: 'dev', rows: 300 });
    expect(manifest.files.map((f) => [path.basename(f.key), f.rows])).toEqual([
      ['invoices-P-0.csv', 100],
      ['invoices-P-1.csv', 100],
      ['invoices-P-2.csv', 100],
    ]);
    expect(manifest.checks).toMatchObject({ passed: 1, failed: 0 });
    // every file is exactly the query's rows of its partner
    for (const file of manifest.files) {
      const rows = readCsv(exchange('invoices', file.key));
      const partner = path.basename(file.key).replace(/^invoices-|\.csv$/g, '');
      const expected = await warehouse.query<{ invoice_id: number; amount: string; note: string | null }>(
        'select invoice_id, amount::text as amount, note from scratch.invoices where partner = $1 order by invoice_id',
        [partner],
      );
      expect(rows[0]).toEqual(['invoice_id', 'partner', 'amount', 'note']);
      const body = rows.slice(1).sort((a, b) => Number(a[0]) - Number(b[0]));
      expect(body).toEqual(expected.rows.map((r) => [String(r.invoice_id), partner, r.amount, r.note ?? '']));
    }
    const recorded = await warehouse.query(`select path, rows, published from lastmile.file_manifests where run_id = $1 and target = 'by_partner' order by path`, [summary.runId]);
    expect(recorded.rows.map((r) => [path.basename(r.path), Number(r.rows), r.published])).toEqual([
      ['invoices-P-0.csv', 100, true],
      ['invoices-P-1.csv', 100, true],
      ['invoices-P-2.csv', 100, true],
    ]);
    expect(existsSync(exchange('invoices-parquet', '_latest.json'))).toBe(true);
  }, 120_000);

  it('retention keeps the last versions and the pointer on the newest', async () => {
    const second = await runResult(await startRun(session, rt.product('invoices'), { targets: ['by_partner'] }));
    const third = await runResult(await startRun(session, rt.product('invoices'), { targets: ['by_partner'] }));
    expect(third.targets[0], third.error).toMatchObject({ status: 'succeeded' });
    expect(third.targets[0]!.detail).toMatch(/retention removed 1 older version/);
    const versions = (await readdir(exchange('invoices'))).filter((name) => name.startsWith('v=')).sort();
    expect(versions).toEqual([`v=${second.runId}`, `v=${third.runId}`].sort());
    const latest = JSON.parse(await readFile(exchange('invoices', '_latest.json'), 'utf8')) as { version: string };
    expect(latest.version).toBe(`v=${third.runId}`);
  }, 120_000);

  it('lastmile revoke takes the current version back and repoints _latest.json', async () => {
    const before = JSON.parse(await readFile(exchange('invoices', '_latest.json'), 'utf8')) as { version: string };
    const versions = (await readdir(exchange('invoices'))).filter((name) => name.startsWith('v=')).sort();
    const other = versions.find((v) => v !== before.version)!;
    const revoked = await runCli(['revoke', 'invoices', '--target', 'by_partner', '--version', before.version, '--root', rt.project.root, '--json'], { env: { TEMPORAL_ADDRESS: undefined } });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ version: before.version, deleted: 4, current: other });
    expect(existsSync(exchange('invoices', before.version))).toBe(false);
    const after = JSON.parse(await readFile(exchange('invoices', '_latest.json'), 'utf8')) as { version: string };
    expect(after.version).toBe(other);
    const rows = await warehouse.query(`select bool_or(published) as any from lastmile.file_manifests where run_id = $1`, [before.version.slice(2)]);
    expect(rows.rows[0].any).toBe(false);
    // a version that does not exist: exit 1, nothing changes
    const again = await runCli(['revoke', 'invoices', '--target', 'by_partner', '--version', before.version, '--root', rt.project.root]);
    expect(again.code).toBe(1);
    expect(JSON.parse(await readFile(exchange('invoices', '_latest.json'), 'utf8'))).toMatchObject({ version: other });
  }, 120_000);

  it('a blocked run publishes nothing', async () => {
    const summary = await runResult(await startRun(session, rt.product('guarded')));
    expect(summary.status).toBe('blocked');
    expect(existsSync(exchange('guarded'))).toBe(false);
  }, 60_000);
});

describe('a worker killed in the middle of an export', () => {
  let rt: RuntimeHarness;
  const CONFIG = `import { defineConfig } from 'lastmile';
export default defineConfig({ environments: { dev: { warehouse: { urlEnv: 'FX_WAREHOUSE_URL' } } }, promotion: ['dev'] });
`;

  beforeAll(async () => {
    rt = await startRuntime({
      config: CONFIG,
      warehouseUrlEnv: 'FX_WAREHOUSE_URL',
      worker: false,
      products: {
        big_export: productModule({
          name: 'big_export',
          source: "select id, payload from ${table('scratch.big')}",
          columns: [
            { name: 'id', type: 'bigint' },
            { name: 'payload', type: 'text' },
          ],
          key: ['id'],
          serve: ["files({ name: 'dump', format: 'jsonl', to: './exchange/big' })"],
        }),
      },
      sql: `create schema scratch;
            create table scratch.big as select i::bigint as id, md5(i::text) || repeat('x', 200) as payload from generate_series(1, 1500000) as i;`,
    });
  }, 180_000);

  afterAll(async () => {
    await killStrays();
    await rt?.close();
  });

  it('redoes the partition; the published version is exactly the query result', async () => {
    const env = { FX_WAREHOUSE_URL: process.env.FX_WAREHOUSE_URL, TEMPORAL_ADDRESS: rt.devserver.address };
    const first = spawnCli(['worker', '--root', rt.project.root], { env });
    await first.waitFor(/worker ready for dev/, 120_000);
    const handle = await startRun(rt.session, rt.product('big_export'));
    // wait until the export is streaming rows, then kill the worker and everything it started
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await rt.warehouse.query(`select count(*)::int as n from pg_stat_activity where query like '%"big"%' and query not like '%count(%' and state = 'active' and pid <> pg_backend_pid()`);
      if (rows[0].n > 0) break;
      if (Date.now() > deadline) throw new Error(`the export never started:\n${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    process.kill(-first.pid, 'SIGKILL');
    await first.exited;
    const second = spawnCli(['worker', '--root', rt.project.root], { env });
    try {
      const summary = await runResult(handle);
      expect(summary.status, summary.error).toBe('succeeded');
      expect(summary.targets[0]).toMatchObject({ status: 'succeeded', rows: 1_500_000 });
      const latest = JSON.parse(await readFile(path.join(rt.project.root, 'exchange', 'big', '_latest.json'), 'utf8')) as { manifest: string };
      const manifest = JSON.parse(await readFile(path.join(rt.project.root, 'exchange', 'big', latest.manifest), 'utf8')) as { files: { key: string }[] };
      // count lines and distinct ids with an independent reader: no duplicate and no missing row
      const check = execFileSync(
        'python3',
        ['-c', 'import json, sys\nids = [json.loads(l)["id"] for l in open(sys.argv[1])]\nprint(len(ids), len(set(int(i) for i in ids)), min(int(i) for i in ids), max(int(i) for i in ids))', path.join(rt.project.root, 'exchange', 'big', manifest.files[0]!.key)],
        { encoding: 'utf8' },
      );
      expect(check.trim()).toBe('1500000 1500000 1 1500000');
      // only the published version's folder exists: the killed attempt left no partial file behind
      const entries = await readdir(path.join(rt.project.root, 'exchange', 'big', latest.manifest.split('/')[0]!));
      expect(entries.sort()).toEqual(['_manifest.json', path.basename(manifest.files[0]!.key)].sort());
    } finally {
      await second.stop('SIGTERM', 30_000).catch(() => undefined);
    }
  }, 240_000);
});

describe('a files target on an S3-compatible bucket', () => {
  let rt: RuntimeHarness;
  let s3: S3TestServer;
  const saved = { id: process.env.FX_S3_KEY_ID, secret: process.env.FX_S3_SECRET };

  beforeAll(async () => {
    s3 = await startS3Server();
    process.env.FX_S3_KEY_ID = s3.credentials.accessKeyId;
    process.env.FX_S3_SECRET = s3.credentials.secretAccessKey;
    rt = await startRuntime({
      // dev writes to a bucket prefix of its own; the product names prod's
      config: `import { defineConfig } from 'lastmile';
export default defineConfig({ environments: { dev: { destinations: { 's3://${s3.bucket}/feeds/': 's3://${s3.bucket}/dev-feeds/' } }, prod: {} }, promotion: ['dev', 'prod'] });
`,
      products: {
        partner_feed: productModule({
          name: 'partner_feed',
          source: "select id, label from ${table('scratch.feed')}",
          columns: [
            { name: 'id', type: 'integer' },
            { name: 'label', type: 'text' },
          ],
          serve: [
            `files({ name: 'feed', format: 'jsonl', compression: 'gzip', to: 's3://${s3.bucket}/feeds/partner', endpoint: '${s3.endpoint}', region: '${s3.region}',
              credentials: { accessKeyId: secret('FX_S3_KEY_ID'), secretAccessKey: secret('FX_S3_SECRET') }, consumers: ['ACME', 'GLOBEX'], linkExpiry: '1h' })`,
          ],
        }).replace("import { check,", "import { secret, check,"),
      },
      sql: `create schema scratch; create table scratch.feed as select i as id, 'label ' || i as label from generate_series(1, 1000) as i;`,
    });
  }, 120_000);

  afterAll(async () => {
    await rt?.close();
    await s3?.close();
    for (const [name, value] of [['FX_S3_KEY_ID', saved.id], ['FX_S3_SECRET', saved.secret]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('publishes the version to the bucket and gives each consumer a working download link', async () => {
    const summary = await runResult(await startRun(rt.session, rt.product('partner_feed')));
    expect(summary.status, summary.error).toBe('succeeded');
    expect(summary.targets[0]).toMatchObject({ status: 'succeeded', rows: 1000 });
    expect(summary.targets[0]!.detail).toMatch(/^published v=.* \(1 file\) to s3:\/\/exchange\/dev-feeds\/partner.*; download links for 2 consumers/);
    expect(summary.targets[0]!.detail).not.toContain(s3.credentials.secretAccessKey);
    const { rows } = await rt.warehouse.query(`select path, sha256, detail from lastmile.file_manifests where run_id = $1`, [summary.runId]);
    expect(rows).toHaveLength(1);
    const links = rows[0].detail.links as Record<string, { url: string; expiresAt: string }>;
    expect(Object.keys(links).sort()).toEqual(['ACME', 'GLOBEX']);
    for (const link of Object.values(links)) {
      const response = await fetch(link.url);
      expect(response.status).toBe(200);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(rows[0].sha256);
      expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(50 * 60_000);
    }
  }, 120_000);
});

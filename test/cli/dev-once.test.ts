/**
 * `lastmile dev --once` on a fresh clone: no `.lastmile/`, no seeded warehouse, no Temporal running — the embedded
 * defaults bring everything up, every example product runs once, and the runs are in the metadata store afterwards.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../workflows/types.js';
import { json, killStrays, portAnswers, REPO_ROOT, runCli, stopStrayPostgres } from '../support/cli.js';

/**
 * The parts of the working tree this suite's fixes may touch are carried over uncommitted changes included (new,
 * untracked files too), so the clone runs the code under test; everything else is exactly HEAD.
 */
const CARRIED = ['src', 'workflows', 'activities', 'devserver', 'calendar', 'bin', 'products', 'seed', 'lastmile.config.ts', 'package.json'];

describe('lastmile dev --once from a fresh clone', () => {
  let dir: string;
  let clone: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-clone-'));
    clone = path.join(dir, 'lastmile');
    execFileSync('git', ['clone', '-q', REPO_ROOT, clone]);
    const diff = execFileSync('git', ['diff', 'HEAD', '--binary', '--', ...CARRIED], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    if (diff.length > 0) execFileSync('git', ['apply', '--whitespace=nowarn'], { cwd: clone, input: diff });
    const untracked = execFileSync('git', ['ls-files', '-z', '--others', '--exclude-standard', '--', ...CARRIED], { cwd: REPO_ROOT }).toString().split('\0').filter(Boolean);
    for (const file of untracked) {
      await mkdir(path.dirname(path.join(clone, file)), { recursive: true });
      await copyFile(path.join(REPO_ROOT, file), path.join(clone, file));
    }
    // `npm install` on a fresh clone gives node_modules; the repository's own stands in for it.
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
  });

  afterEach(async () => {
    await killStrays();
  });

  afterAll(async () => {
    await killStrays();
    if (clone) await stopStrayPostgres(path.join(clone, '.lastmile', 'pg'));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every product once, records the runs, and says honestly which could not be served', async () => {
    const products = (await readdir(path.join(clone, 'products'))).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
    expect(products.length).toBeGreaterThanOrEqual(5);
    const sharedPortBusy = await portAnswers(7233);
    const bin = path.join(clone, 'bin', 'lastmile.js');

    const dev = await runCli(['dev', '--once', '--json'], { cwd: clone, bin, timeoutMs: 150_000 });
    const out = json<{ env: string; schedules: { scheduleId: string; action: string }[]; runs: RunSummary[] }>(dev);
    expect(out.env).toBe('dev');
    expect(out.runs.map((r) => r.product).sort()).toEqual(products);
    // every example is served, the reverse ETL ones into their environment's stand-in tables
    for (const run of out.runs) {
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded', env: 'dev' });
      expect(run.rows).toBeGreaterThan(0);
      expect(run.workflowId).toMatch(new RegExp(`^lastmile/dev/${run.product}/all/`));
    }
    const synced = out.runs.filter((r) => r.targets.some((t) => t.kind === 'reverseEtl'));
    expect(synced.map((r) => r.product).sort()).toEqual(['ad_bids', 'lead_scores']);
    for (const run of synced) expect(run.targets[0], JSON.stringify(run.targets[0])).toMatchObject({ status: 'succeeded', detail: expect.stringMatching(/ at stand-in standin\./) });
    expect(dev.code, dev.stderr).toBe(0);
    expect(out.schedules.length).toBeGreaterThan(0);
    for (const s of out.schedules) expect(s.scheduleId).toMatch(/^lastmile\/dev\/[a-z0-9_]+\/[a-z0-9_]+$/);
    // Nothing existed: the warehouse was seeded and, with no TEMPORAL_ADDRESS and no `temporal` on PATH, the
    // embedded devserver came up (on 7233 unless something else holds it).
    expect(dev.stderr).toMatch(/warehouse: seeded example data/);
    expect(dev.stderr).toContain(`embedded PostgreSQL (${path.join(clone, '.lastmile', 'pg')}`);
    if (!sharedPortBusy) expect(dev.stderr).toMatch(/temporal: the embedded lastmile devserver at 127\.0\.0\.1:7233/);

    // The runs are in the metadata store: a second process reads them back.
    const status = await runCli(['status', '--json'], { cwd: clone, bin });
    expect(status.code, status.stderr).toBe(0);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: clone }).toString().trim();
    const recorded = json<{ env: string; products: { product: string; version: string; deployedVersion: string | null; lastRun: Record<string, unknown> | null }[] }>(status);
    expect(recorded.products.map((p) => p.product)).toEqual(products);
    for (const p of recorded.products) {
      const run = out.runs.find((r) => r.product === p.product)!;
      expect(p.deployedVersion).toBe(p.version);
      expect(p.lastRun).toMatchObject({ runId: run.runId, status: run.status, trigger: 'dev', gitSha: head, rows: run.rows, productVersion: p.version });
    }

    // The trust layer ran for every example: checks in each run, a monitor each; ad_bids set its runaway bids aside.
    for (const run of out.runs) expect(run.checks?.passed, run.product).toBeGreaterThan(0);
    expect(out.runs.find((r) => r.product === 'ad_bids')!.checks).toMatchObject({ quarantined: 40, blocked: false });
    for (const product of products) expect(dev.stderr).toContain(`SLO monitor started: lastmile/dev/${product}/slo-monitor`);
    const slo = await runCli(['slo', '--json'], { cwd: clone, bin });
    expect(slo.code, slo.stderr).toBe(0);
    const statuses = json<{ product: string; slo: string; events: number }[]>(slo);
    for (const product of products) {
      expect(statuses.find((st) => st.product === product && st.slo === 'availability')?.events, product).toBe(1);
    }
    // The example file exchange published a version in dev's own place, never in the production folder.
    const invoices = out.runs.find((r) => r.product === 'partner_invoices')!;
    const latest = JSON.parse(await readFile(path.join(clone, '.lastmile', 'dev', 'exchange', 'partner-invoices', 'csv', '_latest.json'), 'utf8')) as { version: string };
    expect(latest.version).toBe(`v=${invoices.runId}`);
    expect(existsSync(path.join(clone, 'exchange'))).toBe(false);
  }, 200_000);
});

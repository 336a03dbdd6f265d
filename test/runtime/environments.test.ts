/**
 * Environments never cross, on real parts: one project, runs in dev and in prod (the last environment of its
 * promotion order) through real workers — each publishes in its own place, its manifests say which environment wrote
 * them, retention stays in its lane, and an environment mapped onto another's place is refused rather than crossing.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, runResult, startRun, type Session } from '../../src/runtime/session.js';
import { activityAttempts, productModule } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const CONFIG = `import { defineConfig } from 'lastmile';
export default defineConfig({
  environments: {
    dev: {},
    // a careless mapping: test pointed at prod's folder
    test: { destinations: { './exchange/': './exchange/' } },
    prod: {},
  },
  promotion: ['dev', 'test', 'prod'],
});
`;

const FEED = productModule({
  name: 'feed',
  source: "select id from ${table('scratch.feed')}",
  columns: [{ name: 'id', type: 'integer' }],
  serve: ["files({ name: 'daily', format: 'csv', to: './exchange/feed', retention: { keepLast: 1 } })"],
});

const SCRATCH = 'create schema scratch; create table scratch.feed as select i as id from generate_series(1, 10) as i;';

describe('environments on one project', () => {
  let rt: RuntimeHarness;
  const sessions: Session[] = [];

  async function session(env: 'prod' | 'test'): Promise<Session> {
    await rt.server.ensureDatabase(`warehouse_${env}`);
    const pool = new pg.Pool({ connectionString: rt.server.urlFor(`warehouse_${env}`), max: 1 });
    await pool.query(`drop schema if exists scratch cascade; ${SCRATCH}`);
    await pool.end();
    const opened = await openSession(rt.loaded, { env });
    sessions.push(opened);
    return opened;
  }

  const versions = async (folder: string): Promise<string[]> =>
    existsSync(folder) ? (await readdir(folder)).filter((name) => name.startsWith('v=')).sort() : [];

  beforeAll(async () => {
    rt = await startRuntime({ config: CONFIG, products: { feed: FEED }, sql: SCRATCH });
  }, 120_000);

  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await rt?.close();
  });

  it('dev and prod publish to different places, each manifest names its environment, and retention stays in its lane', async () => {
    const devFolder = path.join(rt.project.root, '.lastmile', 'dev', 'exchange', 'feed');
    const prodFolder = path.join(rt.project.root, 'exchange', 'feed');
    const prod = await session('prod');

    const prodRun = await runResult(await startRun(prod, prod.project.products.get('feed')!));
    expect(prodRun.status, prodRun.error).toBe('succeeded');
    const devRuns = [];
    for (let i = 0; i < 2; i++) devRuns.push(await runResult(await startRun(rt.session, rt.product('feed'))));
    expect(devRuns.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);

    // dev kept its last version only (keepLast: 1); prod's version is untouched by dev's retention
    expect(await versions(devFolder)).toEqual([`v=${devRuns[1]!.runId}`]);
    expect(await versions(prodFolder)).toEqual([`v=${prodRun.runId}`]);
    const latest = async (folder: string) => JSON.parse(await readFile(path.join(folder, '_latest.json'), 'utf8')) as { version: string; manifest: string };
    expect((await latest(prodFolder)).version).toBe(`v=${prodRun.runId}`);
    const manifest = async (folder: string) => JSON.parse(await readFile(path.join(folder, (await latest(folder)).manifest), 'utf8')) as { env: string };
    expect((await manifest(prodFolder)).env).toBe('prod');
    expect((await manifest(devFolder)).env).toBe('dev');
    expect(devRuns[1]!.targets[0]!.detail).toContain(devFolder);
  }, 120_000);

  it('an environment mapped onto the place another environment publishes to is refused, and leaves that place as it was', async () => {
    const prodFolder = path.join(rt.project.root, 'exchange', 'feed');
    const before = await readFile(path.join(prodFolder, '_latest.json'), 'utf8');
    const test = await session('test');
    const run = await runResult(await startRun(test, test.project.products.get('feed')!));
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/is where environment prod publishes .* so test does not publish there\. Give test a place of its own in lastmile\.config\.ts \(environments\.test\.destinations\)/);
    expect(await readFile(path.join(prodFolder, '_latest.json'), 'utf8')).toBe(before);
    expect(await versions(prodFolder)).toHaveLength(1);
    // refused before anything was written, and not retried: an input error ends at the first attempt
    const child = `${run.workflowId.replace('/feed/all/', '/feed/daily/')}/files`;
    expect(await activityAttempts(test.client, child, 'planExport')).toEqual([1]);
  }, 120_000);
});

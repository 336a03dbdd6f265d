/**
 * A worker lost in the middle of a run's checks (SIGKILL, as a crash or a closed laptop would): the checks heartbeat,
 * so Temporal notices within the heartbeat timeout and another worker takes the work over in well under a minute —
 * not after the activity's 30-minute limit — and the run completes.
 */
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runResult, startRun } from '../../src/runtime/session.js';
import { killStrays, productModule, spawnCli } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const CONFIG = `import { defineConfig } from 'lastmile';
export default defineConfig({ environments: { dev: { warehouse: { urlEnv: 'LW_WAREHOUSE_URL' } } }, promotion: ['dev'] });
`;

describe('a worker lost during the checks', () => {
  let rt: RuntimeHarness;

  beforeAll(async () => {
    rt = await startRuntime({
      config: CONFIG,
      warehouseUrlEnv: 'LW_WAREHOUSE_URL',
      worker: false,
      products: {
        slow_source: productModule({
          name: 'slow_source',
          source: "select id from ${table('scratch.slow')}",
          columns: [{ name: 'id', type: 'integer' }],
          extra: "checks: [check.notNull('id')],",
          serve: ["files({ name: 'dump', format: 'csv', to: './exchange/slow' })"],
        }),
      },
      // every read of the source takes a few seconds: the scan is long enough to kill a worker in it
      sql: `create schema scratch;
            create table scratch.t as select i as id from generate_series(1, 600) as i;
            create view scratch.slow as select t.id from scratch.t, lateral (select pg_sleep(0.01 + t.id * 0)) as s;`,
    });
  }, 120_000);

  afterAll(async () => {
    await killStrays();
    await rt?.close();
  });

  it('another worker retries checkProduct within a minute, and the run succeeds', async () => {
    const env = { LW_WAREHOUSE_URL: process.env.LW_WAREHOUSE_URL, TEMPORAL_ADDRESS: rt.devserver.address };
    const first = spawnCli(['worker', '--root', rt.project.root], { env });
    await first.waitFor(/worker ready for dev/, 120_000);
    const handle = await startRun(rt.session, rt.product('slow_source'));
    // the checks are running on the first worker
    for (let i = 0; ; i++) {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      if (pending.some((a) => a.activityType?.name === 'checkProduct' && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)) break;
      if (i > 600) throw new Error('checkProduct never started');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill(-first.pid, 'SIGKILL');
    const lostAt = Date.now();
    await first.exited;
    const second = spawnCli(['worker', '--root', rt.project.root], { env });
    try {
      const summary = await runResult(handle);
      expect(summary.status, summary.error).toBe('succeeded');
      // the second worker ran the checks again, as attempt 2; it got them within the heartbeat timeout (30 s) after
      // the loss — the whole run was done a minute and a half later, not after the activity's 30-minute limit
      expect(second.stderr()).toMatch(new RegExp(`activity checkProduct of ${handle.workflowId} completed in \\d+\\.\\d s \\(attempt 2\\)`));
      expect(Date.now() - lostAt).toBeLessThan(90_000);
    } finally {
      await second.stop('SIGTERM', 30_000).catch(() => undefined);
    }
  }, 240_000);
});

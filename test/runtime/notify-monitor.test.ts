/**
 * serveProduct when telling the SLO monitor fails: the run still succeeds, and the workflow logs why the monitor was
 * not told (through the worker's logger) instead of dropping the failure.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { DefaultLogger, Runtime, Worker, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { runResult, startRun } from '../../src/runtime/session.js';
import { workflowBundle } from '../../src/temporal/worker.js';
import { connectWorker } from '../../src/temporal/connect.js';
import { productModule } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const logged: LogEntry[] = [];
// before the harness: the worker's logger is the runtime's, and workflow log calls reach it
Runtime.install({ logger: new DefaultLogger('WARN', (entry) => logged.push(entry)) });

describe('serveProduct and its SLO monitor', () => {
  let rt: RuntimeHarness;

  beforeAll(async () => {
    rt = await startRuntime({
      worker: false,
      products: {
        watched: productModule({
          name: 'watched',
          extra: "slo: { availability: 0.9, window: '7d' },",
        }),
      },
    });
  }, 180_000);

  afterAll(async () => {
    await rt?.close();
  });

  it('a failed notifyMonitor is logged by the workflow with the product, env, run and cause; the run still succeeds', async () => {
    const activities = createActivities(rt.session.context);
    const connection = await connectWorker(rt.session.temporal);
    const worker = await Worker.create({
      connection,
      namespace: rt.session.temporal.namespace,
      taskQueue: rt.session.temporal.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...activities,
        async notifyMonitor(): Promise<void> {
          throw ApplicationFailure.nonRetryable('the monitor could not be reached (injected)');
        },
      },
    });
    try {
      const summary = await worker.runUntil(async () => runResult(await startRun(rt.session, rt.product('watched'))));
      expect(summary.status).toBe('succeeded');
      const warning = logged.find((entry) => entry.level === 'WARN' && entry.message.includes('was not told'));
      expect(warning?.message).toMatch(/the SLO monitor of watched in dev was not told that run \S+ finished: .*the monitor could not be reached \(injected\)/);
      expect(warning?.meta).toMatchObject({ product: 'watched', env: 'dev', runId: summary.runId });
    } finally {
      await connection.close();
    }
  });
});

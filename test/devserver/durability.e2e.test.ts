/**
 * Issue item 10 and the extra tests: the devserver process killed with SIGKILL while a timer and an
 * activity are pending, restarted on the same database, and the workflow completes with the right result (a schedule
 * keeps its place); a worker process killed with SIGKILL in the middle of a workflow, and a new worker finishes it
 * (its lost activity is retried after its start-to-close timeout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/warehouse/embedded.js';
import { eventTypes, eventually, killHard, repoRoot, sleep, useDevServer, watchProcess } from '../support/devserver-harness.js';
import { attemptLog } from './fixtures/activities.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();

/** `tsx devserver/main.ts --port N --database URL` as a process of its own. */
async function spawnDevServer(port: number, databaseUrl: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'devserver/main.ts', '--port', String(port), '--database', databaseUrl], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  const watch = watchProcess(child);
  await watch.waitFor(/listening on 127\.0\.0\.1:\d+/, 60_000);
  return { child, output: watch.output };
}

const spawned = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of spawned) await killHard(child);
});

describe('10. the devserver killed with SIGKILL and restarted on the same database', () => {
  it('loses nothing: the pending timer fires, the pending activity completes, the schedule keeps its place', async () => {
    await h.pg.ensureDatabase('durable');
    const databaseUrl = h.pg.urlFor('durable');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    let server = await spawnDevServer(port, databaseUrl);
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    const native = await NativeConnection.connect({ address });
    const worker = await h.runningWorker({ connection: native });
    try {
      const schedule = await client.schedule.create({
        scheduleId: 'durable-schedule',
        spec: { intervals: [{ every: '1s' }] },
        action: { type: 'startWorkflow', workflowType: wf.greet, args: ['scheduled'], taskQueue: worker.taskQueue, workflowId: 'durable-scheduled' },
      });
      await eventually(async () => (await schedule.describe()).info.numActionsTaken >= 1, 10_000, 'a scheduled action');

      const started = Date.now();
      const handle = await client.workflow.start(wf.durableTimerAndActivity, { taskQueue: worker.taskQueue, workflowId: 'durable', args: [3000] });
      await eventually(
        async () => {
          const described = await handle.describe();
          const types = eventTypes(await handle.fetchHistory());
          return types.includes('TIMER_STARTED') && described.raw.pendingActivities?.[0]?.state === 2 /* STARTED */;
        },
        10_000,
        'a pending timer and a started activity',
      );
      // Also pending at the kill: an activity retry in its backoff, a delayed start, a child, a buffered signal.
      const retrying = await client.workflow.start(wf.runActivity, {
        taskQueue: worker.taskQueue,
        workflowId: 'durable-retry',
        args: ['recordAttempts', ['durable-retry', 1], { startToCloseTimeout: '5s', retry: { initialInterval: '1500ms' } }],
      });
      const delayed = await client.workflow.start(wf.greet, { taskQueue: worker.taskQueue, workflowId: 'durable-delayed', args: ['delayed'], startDelay: '2s' });
      const parent = await client.workflow.start(wf.parentAwaitingChild, { taskQueue: worker.taskQueue, workflowId: 'durable-parent' });
      await eventually(() => (attemptLog.get('durable-retry')?.length ?? 0) === 1, 5000, 'the first attempt');
      await eventually(async () => (await parent.describe()).raw.pendingChildren?.[0]?.runId, 5000, 'the child');
      await connection.workflowService.registerNamespace({ namespace: 'durable-ns', description: 'survives restarts' });
      await connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes: { DurableAttr: 2 /* KEYWORD */ } });
      const before = await schedule.describe();

      await killHard(server.child);
      const killedOutput = server.output;
      await sleep(300);
      server = await spawnDevServer(port, databaseUrl);

      expect(await handle.result()).toBe('activity+timer+hello after restart');
      expect(await retrying.result()).toEqual({ ok: true, result: 2 });
      expect(await delayed.result()).toBe('hello delayed');
      const child = client.workflow.getHandle('durable-parent-child');
      await child.signal(wf.addSignal, 5);
      await child.signal(wf.doneSignal);
      expect(await parent.result()).toBe('child returned 5');
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
      const history = await handle.fetchHistory();
      expect(eventTypes(history)).toEqual(expect.arrayContaining(['TIMER_FIRED', 'ACTIVITY_TASK_COMPLETED', 'WORKFLOW_EXECUTION_COMPLETED']));
      const timerFired = history.events?.find((e) => e.timerFiredEventAttributes);
      expect(Number(timerFired?.eventTime?.seconds) * 1000).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 + 2000);

      // The schedule kept its place: what it did before is still there, and it goes on.
      const after = await schedule.describe();
      expect(after.info.numActionsTaken).toBeGreaterThanOrEqual(before.info.numActionsTaken);
      const beforeIds = before.info.recentActions.map((a) => a.action.workflow.workflowId);
      const afterIds = after.info.recentActions.map((a) => a.action.workflow.workflowId);
      expect(afterIds).toEqual(expect.arrayContaining(beforeIds));
      expect(new Set(afterIds).size).toBe(afterIds.length); // nothing started twice
      await eventually(async () => (await schedule.describe()).info.numActionsTaken > after.info.numActionsTaken, 15_000, 'a scheduled action after the restart');
      await schedule.delete();

      // Namespaces and search attributes survived.
      expect((await connection.workflowService.describeNamespace({ namespace: 'durable-ns' })).namespaceInfo?.description).toBe('survives restarts');
      const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(attributes.customAttributes?.DurableAttr).toBe(2);

      // Visibility survived too.
      const listed = [];
      for await (const info of client.workflow.list({ query: `WorkflowId = 'durable'` })) listed.push(info.status.name);
      expect(listed).toEqual(['COMPLETED']);

      // All state lives in a schema of its own.
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const tables = await db.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'lastmile_temporal'`);
        expect(tables.rows.map((r) => r.table_name).sort()).toEqual(['executions', 'history_events', 'namespaces', 'schedules', 'schema_version', 'search_attributes']);
        const others = await db.query(`select table_name from information_schema.tables where table_schema = 'public'`);
        expect(others.rowCount).toBe(0);
      } finally {
        await db.end();
      }

      await eventually(async () => (await client.workflow.count(`ExecutionStatus = 'Running'`)).count === 0, 5000, 'nothing running');
      await worker.stop();
      const replayed = await h.expectHistoriesReplay(client);
      expect(replayed).toBeGreaterThanOrEqual(2);
      // Neither process logged an internal failure.
      for (const output of [killedOutput(), server.output()]) expect(output).not.toMatch(/failed inside the devserver|fatal|could not/i);
    } finally {
      await worker.stop();
      await native.close();
      await connection.close();
      server.child.kill('SIGTERM');
    }
  }, 90_000);
});

describe('a worker process killed with SIGKILL mid-workflow', () => {
  it('a new worker finishes the workflow; the activity lost with the worker is retried after its timeout', async () => {
    const taskQueue = h.taskQueue('crash');
    const child = await h.workerProcess(taskQueue);
    const handle = await h.client.workflow.start(wf.multiStep, { taskQueue, workflowId: 'worker-crash' });
    // The child ran the first activity and the timer, and now hangs in the second activity.
    await child.waitFor(/^STEP two 1$/, 30_000);
    await child.kill();
    const result = await h.withWorker({ taskQueue }, () => handle.result());
    expect(result).toEqual(['hello one', 'step two (attempt 2)']);
    const history = await handle.fetchHistory();
    const started = history.events?.filter((e) => e.activityTaskStartedEventAttributes).at(-1)?.activityTaskStartedEventAttributes;
    expect(started?.attempt).toBe(2);
    // Retried because its start-to-close timeout passed, not because anything reported a failure.
    expect(started?.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(1); // START_TO_CLOSE
    expect(eventTypes(history).at(-1)).toBe('WORKFLOW_EXECUTION_COMPLETED');
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

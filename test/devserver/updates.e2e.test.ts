/**
 * Issue 17, item 1: workflow updates through the unmodified SDK — every wait stage, validators that reject (no trace
 * in history), handlers that fail, updates that arrive while a workflow task runs, update ids deduplicated, updates
 * to closed workflows, and an accepted update surviving a devserver SIGKILL. Every history replays.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/warehouse/embedded.js';
import { eventTypes, eventually, killHard, repoRoot, sleep, useDevServer, watchProcess } from '../support/devserver-harness.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();

let worker: Awaited<ReturnType<typeof h.runningWorker>>;
let taskQueue: string;

beforeAll(async () => {
  worker = await h.runningWorker();
  taskQueue = worker.taskQueue;
});
afterAll(async () => {
  await worker?.stop();
});

async function typesOf(workflowId: string): Promise<string[]> {
  return eventTypes(await h.client.workflow.getHandle(workflowId).fetchHistory());
}

describe('1. workflow updates', () => {
  it('executeUpdate waits for completion; startUpdate returns at acceptance; both write accepted + completed events', async () => {
    const handle = await h.client.workflow.start(wf.updatable, { taskQueue, workflowId: 'upd-basic', args: [1] });
    expect(await handle.executeUpdate(wf.setValueUpdate, { args: [7] })).toBe(1);
    expect(await handle.query(wf.valueQuery)).toBe(7);
    const started = await handle.startUpdate(wf.slowAddUpdate, { args: [3, 300], waitForStage: WorkflowUpdateStage.ACCEPTED });
    // Accepted, not completed: the handler sleeps.
    const midway = await typesOf('upd-basic');
    expect(midway.filter((t) => t === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toHaveLength(2);
    expect(midway.filter((t) => t === 'WORKFLOW_EXECUTION_UPDATE_COMPLETED')).toHaveLength(1);
    expect(await started.result()).toBe(10);
    // A handle fetched later polls the outcome (PollWorkflowExecutionUpdate).
    expect(await handle.getUpdateHandle<number>(started.updateId).result()).toBe(10);
    expect(await handle.executeUpdate(wf.finishUpdate)).toBe(10);
    expect(await handle.result()).toBe(10);
    const history = await handle.fetchHistory();
    const accepted = history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
    const completed = history.events?.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes) ?? [];
    expect(accepted.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name)).toEqual(['setValue', 'slowAdd', 'finish']);
    expect(completed).toHaveLength(3);
    // Each completion points at its acceptance.
    expect(completed.map((e) => Number(e.workflowExecutionUpdateCompletedEventAttributes?.acceptedEventId))).toEqual(accepted.map((e) => Number(e.eventId)));
  });

  it('a validator that rejects: the caller gets the failure, the history does not change at all', async () => {
    const handle = await h.client.workflow.start(wf.updatable, { taskQueue, workflowId: 'upd-reject', args: [2] });
    expect(await handle.executeUpdate(wf.setValueUpdate, { args: [3] })).toBe(2);
    const before = (await handle.fetchHistory()).events?.length ?? 0;
    const error = await handle.executeUpdate(wf.setValueUpdate, { args: [-5] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((error as Error).cause)).toMatch(/negative value -5 rejected by the validator/);
    const after = await handle.fetchHistory();
    expect(after.events?.length ?? 0).toBe(before);
    // The worker was told to forget the dropped task: the next update and a query still work on the same worker.
    expect(await handle.executeUpdate(wf.setValueUpdate, { args: [4] })).toBe(3);
    const again = await handle.executeUpdate(wf.setValueUpdate, { args: [-1] }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(await handle.query(wf.valueQuery)).toBe(4);
    await handle.signal(wf.addSignal, 1);
    expect(await handle.executeUpdate(wf.finishUpdate)).toBe(5);
    expect(await handle.result()).toBe(5);
    const types = await typesOf('upd-reject');
    expect(types.filter((t) => t === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toHaveLength(3);
  });

  it('a handler that throws: the update is accepted, then completes with the failure', async () => {
    const handle = await h.client.workflow.start(wf.updatable, { taskQueue, workflowId: 'upd-fails', args: [0] });
    const error = await handle.executeUpdate(wf.failingUpdate, { args: ['on purpose'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((error as Error).cause)).toMatch(/update failed: on purpose/);
    const history = await handle.fetchHistory();
    const completed = history.events?.find((e) => e.workflowExecutionUpdateCompletedEventAttributes);
    expect(completed?.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure?.message).toBe('update failed: on purpose');
    await handle.executeUpdate(wf.finishUpdate);
    expect(await handle.result()).toBe(0);
  });

  it('an update sent while a workflow task runs is delivered in the next task', async () => {
    const hold = h.holds.arm('upd-inflight');
    const handle = await h.client.workflow.start(wf.updatable, { taskQueue, workflowId: 'upd-inflight', args: [5, true] });
    await hold.reached;
    const pending = handle.executeUpdate(wf.setValueUpdate, { args: [9] });
    await sleep(300);
    expect(await typesOf('upd-inflight')).not.toContain('WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
    hold.release();
    expect(await pending).toBe(5);
    const types = await typesOf('upd-inflight');
    // first task completed, then a new task carried the update
    const firstCompleted = types.indexOf('WORKFLOW_TASK_COMPLETED');
    expect(types.slice(firstCompleted + 1, firstCompleted + 5)).toEqual([
      'WORKFLOW_TASK_SCHEDULED',
      'WORKFLOW_TASK_STARTED',
      'WORKFLOW_TASK_COMPLETED',
      'WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
    ]);
    await handle.executeUpdate(wf.finishUpdate);
    expect(await handle.result()).toBe(9);
  });

  it('update ids are deduplicated: the same id twice runs the handler once and answers both callers alike', async () => {
    const handle = await h.client.workflow.start(wf.updatable, { taskQueue, workflowId: 'upd-dedup', args: [0] });
    const updateId = `dedup-${randomUUID()}`;
    const [a, b] = await Promise.all([
      handle.executeUpdate(wf.slowAddUpdate, { args: [2, 200], updateId }),
      handle.executeUpdate(wf.slowAddUpdate, { args: [2, 200], updateId }),
    ]);
    expect([a, b]).toEqual([2, 2]);
    // Again after completion: the stored outcome, no new run of the handler.
    expect(await handle.executeUpdate(wf.slowAddUpdate, { args: [2, 200], updateId })).toBe(2);
    expect(await handle.query(wf.valueQuery)).toBe(2);
    const types = await typesOf('upd-dedup');
    expect(types.filter((t) => t === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toHaveLength(1);
    await handle.executeUpdate(wf.finishUpdate);
    await handle.result();
    // The workflow is closed: a known update id still answers its outcome.
    expect(await handle.executeUpdate(wf.slowAddUpdate, { args: [2, 200], updateId })).toBe(2);
  });

  it('an update to a closed workflow fails as with Temporal (not found: workflow execution already completed)', async () => {
    const handle = await h.client.workflow.start(wf.updatable, { taskQueue, workflowId: 'upd-closed', args: [0] });
    await handle.executeUpdate(wf.finishUpdate);
    await handle.result();
    const error = await handle.executeUpdate(wf.setValueUpdate, { args: [1] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowNotFoundError);
    expect(String((error as Error).message)).toMatch(/workflow execution already completed/);
    const missing = await h.client.workflow.getHandle('upd-no-such-workflow').executeUpdate(wf.setValueUpdate, { args: [1] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(WorkflowNotFoundError);
  });

  it('an update to a workflow whose first task has not run yet is delivered with that task', async () => {
    const handle = await h.client.workflow.start(wf.updatable, { taskQueue, workflowId: 'upd-delayed', args: [1], startDelay: '1s' });
    const begun = Date.now();
    expect(await handle.executeUpdate(wf.setValueUpdate, { args: [2] })).toBe(1);
    expect(Date.now() - begun).toBeGreaterThanOrEqual(800);
    await handle.executeUpdate(wf.finishUpdate);
    expect(await handle.result()).toBe(2);
  });
});

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

describe('1. an accepted update is durable', () => {
  it('survives a devserver SIGKILL between acceptance and completion, and completes after the restart', async () => {
    await h.pg.ensureDatabase('updates_durable');
    const databaseUrl = h.pg.urlFor('updates_durable');
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    let server = await spawnDevServer(port, databaseUrl);
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    const native = await NativeConnection.connect({ address });
    const killedWorker = await h.runningWorker({ connection: native });
    try {
      const handle = await client.workflow.start(wf.updatable, { taskQueue: killedWorker.taskQueue, workflowId: 'upd-durable', args: [10] });
      const update = await handle.startUpdate(wf.slowAddUpdate, { args: [5, 2500], waitForStage: WorkflowUpdateStage.ACCEPTED });
      expect(eventTypes(await handle.fetchHistory())).toContain('WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
      await killHard(server.child);
      const killedOutput = server.output;
      await sleep(300);
      server = await spawnDevServer(port, databaseUrl);
      expect(await update.result()).toBe(15);
      // The same update id, asked again after the restart, answers the stored outcome.
      expect(await handle.executeUpdate(wf.slowAddUpdate, { args: [5, 2500], updateId: update.updateId })).toBe(15);
      expect(await handle.executeUpdate(wf.finishUpdate)).toBe(15);
      expect(await handle.result()).toBe(15);
      await killedWorker.stop();
      expect(await h.expectHistoriesReplay(client)).toBeGreaterThanOrEqual(1);
      for (const output of [killedOutput(), server.output()]) expect(output).not.toMatch(/failed inside the devserver|fatal|could not/i);
    } finally {
      await killedWorker.stop();
      await native.close();
      await connection.close();
      server.child.kill('SIGTERM');
    }
  }, 90_000);
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await eventually(async () => (await h.client.workflow.count(`ExecutionStatus = 'Running'`)).count === 0, 5000, 'nothing running');
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

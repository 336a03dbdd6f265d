/**
 * Issue 17, item 2: update-with-start through ExecuteMultiOperation with the conflict policies the SDK sends
 * (USE_EXISTING, FAIL), the early-return shape of the Temporal samples, and signal-with-start with its conflict
 * policies. Every history replays.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { WithStartWorkflowOperation, WorkflowUpdateStage } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTypes, eventually, useDevServer } from '../support/devserver-harness.js';
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

describe('2. update-with-start', () => {
  it('starts the workflow and answers the update early (the run goes on); the update rides in the first task', async () => {
    const op = new WithStartWorkflowOperation(wf.earlyAnswer, { workflowId: 'uws-early', taskQueue, args: [300, 300], workflowIdConflictPolicy: 'FAIL' });
    const answer = await h.client.workflow.executeUpdateWithStart(wf.confirmUpdate, { startWorkflowOperation: op, args: ['ann'] });
    const handle = await op.workflowHandle();
    expect(answer).toBe(`confirmed for ann in run ${(await handle.describe()).runId}`);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(await handle.result()).toBe('finished');
    const types = eventTypes(await handle.fetchHistory());
    expect(types.slice(0, 5)).toEqual([
      'WORKFLOW_EXECUTION_STARTED',
      'WORKFLOW_TASK_SCHEDULED',
      'WORKFLOW_TASK_STARTED',
      'WORKFLOW_TASK_COMPLETED',
      'WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
    ]);
    expect(types).toContain('WORKFLOW_EXECUTION_UPDATE_COMPLETED');
  });

  it('USE_EXISTING: a running workflow gets the update, nothing new is started', async () => {
    const first = await h.client.workflow.start(wf.updatable, { taskQueue, workflowId: 'uws-existing', args: [4] });
    const op = new WithStartWorkflowOperation(wf.updatable, { workflowId: 'uws-existing', taskQueue, args: [100], workflowIdConflictPolicy: 'USE_EXISTING' });
    expect(await h.client.workflow.executeUpdateWithStart(wf.setValueUpdate, { startWorkflowOperation: op, args: [6] })).toBe(4);
    const handle = await op.workflowHandle();
    expect((await handle.describe()).runId).toBe(first.firstExecutionRunId);
    // No running workflow: USE_EXISTING starts one.
    const fresh = new WithStartWorkflowOperation(wf.updatable, { workflowId: 'uws-fresh', taskQueue, args: [100], workflowIdConflictPolicy: 'USE_EXISTING' });
    const updateHandle = await h.client.workflow.startUpdateWithStart(wf.setValueUpdate, {
      startWorkflowOperation: fresh,
      args: [1],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    expect(await updateHandle.result()).toBe(100);
    for (const id of ['uws-existing', 'uws-fresh']) {
      const hd = h.client.workflow.getHandle(id);
      await hd.executeUpdate(wf.finishUpdate);
      await hd.result();
    }
    expect(await first.result()).toBe(6);
  });

  it('FAIL: a running workflow makes the call fail with WorkflowExecutionAlreadyStartedError, and the update is not applied', async () => {
    const running = await h.client.workflow.start(wf.updatable, { taskQueue, workflowId: 'uws-fail', args: [3] });
    const op = new WithStartWorkflowOperation(wf.updatable, { workflowId: 'uws-fail', taskQueue, args: [0], workflowIdConflictPolicy: 'FAIL' });
    const error = await h.client.workflow.executeUpdateWithStart(wf.setValueUpdate, { startWorkflowOperation: op, args: [9] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    await expect(op.workflowHandle()).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    expect(await running.query(wf.valueQuery)).toBe(3);
    await running.executeUpdate(wf.finishUpdate);
    expect(await running.result()).toBe(3);
    expect(eventTypes(await running.fetchHistory()).filter((t) => t === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toHaveLength(1);
  });

  it('a malformed multi-operation is refused with INVALID_ARGUMENT naming what is wrong', async () => {
    const error = await h.workflowService
      .executeMultiOperation({ namespace: 'default', operations: [{ startWorkflow: { workflowId: 'x', workflowType: { name: 'updatable' }, taskQueue: { name: taskQueue } } }] })
      .catch((e: unknown) => e);
    expect((error as { code?: number }).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(String((error as Error).message)).toMatch(/exactly two operations/);
    const noPolicy = await h.workflowService
      .executeMultiOperation({
        namespace: 'default',
        operations: [
          { startWorkflow: { workflowId: 'x', workflowType: { name: 'updatable' }, taskQueue: { name: taskQueue }, requestId: 'r1' } },
          { updateWorkflow: { workflowExecution: { workflowId: 'x' }, request: { meta: { updateId: 'u1' }, input: { name: 'setValue' } } } },
        ],
      })
      .catch((e: unknown) => e);
    expect(String((noPolicy as Error).message)).toMatch(/workflow_id_conflict_policy/);
  });
});

describe('2. signal-with-start', () => {
  it('starts when nothing runs, signals the running workflow otherwise; FAIL refuses a running one', async () => {
    const first = await h.client.workflow.signalWithStart(wf.updatable, { workflowId: 'sws', taskQueue, args: [1], signal: wf.addSignal, signalArgs: [2] });
    const again = await h.client.workflow.signalWithStart(wf.updatable, { workflowId: 'sws', taskQueue, args: [50], signal: wf.addSignal, signalArgs: [3] });
    expect(again.signaledRunId).toBe(first.signaledRunId);
    await eventually(async () => (await first.query(wf.valueQuery)) === 6, 5000, 'both signals');
    const refused = await h.client.workflow
      .signalWithStart(wf.updatable, { workflowId: 'sws', taskQueue, args: [0], signal: wf.addSignal, signalArgs: [1], workflowIdConflictPolicy: 'FAIL' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    await first.executeUpdate(wf.finishUpdate);
    expect(await first.result()).toBe(6);
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await eventually(async () => (await h.client.workflow.count(`ExecutionStatus = 'Running'`)).count === 0, 5000, 'nothing running');
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

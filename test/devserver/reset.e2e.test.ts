/**
 * Issue 17, item 4: ResetWorkflowExecution to a workflow task. The new run's history is the base run's up to that
 * task, then WorkflowTaskFailed (RESET_WORKFLOW), the reapplied signals, and a new task; the current run is
 * terminated; what was pending at that point (an activity) runs again. Every history replays.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTypes, eventually, useDevServer, type History } from '../support/devserver-harness.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();
const RRT = temporal.api.enums.v1.ResetReapplyType;
const WFC = temporal.api.enums.v1.WorkflowTaskFailedCause;

let worker: Awaited<ReturnType<typeof h.runningWorker>>;
let taskQueue: string;

beforeAll(async () => {
  worker = await h.runningWorker();
  taskQueue = worker.taskQueue;
});
afterAll(async () => {
  await worker?.stop();
});

function taskCompletedIds(history: History): number[] {
  return (history.events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes).map((e) => Number(e.eventId));
}

async function reset(workflowId: string, runId: string, eventId: number, reapply?: number): Promise<string> {
  const response = await h.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId, runId },
    reason: 'operator re-run',
    workflowTaskFinishEventId: Long.fromNumber(eventId),
    requestId: randomUUID(),
    resetReapplyType: reapply,
  });
  return response.runId;
}

describe('4. reset', () => {
  it('resets a completed run to its first task: copied history, a reset task failure, reapplied signals, the activity runs again', async () => {
    const handle = await h.client.workflow.start(wf.resettable, { taskQueue, workflowId: 'reset-done', args: ['ann'] });
    await eventually(async () => eventTypes(await handle.fetchHistory()).includes('ACTIVITY_TASK_COMPLETED'), 5000, 'the activity');
    await handle.signal(wf.addSignal, 2);
    await handle.signal(wf.addSignal, 3);
    await handle.signal(wf.doneSignal);
    expect(await handle.result()).toBe('hello ann total 5');
    const base = await handle.fetchHistory();
    const point = taskCompletedIds(base)[0];

    const newRunId = await reset('reset-done', handle.firstExecutionRunId, point);
    expect(newRunId).not.toBe(handle.firstExecutionRunId);
    const fresh = h.client.workflow.getHandle('reset-done', newRunId);
    expect(await fresh.result()).toBe('hello ann total 5');
    const history = await fresh.fetchHistory();
    const types = eventTypes(history);
    // Identical up to the started event of the chosen task.
    expect(types.slice(0, point - 1)).toEqual(eventTypes(base).slice(0, point - 1));
    expect(history.events?.[0]?.eventTime).toEqual(base.events?.[0]?.eventTime);
    const failed = history.events?.[point - 1];
    expect(types[point - 1]).toBe('WORKFLOW_TASK_FAILED');
    expect(failed?.workflowTaskFailedEventAttributes?.cause).toBe(WFC.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW);
    expect(failed?.workflowTaskFailedEventAttributes?.baseRunId).toBe(handle.firstExecutionRunId);
    expect(failed?.workflowTaskFailedEventAttributes?.newRunId).toBe(newRunId);
    expect(types.slice(point, point + 3)).toEqual(['WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_EXECUTION_SIGNALED']);
    expect(types.filter((t) => t === 'ACTIVITY_TASK_COMPLETED')).toHaveLength(1);
    // The workflow's current run is the new one.
    expect((await h.client.workflow.getHandle('reset-done').describe()).runId).toBe(newRunId);
  });

  it('without reapplied signals (NONE), the new run waits for them again', async () => {
    const handle = await h.client.workflow.start(wf.resettable, { taskQueue, workflowId: 'reset-none', args: ['bo'] });
    await eventually(async () => eventTypes(await handle.fetchHistory()).includes('ACTIVITY_TASK_COMPLETED'), 5000, 'the activity');
    await handle.signal(wf.addSignal, 4);
    await handle.signal(wf.doneSignal);
    await handle.result();
    const point = taskCompletedIds(await handle.fetchHistory())[1];
    const newRunId = await reset('reset-none', handle.firstExecutionRunId, point, RRT.RESET_REAPPLY_TYPE_NONE);
    const fresh = h.client.workflow.getHandle('reset-none', newRunId);
    expect((await fresh.describe()).status.name).toBe('RUNNING');
    expect(eventTypes(await fresh.fetchHistory())).not.toContain('WORKFLOW_EXECUTION_SIGNALED');
    await fresh.signal(wf.doneSignal);
    expect(await fresh.result()).toBe('hello bo total 0');
  });

  it('resetting a running workflow terminates it; the new run carries on from the chosen task with the later signals', async () => {
    const handle = await h.client.workflow.start(wf.resettable, { taskQueue, workflowId: 'reset-running', args: ['cy'] });
    await eventually(async () => taskCompletedIds(await handle.fetchHistory()).length >= 2, 5000, 'the task after the activity');
    const point = taskCompletedIds(await handle.fetchHistory())[1];
    await handle.signal(wf.addSignal, 1);
    await eventually(async () => (await handle.fetchHistory()).events?.length, 5000, 'history');
    const newRunId = await reset('reset-running', handle.firstExecutionRunId, point);
    const oldRun = await h.client.workflow.getHandle('reset-running', handle.firstExecutionRunId).describe();
    expect(oldRun.status.name).toBe('TERMINATED');
    await h.client.workflow.getHandle('reset-running').signal(wf.doneSignal);
    expect(await h.client.workflow.getHandle('reset-running', newRunId).result()).toBe('hello cy total 1');
  });

  it('a failed run can be re-run from a point in its history: the base run stays FAILED, the new one runs', async () => {
    const handle = await h.client.workflow.start(wf.failAfterDone, { taskQueue, workflowId: 'reset-failed' });
    await handle.signal(wf.doneSignal);
    await expect(handle.result()).rejects.toThrow();
    const point = taskCompletedIds(await handle.fetchHistory())[0];
    const newRunId = await reset('reset-failed', handle.firstExecutionRunId, point, RRT.RESET_REAPPLY_TYPE_NONE);
    expect((await h.client.workflow.getHandle('reset-failed', handle.firstExecutionRunId).describe()).status.name).toBe('FAILED');
    const fresh = h.client.workflow.getHandle('reset-failed', newRunId);
    expect((await fresh.describe()).status.name).toBe('RUNNING');
    expect(await fresh.query(wf.totalQuery)).toBe(7);
    await fresh.signal(wf.doneSignal);
    await expect(fresh.result()).rejects.toThrow();
  });

  it('an event id that is not the end of a workflow task is refused with INVALID_ARGUMENT', async () => {
    const handle = await h.client.workflow.start(wf.resettable, { taskQueue, workflowId: 'reset-bad', args: ['di'] });
    const error = await h.workflowService
      .resetWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: 'reset-bad' }, reason: 'x', workflowTaskFinishEventId: Long.fromNumber(1), requestId: randomUUID() })
      .catch((e: unknown) => e);
    expect((error as { code?: number }).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(String((error as Error).message)).toMatch(/workflow_task_finish_event_id 1/);
    await handle.signal(wf.doneSignal);
    await handle.result();
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await eventually(async () => (await h.client.workflow.count(`ExecutionStatus = 'Running'`)).count === 0, 5000, 'nothing running');
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

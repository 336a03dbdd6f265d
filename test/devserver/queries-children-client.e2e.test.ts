/**
 * Issue items 5 (queries), 6 (child workflows) and 7 (client operations: cancel, terminate, describe, history paging,
 * the wait_new_event long poll and the close-event filter, ResetStickyTaskQueue, ShutdownWorker).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Client, QueryNotRegisteredError, QueryRejectedError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTypes, eventually, sleep, useDevServer } from '../support/devserver-harness.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();
const ES = temporal.api.enums.v1.WorkflowExecutionStatus;
const HEF = temporal.api.enums.v1.HistoryEventFilterType;

let worker: Awaited<ReturnType<typeof h.runningWorker>>;
let taskQueue: string;

beforeAll(async () => {
  worker = await h.runningWorker();
  taskQueue = worker.taskQueue;
});
afterAll(async () => {
  await worker?.stop();
});

describe('5. queries', () => {
  it('a query is answered by the worker, while running and after completion', async () => {
    const handle = await h.client.workflow.start(wf.queryable, { taskQueue, workflowId: 'q-running' });
    expect(await handle.query(wf.totalQuery)).toBe(0);
    await handle.signal(wf.addSignal, 4);
    await eventually(async () => (await handle.query(wf.totalQuery)) === 4, 5000, 'total 4');
    await handle.signal(wf.doneSignal);
    expect(await handle.result()).toBe(4);
    // A closed workflow is still queryable by default (the worker replays it).
    expect(await handle.query(wf.totalQuery)).toBe(4);
  });

  it('a failing query handler and an unknown query type are errors', async () => {
    const handle = await h.client.workflow.start(wf.queryable, { taskQueue, workflowId: 'q-errors' });
    await expect(handle.query(wf.boomQuery)).rejects.toThrow(/boom query handler failed/);
    const unknown = await handle.query('no-such-query').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(QueryNotRegisteredError);
    await handle.signal(wf.doneSignal);
    await handle.result();
  });

  it('queryRejectCondition: NOT_OPEN rejects closed workflows, NOT_COMPLETED_CLEANLY rejects failed ones', async () => {
    const completed = await h.client.workflow.start(wf.queryable, { taskQueue, workflowId: 'q-completed' });
    await completed.signal(wf.doneSignal);
    await completed.result();
    const failed = await h.client.workflow.start(wf.failAfterDone, { taskQueue, workflowId: 'q-failed' });
    await failed.signal(wf.doneSignal);
    await expect(failed.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const notOpen = new Client({ connection: h.connection, workflow: { queryRejectCondition: 'NOT_OPEN' } });
    const rejected = await notOpen.workflow.getHandle('q-completed').query(wf.totalQuery).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(QueryRejectedError);
    expect((rejected as QueryRejectedError).status).toBe(ES.WORKFLOW_EXECUTION_STATUS_COMPLETED);

    const notClean = new Client({ connection: h.connection, workflow: { queryRejectCondition: 'NOT_COMPLETED_CLEANLY' } });
    expect(await notClean.workflow.getHandle('q-completed').query(wf.totalQuery)).toBe(0);
    const rejectedFailed = await notClean.workflow.getHandle('q-failed').query(wf.totalQuery).catch((e: unknown) => e);
    expect(rejectedFailed).toBeInstanceOf(QueryRejectedError);
    expect((rejectedFailed as QueryRejectedError).status).toBe(ES.WORKFLOW_EXECUTION_STATUS_FAILED);
    // Without a reject condition the failed workflow answers.
    expect(await h.client.workflow.getHandle('q-failed').query(wf.totalQuery)).toBe(7);
  });

  it('a query no worker answers fails before the deadline, naming the task queue', async () => {
    const handle = await h.client.workflow.start(wf.queryable, { taskQueue: 'no-worker-here', workflowId: 'q-no-worker' });
    const error = await h.connection
      .withDeadline(Date.now() + 2500, () =>
        h.workflowService.queryWorkflow({ namespace: 'default', execution: { workflowId: 'q-no-worker' }, query: { queryType: 'total' } }),
      )
      .catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/no-worker-here/);
    await handle.terminate();
  });
});

describe('6. child workflows', () => {
  it('completion and failure of children reach the parent', async () => {
    expect(await h.client.workflow.execute(wf.parent, { taskQueue, workflowId: 'child-ok', args: [2] })).toEqual(['hello child-0', 'hello child-1']);
    expect(await h.client.workflow.execute(wf.parentOfFailingChild, { taskQueue, workflowId: 'child-fail' })).toBe('caught: child broke');
    const child = await h.client.workflow.getHandle('child-ok-child-0').describe();
    expect(child.parentExecution?.workflowId).toBe('child-ok');
  });

  it('cancellation and timeout of a child reach the parent', async () => {
    expect(await h.client.workflow.execute(wf.cancellableChildParent, { taskQueue, workflowId: 'child-cancel' })).toBe('child cancelled');
    expect((await h.client.workflow.getHandle('child-cancel-child').describe()).status.name).toBe('CANCELLED');
    expect(await h.client.workflow.execute(wf.parentOfTimingOutChild, { taskQueue, workflowId: 'child-timeout' })).toBe('caught: timeout START_TO_CLOSE');
  });

  it('a child terminated from outside fails the parent with a ChildWorkflowFailure', async () => {
    const parent = await h.client.workflow.start(wf.parentAwaitingChild, { taskQueue, workflowId: 'child-terminated' });
    const child = h.client.workflow.getHandle('child-terminated-child');
    await eventually(async () => (await child.describe()).status.name === 'RUNNING', 5000, 'child started');
    const described = await parent.describe();
    expect(described.raw.pendingChildren?.map((c) => c.workflowId)).toEqual(['child-terminated-child']);
    await child.terminate('from outside');
    expect(await parent.result()).toBe('caught ChildWorkflowFailure: TerminatedFailure');
  });

  it('a child whose workflow id is taken fails to start, and the parent is told', async () => {
    const existing = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'taken-child-id' });
    expect(await h.client.workflow.execute(wf.parentOfDuplicateChild, { taskQueue, workflowId: 'dup-child-parent', args: ['taken-child-id'] })).toBe(
      'WorkflowExecutionAlreadyStartedError',
    );
    const types = eventTypes(await h.client.workflow.getHandle('dup-child-parent').fetchHistory());
    expect(types).toContain('START_CHILD_WORKFLOW_EXECUTION_FAILED');
    await existing.terminate();
  });

  it('parent close policy TERMINATE terminates the child when the parent closes', async () => {
    expect(await h.client.workflow.execute(wf.parentWithPolicy, { taskQueue, workflowId: 'pcp-terminate', args: ['TERMINATE'] })).toBe('pcp-terminate-child');
    const child = h.client.workflow.getHandle('pcp-terminate-child');
    await eventually(async () => (await child.describe()).status.name === 'TERMINATED', 5000, 'child terminated');
    const error = await child.result().catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TerminatedFailure);
  });

  it('parent close policy ABANDON leaves the child running', async () => {
    await h.client.workflow.execute(wf.parentWithPolicy, { taskQueue, workflowId: 'pcp-abandon', args: ['ABANDON'] });
    const child = h.client.workflow.getHandle('pcp-abandon-child');
    await sleep(300);
    expect((await child.describe()).status.name).toBe('RUNNING');
    await child.signal(wf.addSignal, 9);
    await child.signal(wf.doneSignal);
    expect(await child.result()).toBe(9);
  });

  it('parent close policy REQUEST_CANCEL asks the child to cancel', async () => {
    await h.client.workflow.execute(wf.parentWithPolicy, { taskQueue, workflowId: 'pcp-cancel', args: ['REQUEST_CANCEL'] });
    const child = h.client.workflow.getHandle('pcp-cancel-child');
    const error = await child.result().catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(eventTypes(await child.fetchHistory())).toContain('WORKFLOW_EXECUTION_CANCEL_REQUESTED');
  });
});

describe('7. client operations', () => {
  it('RequestCancelWorkflowExecution cancels a workflow (which cleans up)', async () => {
    const handle = await h.client.workflow.start(wf.cancellableSleep, { taskQueue, workflowId: 'op-cancel', args: [60_000] });
    await eventually(async () => eventTypes(await handle.fetchHistory()).includes('TIMER_STARTED'), 5000, 'timer started');
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    const types = eventTypes(await handle.fetchHistory());
    expect(types.filter((t) => t === 'ACTIVITY_TASK_COMPLETED')).toHaveLength(1); // the cleanup activity
    // A closed workflow cannot be cancelled or terminated.
    await expect(handle.cancel()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(handle.terminate()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('TerminateWorkflowExecution ends a workflow with the reason', async () => {
    const handle = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'op-terminate' });
    await handle.terminate('no longer needed');
    const error = await handle.result().catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TerminatedFailure);
    const described = await handle.describe();
    expect(described.status.name).toBe('TERMINATED');
    expect(described.closeTime).toBeInstanceOf(Date);
    const last = (await handle.fetchHistory()).events?.at(-1);
    expect(last?.workflowExecutionTerminatedEventAttributes?.reason).toBe('no longer needed');
  });

  it('DescribeWorkflowExecution reports status, type, task queue, history length and pending children', async () => {
    const handle = await h.client.workflow.start(wf.parentWithPolicy, { taskQueue: 'nobody-polls-describe', workflowId: 'op-describe', args: ['ABANDON'] });
    const described = await handle.describe();
    expect(described).toMatchObject({ workflowId: 'op-describe', type: 'parentWithPolicy', taskQueue: 'nobody-polls-describe' });
    expect(described.status.name).toBe('RUNNING');
    expect(described.historyLength).toBe(2);
    expect(described.raw.pendingWorkflowTask?.state).toBe(temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED);
    await handle.terminate();
    const missing = await h.client.workflow.getHandle('no-such-workflow').describe().catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(WorkflowNotFoundError);
  });

  it('GetWorkflowExecutionHistory pages through a history; the reverse variant too', async () => {
    await h.client.workflow.execute(wf.parent, { taskQueue, workflowId: 'op-paging', args: [3] });
    const full = await h.client.workflow.getHandle('op-paging').fetchHistory();
    const total = full.events?.length ?? 0;
    expect(total).toBeGreaterThan(10);
    const paged: number[] = [];
    let token: Uint8Array | undefined;
    let pages = 0;
    do {
      const page = await h.workflowService.getWorkflowExecutionHistory({
        namespace: 'default',
        execution: { workflowId: 'op-paging' },
        maximumPageSize: 4,
        nextPageToken: token,
      });
      pages += 1;
      expect(page.history?.events?.length ?? 0).toBeLessThanOrEqual(4);
      paged.push(...(page.history?.events ?? []).map((e) => Number(e.eventId)));
      token = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (token);
    expect(pages).toBe(Math.ceil(total / 4));
    expect(paged).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    const reverse = await h.workflowService.getWorkflowExecutionHistoryReverse({ namespace: 'default', execution: { workflowId: 'op-paging' }, maximumPageSize: 5 });
    expect((reverse.history?.events ?? []).map((e) => Number(e.eventId))).toEqual([total, total - 1, total - 2, total - 3, total - 4]);

    const malformed = await h.workflowService
      .getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'op-paging' }, nextPageToken: Buffer.from('garbage') })
      .catch((e: unknown) => e);
    expect((malformed as { code?: number }).code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it('wait_new_event long-polls for the next event; the close-event filter waits for the close event', async () => {
    const handle = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'op-long-poll' });
    await eventually(async () => eventTypes(await handle.fetchHistory()).includes('WORKFLOW_TASK_COMPLETED'), 5000, 'first task');
    const first = await h.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'op-long-poll' }, waitNewEvent: true });
    const seen = first.history?.events?.length ?? 0;
    expect(first.nextPageToken?.length).toBeGreaterThan(0);

    const started = Date.now();
    const next = h.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: 'op-long-poll' },
      waitNewEvent: true,
      nextPageToken: first.nextPageToken,
    });
    const closeOnly = h.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: 'op-long-poll' },
      waitNewEvent: true,
      historyEventFilterType: HEF.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    });
    await sleep(400);
    await handle.signal(wf.addSignal, 1);
    const got = await next;
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(Number(got.history?.events?.[0]?.eventId)).toBe(seen + 1);
    expect(eventTypes(got.history ?? {})[0]).toBe('WORKFLOW_EXECUTION_SIGNALED');

    await handle.signal(wf.doneSignal);
    const close = await closeOnly;
    expect(eventTypes(close.history ?? {})).toEqual(['WORKFLOW_EXECUTION_COMPLETED']);
    expect(await handle.result()).toBe(1);
  });

  it('ResetStickyTaskQueue and ShutdownWorker are accepted', async () => {
    const handle = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'op-sticky' });
    await eventually(async () => eventTypes(await handle.fetchHistory()).includes('WORKFLOW_TASK_COMPLETED'), 5000, 'first task');
    await h.workflowService.resetStickyTaskQueue({ namespace: 'default', execution: { workflowId: 'op-sticky' } });
    await h.workflowService.shutdownWorker({ namespace: 'default', stickyTaskQueue: 'some-sticky-queue', identity: 'e2e' });
    await handle.signal(wf.doneSignal);
    expect(await handle.result()).toBe(0);
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await worker.stop();
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

/**
 * Issue item 3: workflow tasks (long poll, completion, failure and retry, timeout with a killed worker, sticky
 * queues), every command the issue lists, and signals that arrive while a task is running.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { eventTypes, eventually, sleep, useDevServer } from '../support/devserver-harness.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();

async function typesOf(workflowId: string, runId?: string): Promise<string[]> {
  return eventTypes(await h.client.workflow.getHandle(workflowId, runId).fetchHistory());
}

describe('3. workflow task polling', () => {
  it('a long poll on an empty queue waits until shortly before the deadline, then answers empty', async () => {
    const started = Date.now();
    const response = await h.connection.withDeadline(Date.now() + 3000, () =>
      h.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: h.taskQueue('empty') }, identity: 'e2e' }),
    );
    const waited = Date.now() - started;
    expect(response.taskToken?.length ?? 0).toBe(0);
    expect(waited).toBeGreaterThanOrEqual(1500);
    expect(waited).toBeLessThan(3000);
  });

  it('a long poll ends cleanly when the worker shuts down', async () => {
    const worker = await h.worker();
    const running = worker.run();
    await sleep(300);
    const started = Date.now();
    worker.shutdown();
    await running;
    // Far less than the poll's own wait (up to a minute): the server ended the poll when the worker said it stops.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(worker.getState()).toBe('STOPPED');
  });

  it('DescribeTaskQueue reports the pollers of a task queue and its backlog', async () => {
    const TQT = temporal.api.enums.v1.TaskQueueType;
    await h.withWorker({ identity: 'describe-me@e2e' }, async (taskQueue) => {
      await h.client.workflow.execute(wf.greet, { taskQueue, workflowId: 'describe-tq', args: ['tq'] });
      for (const taskQueueType of [TQT.TASK_QUEUE_TYPE_WORKFLOW, TQT.TASK_QUEUE_TYPE_ACTIVITY]) {
        const described = await h.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType });
        expect(described.pollers?.map((p) => p.identity)).toContain('describe-me@e2e');
      }
    });
    const empty = h.taskQueue('never-polled');
    await h.client.workflow.start(wf.greet, { taskQueue: empty, workflowId: 'describe-backlog', args: ['x'] });
    const backlog = await h.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: empty } });
    expect(backlog.pollers ?? []).toEqual([]);
    expect(Number(backlog.taskQueueStatus?.backlogCountHint)).toBe(1);
    await h.client.workflow.getHandle('describe-backlog').terminate();
  });

  it('sticky queues: the worker keeps its sticky queue; after it shuts down another worker takes over at once', async () => {
    const taskQueue = h.taskQueue('sticky');
    const first = await h.runningWorker({ taskQueue });
    const handle = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'sticky-acc' });
    await handle.signal(wf.addSignal, 1);
    expect(await handle.query(wf.totalQuery)).toBe(1);
    await handle.signal(wf.addSignal, 2);
    await eventually(async () => (await handle.query(wf.totalQuery)) === 3, 5000, 'total 3');
    await first.stop();
    await h.workflowService.resetStickyTaskQueue({ namespace: 'default', execution: { workflowId: 'sticky-acc' } });
    const second = await h.runningWorker({ taskQueue });
    const started = Date.now();
    await handle.signal(wf.addSignal, 4);
    await handle.signal(wf.doneSignal);
    expect(await handle.result()).toBe(7);
    // Well within the worker's sticky schedule-to-start timeout (10 s): the task went to the normal queue at once.
    expect(Date.now() - started).toBeLessThan(8000);
    await second.stop();
    const history = await handle.fetchHistory();
    const kinds = (history.events ?? []).filter((e) => e.workflowTaskScheduledEventAttributes).map((e) => e.workflowTaskScheduledEventAttributes?.taskQueue?.kind);
    expect(kinds).toContain(2); // TASK_QUEUE_KIND_STICKY
  });
});

describe('3. commands', () => {
  it('ScheduleActivityTask, StartTimer, CompleteWorkflowExecution', async () => {
    await h.withWorker({}, async (taskQueue) => {
      expect(await h.client.workflow.execute(wf.greet, { taskQueue, workflowId: 'cmd-activity', args: ['cmd'] })).toBe('hello cmd');
      expect(await h.client.workflow.execute(wf.sleeper, { taskQueue, workflowId: 'cmd-timer', args: [100] })).toBe('woke');
    });
    expect(await typesOf('cmd-activity')).toEqual([
      'WORKFLOW_EXECUTION_STARTED',
      'WORKFLOW_TASK_SCHEDULED',
      'WORKFLOW_TASK_STARTED',
      'WORKFLOW_TASK_COMPLETED',
      'ACTIVITY_TASK_SCHEDULED',
      'ACTIVITY_TASK_STARTED',
      'ACTIVITY_TASK_COMPLETED',
      'WORKFLOW_TASK_SCHEDULED',
      'WORKFLOW_TASK_STARTED',
      'WORKFLOW_TASK_COMPLETED',
      'WORKFLOW_EXECUTION_COMPLETED',
    ]);
    expect(await typesOf('cmd-timer')).toEqual(expect.arrayContaining(['TIMER_STARTED', 'TIMER_FIRED', 'WORKFLOW_EXECUTION_COMPLETED']));
  });

  it('CancelTimer and RequestCancelActivityTask', async () => {
    await h.withWorker({}, async (taskQueue) => {
      expect(await h.client.workflow.execute(wf.timerCancel, { taskQueue, workflowId: 'cmd-cancel-timer' })).toBe('timer cancelled');
      expect(await h.client.workflow.execute(wf.activityCancel, { taskQueue, workflowId: 'cmd-cancel-activity' })).toBe('activity cancelled');
    });
    expect(await typesOf('cmd-cancel-timer')).toEqual(expect.arrayContaining(['TIMER_STARTED', 'TIMER_CANCELED']));
    expect(await typesOf('cmd-cancel-activity')).toEqual(
      expect.arrayContaining(['ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_CANCEL_REQUESTED', 'ACTIVITY_TASK_CANCELED']),
    );
  });

  it('FailWorkflowExecution and CancelWorkflowExecution', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const failed = await h.client.workflow.execute(wf.failing, { taskQueue, workflowId: 'cmd-fail', args: ['broken'] }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(WorkflowFailedError);
      expect(((failed as WorkflowFailedError).cause as Error).message).toBe('broken');
      const handle = await h.client.workflow.start(wf.cancellableSleep, { taskQueue, workflowId: 'cmd-cancel', args: [60_000] });
      await eventually(async () => (await typesOf('cmd-cancel')).includes('TIMER_STARTED'), 5000, 'timer started');
      await handle.cancel();
      const cancelled = await handle.result().catch((e: unknown) => e);
      expect((cancelled as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    });
    expect((await typesOf('cmd-fail')).at(-1)).toBe('WORKFLOW_EXECUTION_FAILED');
    const types = await typesOf('cmd-cancel');
    expect(types).toEqual(expect.arrayContaining(['WORKFLOW_EXECUTION_CANCEL_REQUESTED', 'TIMER_CANCELED', 'ACTIVITY_TASK_COMPLETED']));
    expect(types.at(-1)).toBe('WORKFLOW_EXECUTION_CANCELED');
  });

  it('ContinueAsNewWorkflowExecution', async () => {
    await h.withWorker({}, async (taskQueue) => {
      expect(await h.client.workflow.execute(wf.counter, { taskQueue, workflowId: 'cmd-can', args: [0, 3] })).toBe(3);
    });
    const runs = [];
    for await (const info of h.client.workflow.list({ query: `WorkflowId = 'cmd-can' ORDER BY StartTime ASC` })) runs.push(info);
    expect(runs.map((r) => r.status.name)).toEqual(['CONTINUED_AS_NEW', 'CONTINUED_AS_NEW', 'CONTINUED_AS_NEW', 'COMPLETED']);
    const firstHistory = await h.client.workflow.getHandle('cmd-can', runs[0].runId).fetchHistory();
    const last = firstHistory.events?.at(-1);
    expect(last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId).toBe(runs[1].runId);
  });

  it('StartChildWorkflowExecution, SignalExternalWorkflowExecution, RequestCancelExternalWorkflowExecution', async () => {
    await h.withWorker({}, async (taskQueue) => {
      expect(await h.client.workflow.execute(wf.parent, { taskQueue, workflowId: 'cmd-parent', args: [2] })).toEqual(['hello child-0', 'hello child-1']);

      const target = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'cmd-signal-target' });
      expect(await h.client.workflow.execute(wf.signaller, { taskQueue, workflowId: 'cmd-signaller', args: ['cmd-signal-target'] })).toBe('signalled');
      expect(await target.result()).toBe(5);

      const victim = await h.client.workflow.start(wf.cancellableSleep, { taskQueue, workflowId: 'cmd-cancel-target', args: [60_000] });
      await eventually(async () => (await typesOf('cmd-cancel-target')).includes('TIMER_STARTED'), 5000, 'timer started');
      expect(await h.client.workflow.execute(wf.canceller, { taskQueue, workflowId: 'cmd-canceller', args: ['cmd-cancel-target'] })).toBe('cancel requested');
      expect((await victim.result().catch((e: unknown) => e)) as WorkflowFailedError).toBeInstanceOf(WorkflowFailedError);

      // Signalling a workflow that does not exist fails in the workflow.
      const missing = await h.client.workflow.execute(wf.signaller, { taskQueue, workflowId: 'cmd-signaller-missing', args: ['nobody-here'] }).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(WorkflowFailedError);
    });
    expect(await typesOf('cmd-parent')).toEqual(
      expect.arrayContaining(['START_CHILD_WORKFLOW_EXECUTION_INITIATED', 'CHILD_WORKFLOW_EXECUTION_STARTED', 'CHILD_WORKFLOW_EXECUTION_COMPLETED']),
    );
    expect(await typesOf('cmd-signaller')).toEqual(expect.arrayContaining(['SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED', 'EXTERNAL_WORKFLOW_EXECUTION_SIGNALED']));
    expect(await typesOf('cmd-canceller')).toEqual(
      expect.arrayContaining(['REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED', 'EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED']),
    );
    expect(await typesOf('cmd-cancel-target')).toContain('WORKFLOW_EXECUTION_CANCEL_REQUESTED');
    expect(await typesOf('cmd-signaller-missing')).toContain('SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED');
  });

  it('RecordMarker, UpsertWorkflowSearchAttributes, ModifyWorkflowProperties', async () => {
    await h.withWorker({}, async (taskQueue) => {
      expect(await h.client.workflow.execute(wf.versioned, { taskQueue, workflowId: 'cmd-marker' })).toMatch(/^v2-/);
      expect(await h.client.workflow.execute(wf.localGreet, { taskQueue, workflowId: 'cmd-local', args: ['local'] })).toBe('hello local');
      const handle = await h.client.workflow.start(wf.searchable, { taskQueue, workflowId: 'cmd-upsert', args: ['upserted'] });
      expect(await handle.result()).toBe('upserted');
      const described = await handle.describe();
      expect(described.memo).toEqual({ note: 'upserted' });
      expect(described.searchAttributes).toMatchObject({ CustomKeywordField: ['upserted'], CustomIntField: [42] });
    });
    expect(await typesOf('cmd-marker')).toContain('MARKER_RECORDED');
    expect(await typesOf('cmd-local')).toContain('MARKER_RECORDED');
    expect(await typesOf('cmd-upsert')).toEqual(expect.arrayContaining(['UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'WORKFLOW_PROPERTIES_MODIFIED']));
  });
});

describe('3. signals while a workflow task runs', () => {
  it('signals sent while a task is running reach the next task', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const hold = h.holds.arm('during-task');
      const handle = await h.client.workflow.start(wf.signalsDuringTask, { taskQueue, workflowId: 'during-task', args: [3] });
      await hold.reached;
      await handle.signal(wf.addSignal, 1);
      await handle.signal(wf.addSignal, 2);
      // Buffered, not in the history while the task runs.
      expect(await typesOf('during-task')).not.toContain('WORKFLOW_EXECUTION_SIGNALED');
      hold.release();
      expect(await handle.result()).toBe(3);
    });
    const types = await typesOf('during-task');
    const completed = types.indexOf('WORKFLOW_TASK_COMPLETED');
    expect(types.slice(completed + 1, completed + 3)).toEqual(['WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_EXECUTION_SIGNALED']);
  });

  it('a task that would complete the workflow while signals arrived is retried with them', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const hold = h.holds.arm('complete-during');
      const handle = await h.client.workflow.start(wf.completeDuringSignals, { taskQueue, workflowId: 'complete-during' });
      await hold.reached;
      await handle.signal(wf.addSignal, 5);
      await handle.signal(wf.addSignal, 6);
      hold.release();
      expect(await handle.result()).toBe(11);
    });
    const history = await h.client.workflow.getHandle('complete-during').fetchHistory();
    const types = eventTypes(history);
    expect(types.filter((t) => t === 'WORKFLOW_EXECUTION_SIGNALED')).toHaveLength(2);
    expect(types.indexOf('WORKFLOW_EXECUTION_SIGNALED')).toBeLessThan(types.indexOf('WORKFLOW_EXECUTION_COMPLETED'));
  });
});

describe('3. workflow task heartbeats and closes during a task', () => {
  it('a local activity longer than the workflow task timeout: the worker heartbeats the task and nothing times out', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const result = await h.client.workflow.execute(wf.slowLocalActivity, { taskQueue, workflowId: 'wft-heartbeat', args: [3000], workflowTaskTimeout: '2s' });
      expect(result).toBe('local done');
    });
    const types = await typesOf('wft-heartbeat');
    expect(types).not.toContain('WORKFLOW_TASK_TIMED_OUT');
    expect(types.filter((t) => t === 'WORKFLOW_TASK_COMPLETED').length).toBeGreaterThanOrEqual(2);
    expect(types).toContain('MARKER_RECORDED');
  });

  it('terminating a workflow while its task runs: buffered signals are written first, the task is failed, the worker copes', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const hold = h.holds.arm('terminate-during-task');
      const handle = await h.client.workflow.start(wf.signalsDuringTask, { taskQueue, workflowId: 'terminate-during-task', args: [100] });
      await hold.reached;
      await handle.signal(wf.addSignal, 1);
      await handle.terminate('while the task runs');
      hold.release();
      const error = await handle.result().catch((e: unknown) => e);
      expect(((error as Error).cause as Error).name).toBe('TerminatedFailure');
      // The worker's late completion is refused and it goes on working.
      expect(await h.client.workflow.execute(wf.greet, { taskQueue, workflowId: 'after-terminate', args: ['still'] })).toBe('hello still');
    });
    const types = await typesOf('terminate-during-task');
    expect(types.slice(-3)).toEqual(['WORKFLOW_TASK_FAILED', 'WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_EXECUTION_TERMINATED']);
  });
});

describe('3. many workflows at once', () => {
  it('80 concurrent workflows with activities, timers and signals all complete', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const greets = Array.from({ length: 50 }, (_, i) => h.client.workflow.execute(wf.greet, { taskQueue, workflowId: `many-greet-${i}`, args: [`n${i}`] }));
      const sleepers = Array.from({ length: 10 }, (_, i) => h.client.workflow.execute(wf.sleeper, { taskQueue, workflowId: `many-sleep-${i}`, args: [50 + i * 10] }));
      const accumulators = await Promise.all(Array.from({ length: 20 }, (_, i) => h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: `many-acc-${i}` })));
      await Promise.all(accumulators.flatMap((a) => [a.signal(wf.addSignal, 1), a.signal(wf.addSignal, 2), a.signal(wf.addSignal, 3)]));
      await Promise.all(accumulators.map((a) => a.signal(wf.doneSignal)));
      expect(await Promise.all(greets)).toEqual(Array.from({ length: 50 }, (_, i) => `hello n${i}`));
      expect(await Promise.all(sleepers)).toEqual(Array(10).fill('woke'));
      expect(await Promise.all(accumulators.map((a) => a.result()))).toEqual(Array(20).fill(6));
    });
    expect((await h.client.workflow.count(`WorkflowId STARTS_WITH 'many-' AND ExecutionStatus = 'Completed'`)).count).toBe(80);
  });
});

describe('3. queries and workflow tasks', () => {
  it('a query sent while a workflow task runs is answered after it', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const hold = h.holds.arm('query-during-task');
      const handle = await h.client.workflow.start(wf.signalsDuringTask, { taskQueue, workflowId: 'query-during-task', args: [1] });
      await hold.reached;
      let answered = false;
      const query = handle.query<number>('__stack_trace').then((v) => {
        answered = true;
        return v;
      });
      await handle.signal(wf.addSignal, 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
      hold.release();
      expect(typeof (await query)).toBe('string');
      expect(await handle.result()).toBe(1);
    });
  });
});

describe('3. workflow task failure, retry and timeout', () => {
  it('a workflow task that fails (a plain Error) is retried; a new signal lets it succeed', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const handle = await h.client.workflow.start(wf.failsUntilFixed, { taskQueue, workflowId: 'wft-fail', workflowTaskTimeout: '2s' });
      await handle.signal(wf.stepSignal, 'break');
      const history = await eventually(
        async () => {
          const hist = await handle.fetchHistory();
          return eventTypes(hist).includes('WORKFLOW_TASK_FAILED') ? hist : undefined;
        },
        10_000,
        'a failed workflow task',
      );
      const failedEvent = history.events?.find((e) => e.workflowTaskFailedEventAttributes);
      expect(failedEvent?.workflowTaskFailedEventAttributes?.failure?.message).toMatch(/not fixed yet/);
      // The retry is under way (transient attempts are not written to history).
      const attempt = await eventually(
        async () => {
          const described = await handle.describe();
          const a = described.raw.pendingWorkflowTask?.attempt ?? 0;
          return a >= 2 ? a : undefined;
        },
        10_000,
        'a retried workflow task',
      );
      expect(attempt).toBeGreaterThanOrEqual(2);
      await handle.signal(wf.stepSignal, 'fix');
      expect(await handle.result()).toBe('fixed after break,fix');
    });
    const types = await typesOf('wft-fail');
    expect(types.filter((t) => t === 'WORKFLOW_TASK_FAILED' || t === 'WORKFLOW_TASK_TIMED_OUT').length).toBeGreaterThanOrEqual(1);
    expect(types.at(-1)).toBe('WORKFLOW_EXECUTION_COMPLETED');
  });

  it('workflow task timeout: a worker killed mid-task; the task times out and a new worker finishes the workflow', async () => {
    const taskQueue = h.taskQueue('killed');
    const child = await h.workerProcess(taskQueue);
    const handle = await h.client.workflow.start(wf.heldTask, { taskQueue, workflowId: 'wft-timeout', args: ['survivor'], workflowTaskTimeout: '2s' });
    await child.waitFor(/^HOLD wft-timeout/);
    await child.kill();
    const result = await h.withWorker({ taskQueue }, () => handle.result());
    expect(result).toBe('hello survivor');
    const history = await handle.fetchHistory();
    const timedOut = history.events?.find((e) => e.workflowTaskTimedOutEventAttributes);
    expect(timedOut).toBeDefined();
    expect(String(timedOut?.workflowTaskTimedOutEventAttributes?.timeoutType)).toBe('1'); // START_TO_CLOSE
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

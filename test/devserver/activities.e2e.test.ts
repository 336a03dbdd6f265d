/**
 * Issue item 4: activities — retry policy (backoff, maximum interval, maximum attempts, non-retryable types),
 * heartbeats (details to the next attempt, cancellation), and the four timeouts; plus DescribeWorkflowExecution's
 * view of a pending activity (item 7).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ActivityOptions } from '@temporalio/common';
import { eventTypes, eventually, useDevServer } from '../support/devserver-harness.js';
import { asyncTokens, attemptLog } from './fixtures/activities.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();

let worker: Awaited<ReturnType<typeof h.runningWorker>>;

async function run(name: string, args: unknown[], options: ActivityOptions, workflowId = `act-${name}-${randomUUID().slice(0, 6)}`): Promise<wf.ActivityOutcome> {
  if (!worker) worker = await h.runningWorker();
  return await h.client.workflow.execute(wf.runActivity, { taskQueue: worker.taskQueue, workflowId, args: [name, args, options] });
}

function gaps(key: string): number[] {
  const times = attemptLog.get(key) ?? [];
  return times.slice(1).map((t, i) => t - times[i]);
}

describe('4. activity retry policy', () => {
  it('retries with exponential backoff until an attempt succeeds', async () => {
    const key = `backoff-${randomUUID()}`;
    const outcome = await run('recordAttempts', [key, 2], {
      startToCloseTimeout: '5s',
      retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumAttempts: 5 },
    });
    expect(outcome).toEqual({ ok: true, result: 3 });
    const [first, second] = gaps(key);
    expect(first).toBeGreaterThanOrEqual(190);
    expect(second).toBeGreaterThanOrEqual(390);
  });

  it('caps the backoff at maximumInterval', async () => {
    const key = `max-interval-${randomUUID()}`;
    const outcome = await run('recordAttempts', [key, 3], {
      startToCloseTimeout: '5s',
      retry: { initialInterval: '100ms', backoffCoefficient: 10, maximumInterval: '300ms', maximumAttempts: 10 },
    });
    expect(outcome).toEqual({ ok: true, result: 4 });
    const [first, second, third] = gaps(key);
    expect(first).toBeGreaterThanOrEqual(95);
    expect(second).toBeGreaterThanOrEqual(290);
    expect(second).toBeLessThan(900); // capped: not 1000 ms
    expect(third).toBeLessThan(900); // not 10 s
  });

  it('gives up after maximumAttempts', async () => {
    const key = `max-attempts-${randomUUID()}`;
    const outcome = await run('recordAttempts', [key, 100], { startToCloseTimeout: '5s', retry: { initialInterval: '20ms', maximumAttempts: 3 } });
    expect(outcome.ok).toBe(false);
    expect(outcome.retryState).toBe('MAXIMUM_ATTEMPTS_REACHED');
    expect(outcome.cause?.message).toBe(`attempt 3 of ${key} fails on purpose`);
    expect(attemptLog.get(key)).toHaveLength(3);
  });

  it('does not retry error types listed as non-retryable, nor non-retryable failures', async () => {
    const key = `non-retryable-type-${randomUUID()}`;
    const outcome = await run('failWithType', [key, 'Fatal'], {
      startToCloseTimeout: '5s',
      retry: { initialInterval: '20ms', maximumAttempts: 5, nonRetryableErrorTypes: ['Fatal'] },
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.retryState).toBe('NON_RETRYABLE_FAILURE');
    expect(outcome.cause?.type).toBe('Fatal');
    expect(attemptLog.get(key)).toHaveLength(1);

    // Another type is retried.
    const other = `retryable-type-${randomUUID()}`;
    const retried = await run('failWithType', [other, 'Transient'], {
      startToCloseTimeout: '5s',
      retry: { initialInterval: '20ms', maximumAttempts: 2, nonRetryableErrorTypes: ['Fatal'] },
    });
    expect(retried.retryState).toBe('MAXIMUM_ATTEMPTS_REACHED');
    expect(attemptLog.get(other)).toHaveLength(2);

    const flagged = `non-retryable-flag-${randomUUID()}`;
    const nonRetryable = await run('failNonRetryable', [flagged], { startToCloseTimeout: '5s', retry: { initialInterval: '20ms', maximumAttempts: 5 } });
    expect(nonRetryable.retryState).toBe('NON_RETRYABLE_FAILURE');
    expect(nonRetryable.cause?.type).toBe('Unrecoverable');
    expect(attemptLog.get(flagged)).toHaveLength(1);
  });
});

describe('4. retry delay asked by the failure, and asynchronous completion', () => {
  it('an ApplicationFailure with nextRetryDelay sets the delay before the next attempt', async () => {
    const key = `next-retry-delay-${randomUUID()}`;
    const outcome = await run('failWithDelay', [key, 600], { startToCloseTimeout: '5s', retry: { initialInterval: '10ms', maximumAttempts: 3 } });
    expect(outcome).toEqual({ ok: true, result: 2 });
    expect(gaps(key)[0]).toBeGreaterThanOrEqual(590);
  });

  it('an activity completed by the client, by task token and by activity id; heartbeats and failures by the client', async () => {
    if (!worker) worker = await h.runningWorker();
    const start = (workflowId: string, key: string) =>
      h.client.workflow.start(wf.runActivity, {
        taskQueue: worker.taskQueue,
        workflowId,
        args: ['completeLater', [key], { startToCloseTimeout: '30s', heartbeatTimeout: '10s', retry: { maximumAttempts: 1 } }],
      });
    const byToken = await start('async-by-token', 'by-token');
    const token = await eventually(() => asyncTokens.get('by-token'), 5000, 'the task token');
    await h.client.activity.heartbeat(token, 'progress');
    const pending = (await byToken.describe()).raw.pendingActivities?.[0];
    expect(pending?.heartbeatDetails?.payloads).toHaveLength(1);
    await h.client.activity.complete(token, 'completed by token');
    expect(await byToken.result()).toEqual({ ok: true, result: 'completed by token' });
    // A second completion of the same task is NOT_FOUND.
    await expect(h.client.activity.complete(token, 'again')).rejects.toThrow();

    const byId = await start('async-by-id', 'by-id');
    await eventually(() => asyncTokens.get('by-id'), 5000, 'the activity to start');
    await h.client.activity.heartbeat({ workflowId: 'async-by-id', activityId: '1' }, 'beat');
    await h.client.activity.complete({ workflowId: 'async-by-id', activityId: '1' }, 'completed by id');
    expect(await byId.result()).toEqual({ ok: true, result: 'completed by id' });

    const failed = await start('async-fail', 'fail');
    await eventually(() => asyncTokens.get('fail'), 5000, 'the activity to start');
    await h.client.activity.fail({ workflowId: 'async-fail', activityId: '1' }, new Error('failed by the client'));
    const outcome = await failed.result();
    expect(outcome.ok).toBe(false);
    expect(outcome.cause?.message).toBe('failed by the client');
  });
});

describe('4. heartbeats', () => {
  it('the last heartbeat details reach the next attempt', async () => {
    const outcome = await run('resumable', [10, 4], { startToCloseTimeout: '10s', heartbeatTimeout: '5s', retry: { initialInterval: '50ms' } });
    expect(outcome).toEqual({ ok: true, result: { resumedFrom: 4, attempt: 2 } });
  });

  it('a cancellation request reaches the activity through its heartbeat', async () => {
    if (!worker) worker = await h.runningWorker();
    const result = await h.client.workflow.execute(wf.activityCancel, { taskQueue: worker.taskQueue, workflowId: 'heartbeat-cancel' });
    expect(result).toBe('activity cancelled');
    const history = await h.client.workflow.getHandle('heartbeat-cancel').fetchHistory();
    const types = eventTypes(history);
    expect(types).toEqual(expect.arrayContaining(['ACTIVITY_TASK_CANCEL_REQUESTED', 'ACTIVITY_TASK_CANCELED']));
    // The activity itself reported the cancellation (it had started): the cancel event points at its started event.
    const canceled = history.events?.find((e) => e.activityTaskCanceledEventAttributes)?.activityTaskCanceledEventAttributes;
    expect(Number(canceled?.startedEventId)).toBeGreaterThan(0);
  });

  it('an activity that has not started is cancelled at once', async () => {
    if (!worker) worker = await h.runningWorker();
    const result = await h.client.workflow.execute(wf.cancelUnstarted, { taskQueue: worker.taskQueue, workflowId: 'cancel-unstarted' });
    expect(result).toBe('cancelled before start');
    const history = await h.client.workflow.getHandle('cancel-unstarted').fetchHistory();
    expect(eventTypes(history)).not.toContain('ACTIVITY_TASK_STARTED');
    expect(eventTypes(history)).toContain('ACTIVITY_TASK_CANCELED');
  });
});

describe('4. activity timeouts', () => {
  it('schedule-to-start: no worker polls the activity task queue', async () => {
    const outcome = await run('hello', ['x'], { taskQueue: 'nobody-polls-here', scheduleToStartTimeout: '500ms', startToCloseTimeout: '5s' });
    expect(outcome.ok).toBe(false);
    expect(outcome.cause?.name).toBe('TimeoutFailure');
    expect(outcome.cause?.timeoutType).toBe('SCHEDULE_TO_START');
  });

  it('start-to-close: each attempt times out, then the retry policy gives up', async () => {
    const started = Date.now();
    const outcome = await run('slowEcho', ['slow', 3000], { startToCloseTimeout: '400ms', retry: { initialInterval: '50ms', maximumAttempts: 2 } });
    expect(outcome.ok).toBe(false);
    expect(outcome.cause?.timeoutType).toBe('START_TO_CLOSE');
    expect(outcome.retryState).toBe('MAXIMUM_ATTEMPTS_REACHED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  it('schedule-to-close: the whole activity, retries included, runs out of time', async () => {
    const started = Date.now();
    const outcome = await run('slowEcho', ['slow', 3000], { scheduleToCloseTimeout: '1s' });
    expect(outcome.ok).toBe(false);
    expect(outcome.cause?.timeoutType).toBe('SCHEDULE_TO_CLOSE');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('heartbeat: an attempt that stops heartbeating times out; details of its last heartbeat go to the next attempt', async () => {
    const retried = await run('heartbeatThenStall', [3000], { startToCloseTimeout: '10s', heartbeatTimeout: '500ms', retry: { initialInterval: '50ms', maximumAttempts: 2 } });
    expect(retried).toEqual({ ok: true, result: 'beat-1' });

    const final = await run('heartbeatThenStall', [3000], { startToCloseTimeout: '10s', heartbeatTimeout: '500ms', retry: { maximumAttempts: 1 } });
    expect(final.ok).toBe(false);
    expect(final.cause?.timeoutType).toBe('HEARTBEAT');
    expect(final.cause?.lastHeartbeatDetails).toBe('beat-1');
  });
});

describe('7. describe shows pending activities', () => {
  it('with their attempt and last failure', async () => {
    if (!worker) worker = await h.runningWorker();
    const key = `describe-${randomUUID()}`;
    const handle = await h.client.workflow.start(wf.slowlyFailingActivity, { taskQueue: worker.taskQueue, workflowId: 'describe-pending', args: [key] });
    await eventually(() => (attemptLog.get(key)?.length ?? 0) >= 2, 10_000, 'a second attempt');
    const described = await handle.describe();
    expect(described.status.name).toBe('RUNNING');
    const pending = described.raw.pendingActivities ?? [];
    expect(pending).toHaveLength(1);
    expect(pending[0].activityType?.name).toBe('recordAttempts');
    expect(pending[0].attempt).toBeGreaterThanOrEqual(2);
    expect(pending[0].lastFailure?.message).toMatch(/fails on purpose/);
    expect(pending[0].maximumAttempts ?? 0).toBe(0);
    await handle.terminate('enough');
    expect((await handle.describe()).raw.pendingActivities ?? []).toHaveLength(0);
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await worker?.stop();
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

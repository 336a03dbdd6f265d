/**
 * Issue 17, item 3: cron workflows (cron_schedule on a start). The first run waits for the next cron time, each run
 * is followed by the next at the next cron time (naming it in its close event, handing over its result), retries run
 * within a cron run first, and terminate / cancel end the chain. Every history replays.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sleep, useDevServer } from '../support/devserver-harness.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();
const CAN = temporal.api.enums.v1.ContinueAsNewInitiator;

let worker: Awaited<ReturnType<typeof h.runningWorker>>;
let taskQueue: string;

beforeAll(async () => {
  worker = await h.runningWorker();
  taskQueue = worker.taskQueue;
});
afterAll(async () => {
  await worker?.stop();
});

async function runsOf(workflowId: string): Promise<WorkflowExecutionInfo[]> {
  const out: WorkflowExecutionInfo[] = [];
  for await (const info of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) out.push(info);
  return out.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
}

async function startedAttributes(workflowId: string, runId: string): Promise<temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes> {
  const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events?.[0]?.workflowExecutionStartedEventAttributes ?? {};
}

async function closeEvent(workflowId: string, runId: string): Promise<temporal.api.history.v1.IHistoryEvent | undefined> {
  const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events?.at(-1);
}

describe('3. cron workflows', () => {
  it('the first run waits for the next cron time; each run is followed by the next, handing over its result; terminate ends the chain', async () => {
    const begun = Date.now();
    const handle = await h.client.workflow.start(wf.cronRun, { taskQueue, workflowId: 'cron-basic', args: [0], cronSchedule: '@every 2s' });
    const first = await startedAttributes('cron-basic', handle.firstExecutionRunId);
    expect(first.cronSchedule).toBe('@every 2s');
    const backoff = Number(first.firstWorkflowTaskBackoff?.seconds ?? 0) * 1000 + Number(first.firstWorkflowTaskBackoff?.nanos ?? 0) / 1e6;
    expect(backoff).toBeGreaterThan(0);
    expect(backoff).toBeLessThanOrEqual(2000);
    expect((await handle.describe()).status.name).toBe('RUNNING');

    await eventually(async () => (await runsOf('cron-basic')).filter((r) => r.status.name === 'COMPLETED').length >= 2, 15_000, 'two completed cron runs');
    const runs = await runsOf('cron-basic');
    const [run1, run2] = runs;
    // Runs start on 2-second boundaries, not earlier than the first cron time.
    expect(run1.executionTime?.getTime() ?? 0).toBeGreaterThanOrEqual(begun);
    const offBoundary = (t: Date | undefined): number => {
      const r = (t?.getTime() ?? 0) % 2000;
      return Math.min(r, 2000 - r);
    };
    expect(offBoundary(run1.executionTime)).toBeLessThan(50);
    expect(offBoundary(run2.executionTime)).toBeLessThan(50);
    const close1 = await closeEvent('cron-basic', run1.runId);
    expect(close1?.workflowExecutionCompletedEventAttributes?.newExecutionRunId).toBe(run2.runId);
    const second = await startedAttributes('cron-basic', run2.runId);
    expect(second.initiator).toBe(CAN.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE);
    expect(second.continuedExecutionRunId).toBe(run1.runId);
    expect(second.firstExecutionRunId).toBe(run1.runId);
    expect(second.cronSchedule).toBe('@every 2s');
    const result2 = await h.client.workflow.result('cron-basic', run2.runId, { followRuns: false });
    const result1 = await h.client.workflow.result('cron-basic', run1.runId, { followRuns: false });
    expect(result1).toMatch(/after nothing$/);
    expect(result2).toBe(`run ${run2.runId} attempt 1 after ${String(result1)}`);

    await h.client.workflow.getHandle('cron-basic').terminate('enough');
    const count = (await runsOf('cron-basic')).length;
    await sleep(2500);
    const after = await runsOf('cron-basic');
    expect(after.length).toBe(count);
    expect(after.at(-1)?.status.name).toBe('TERMINATED');
  });

  it('cancel ends the chain too (the cancelled run closes as CANCELLED, no run follows)', async () => {
    const handle = await h.client.workflow.start(wf.cronRun, { taskQueue, workflowId: 'cron-cancel', args: [0], cronSchedule: '@every 1s' });
    await eventually(async () => (await runsOf('cron-cancel')).some((r) => r.status.name === 'COMPLETED'), 10_000, 'a completed cron run');
    await handle.cancel();
    await eventually(async () => (await runsOf('cron-cancel')).at(-1)?.status.name === 'CANCELLED', 10_000, 'the cancelled run');
    const count = (await runsOf('cron-cancel')).length;
    await sleep(1500);
    expect((await runsOf('cron-cancel')).length).toBe(count);
  });

  it('retries and cron combine: the retry policy retries within a run first, then cron goes on (also after the retries give up)', async () => {
    // attempt 1 of every cron run fails, attempt 2 succeeds
    await h.client.workflow.start(wf.cronRun, {
      taskQueue,
      workflowId: 'cron-retry',
      args: [1],
      cronSchedule: '@every 2s',
      retry: { maximumAttempts: 2, initialInterval: '100ms' },
    });
    await eventually(async () => (await runsOf('cron-retry')).some((r) => r.status.name === 'COMPLETED'), 15_000, 'a completed run');
    const runs = await runsOf('cron-retry');
    const failed = runs[0];
    const retried = runs[1];
    expect(failed.status.name).toBe('FAILED');
    const failedClose = await closeEvent('cron-retry', failed.runId);
    expect(failedClose?.workflowExecutionFailedEventAttributes?.retryState).toBe(temporal.api.enums.v1.RetryState.RETRY_STATE_IN_PROGRESS);
    expect(failedClose?.workflowExecutionFailedEventAttributes?.newExecutionRunId).toBe(retried.runId);
    const retriedStart = await startedAttributes('cron-retry', retried.runId);
    expect(retriedStart.initiator).toBe(CAN.CONTINUE_AS_NEW_INITIATOR_RETRY);
    expect(retriedStart.attempt).toBe(2);
    expect(await h.client.workflow.result('cron-retry', retried.runId, { followRuns: false })).toMatch(/attempt 2 after nothing$/);
    await h.client.workflow.getHandle('cron-retry').terminate('enough');

    // Every attempt fails: once the retry policy gives up, the next cron run starts (attempt 1), with the failure.
    await h.client.workflow.start(wf.cronRun, {
      taskQueue,
      workflowId: 'cron-exhausted',
      args: [5],
      cronSchedule: '@every 1s',
      retry: { maximumAttempts: 2, initialInterval: '100ms' },
    });
    await eventually(async () => (await runsOf('cron-exhausted')).length >= 3, 15_000, 'a cron run after the retries');
    const chain = await runsOf('cron-exhausted');
    const gaveUp = await closeEvent('cron-exhausted', chain[1].runId);
    expect(gaveUp?.workflowExecutionFailedEventAttributes?.retryState).toBe(temporal.api.enums.v1.RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
    expect(gaveUp?.workflowExecutionFailedEventAttributes?.newExecutionRunId).toBe(chain[2].runId);
    const nextCron = await startedAttributes('cron-exhausted', chain[2].runId);
    expect(nextCron.initiator).toBe(CAN.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE);
    expect(nextCron.attempt).toBe(1);
    expect(nextCron.continuedFailure?.message).toBe('attempt 2 fails on purpose');
    await h.client.workflow.getHandle('cron-exhausted').terminate('enough');
  });

  it('a cron_schedule that does not parse is refused, naming it', async () => {
    const error = await h.client.workflow.start(wf.cronRun, { taskQueue, workflowId: 'cron-bad', args: [0], cronSchedule: 'every tuesday' }).catch((e: unknown) => e);
    const cause = (error as Error).cause as { code?: number; details?: string } | undefined;
    expect(cause?.details).toMatch(/cron_schedule "every tuesday" is not valid/);
    expect(cause?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await eventually(async () => (await h.client.workflow.count(`ExecutionStatus = 'Running'`)).count === 0, 5000, 'nothing running');
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

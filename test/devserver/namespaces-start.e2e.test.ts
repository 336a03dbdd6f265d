/**
 * Issue items 1 (namespaces) and 2 (starting workflows), with the real SDK client and worker against the devserver.
 */
import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Client, WorkflowFailedError, type WorkflowExecutionDescription } from '@temporalio/client';
import {
  ApplicationFailure,
  defineSearchAttributeKey,
  NamespaceNotFoundError,
  SearchAttributeType,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time.js';
import { describe, expect, it } from 'vitest';
import { eventTypes, useDevServer } from '../support/devserver-harness.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();

function grpcCode(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

const KEYWORD = defineSearchAttributeKey('CustomKeywordField', SearchAttributeType.KEYWORD);
const INT = defineSearchAttributeKey('CustomIntField', SearchAttributeType.INT);

describe('1. namespaces', () => {
  it('GetSystemInfo reports honest capabilities', async () => {
    const info = await h.workflowService.getSystemInfo({});
    expect(info.serverVersion).toMatch(/lastmile/);
    expect(info.capabilities).toMatchObject({
      signalAndQueryHeader: true,
      supportsSchedules: true,
      upsertMemo: true,
      countGroupByExecutionStatus: true,
    });
    // Not implemented, and not claimed.
    expect(info.capabilities?.eagerWorkflowStart ?? false).toBe(false);
    expect(info.capabilities?.nexus ?? false).toBe(false);
    expect(info.capabilities?.buildIdBasedVersioning ?? false).toBe(false);
  });

  it('default always exists and DescribeNamespace answers for it', async () => {
    const described = await h.workflowService.describeNamespace({ namespace: 'default' });
    expect(described.namespaceInfo?.name).toBe('default');
    expect(described.namespaceInfo?.id).toBeTruthy();
    const byId = await h.workflowService.describeNamespace({ id: described.namespaceInfo?.id });
    expect(byId.namespaceInfo?.name).toBe('default');
  });

  it('an unknown namespace is NOT_FOUND, and the client reports NamespaceNotFoundError', async () => {
    const error = await h.workflowService.describeNamespace({ namespace: 'no-such-namespace' }).catch((e: unknown) => e);
    expect(grpcCode(error)).toBe(GrpcStatus.NOT_FOUND);
    expect(String((error as Error).message)).toMatch(/no-such-namespace/);

    const client = new Client({ connection: h.connection, namespace: 'no-such-namespace' });
    const startError = await client.workflow.start(wf.greet, { taskQueue: 'x', workflowId: randomUUID(), args: ['a'] }).catch((e: unknown) => e);
    expect(startError).toBeInstanceOf(NamespaceNotFoundError);
    expect((startError as NamespaceNotFoundError).namespace).toBe('no-such-namespace');

    const signalError = await h.workflowService
      .signalWorkflowExecution({ namespace: 'nope', workflowExecution: { workflowId: 'w' }, signalName: 's' })
      .catch((e: unknown) => e);
    expect(grpcCode(signalError)).toBe(GrpcStatus.NOT_FOUND);
  });

  it('RegisterNamespace adds a namespace that ListNamespaces shows and workers can use; a duplicate is ALREADY_EXISTS', async () => {
    await h.workflowService.registerNamespace({
      namespace: 'team-a',
      description: 'a team of its own',
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    const again = await h.workflowService.registerNamespace({ namespace: 'team-a' }).catch((e: unknown) => e);
    expect(grpcCode(again)).toBe(GrpcStatus.ALREADY_EXISTS);
    const bad = await h.workflowService.registerNamespace({ namespace: 'bad name!' }).catch((e: unknown) => e);
    expect(grpcCode(bad)).toBe(GrpcStatus.INVALID_ARGUMENT);

    const listed = await h.workflowService.listNamespaces({});
    const names = (listed.namespaces ?? []).map((n) => n.namespaceInfo?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'team-a']));
    const teamA = (listed.namespaces ?? []).find((n) => n.namespaceInfo?.name === 'team-a');
    expect(teamA?.namespaceInfo?.description).toBe('a team of its own');

    // Paging.
    const page1 = await h.workflowService.listNamespaces({ pageSize: 1 });
    expect(page1.namespaces).toHaveLength(1);
    const page2 = await h.workflowService.listNamespaces({ pageSize: 1, nextPageToken: page1.nextPageToken });
    expect(page2.namespaces?.[0]?.namespaceInfo?.name).not.toBe(page1.namespaces?.[0]?.namespaceInfo?.name);

    const client = h.clientFor('team-a');
    const result = await h.withWorker({ namespace: 'team-a' }, (taskQueue) =>
      client.workflow.execute(wf.greet, { taskQueue, workflowId: 'in-team-a', args: ['team'] }),
    );
    expect(result).toBe('hello team');
    // The same workflow id in another namespace is another workflow, and visibility keeps namespaces apart.
    const other = await h.client.workflow.getHandle('in-team-a').describe().catch((e: unknown) => e);
    expect(other).toBeInstanceOf(Error);
    expect((await h.client.workflow.count(`WorkflowId = 'in-team-a'`)).count).toBe(0);
    expect((await client.workflow.count(`WorkflowId = 'in-team-a'`)).count).toBe(1);

    const updated = await h.workflowService.updateNamespace({ namespace: 'team-a', updateInfo: { description: 'renamed team' } });
    expect(updated.namespaceInfo?.description).toBe('renamed team');
    expect((await h.workflowService.describeNamespace({ namespace: 'team-a' })).namespaceInfo?.description).toBe('renamed team');
  });
});

describe('2. starting workflows', () => {
  it('request_id makes StartWorkflowExecution idempotent; another request for a running id is ALREADY_EXISTS', async () => {
    const request = {
      namespace: 'default',
      workflowId: 'idempotent',
      workflowType: { name: 'accumulator' },
      taskQueue: { name: h.taskQueue() },
      requestId: randomUUID(),
      identity: 'e2e',
    };
    const first = await h.workflowService.startWorkflowExecution(request);
    const second = await h.workflowService.startWorkflowExecution(request);
    expect(second.runId).toBe(first.runId);
    const conflict = await h.workflowService.startWorkflowExecution({ ...request, requestId: randomUUID() }).catch((e: unknown) => e);
    expect(grpcCode(conflict)).toBe(GrpcStatus.ALREADY_EXISTS);
    await h.client.workflow.getHandle('idempotent').terminate('done with it');
  });

  it('a duplicate start through the client is WorkflowExecutionAlreadyStartedError', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const handle = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'dup' });
      const error = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'dup' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      expect((error as WorkflowExecutionAlreadyStartedError).workflowId).toBe('dup');
      expect((error as WorkflowExecutionAlreadyStartedError).workflowType).toBe('accumulator');
      await handle.signal(wf.doneSignal);
      await handle.result();
    });
  });

  it('workflow id reuse policies decide whether a closed id may start again', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const opts = { taskQueue, args: ['x'] as [string] };
      await h.client.workflow.execute(wf.greet, { ...opts, workflowId: 'reuse-1' });
      // ALLOW_DUPLICATE (the default): a new run.
      const again = await h.client.workflow.start(wf.greet, { ...opts, workflowId: 'reuse-1' });
      await again.result();
      // REJECT_DUPLICATE: refused.
      const rejected = await h.client.workflow
        .start(wf.greet, { ...opts, workflowId: 'reuse-1', workflowIdReusePolicy: 'REJECT_DUPLICATE' })
        .catch((e: unknown) => e);
      expect(rejected).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      // ALLOW_DUPLICATE_FAILED_ONLY: refused after a completion, allowed after a failure.
      const failedOnly = await h.client.workflow
        .start(wf.greet, { ...opts, workflowId: 'reuse-1', workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' })
        .catch((e: unknown) => e);
      expect(failedOnly).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      await expect(h.client.workflow.execute(wf.failing, { taskQueue, workflowId: 'reuse-2', args: ['no'] })).rejects.toBeInstanceOf(WorkflowFailedError);
      const afterFailure = await h.client.workflow.start(wf.greet, {
        ...opts,
        workflowId: 'reuse-2',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
      expect(await afterFailure.result()).toBe('hello x');
      // TERMINATE_IF_RUNNING: the running one is terminated and a new run starts.
      const running = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'reuse-3' });
      const replacement = await h.client.workflow.start(wf.accumulator, {
        taskQueue,
        workflowId: 'reuse-3',
        workflowIdReusePolicy: 'TERMINATE_IF_RUNNING',
      });
      expect(replacement.firstExecutionRunId).not.toBe(running.firstExecutionRunId);
      expect((await h.client.workflow.getHandle('reuse-3', running.firstExecutionRunId).describe()).status.name).toBe('TERMINATED');
      await replacement.terminate();
    });
  });

  it('workflow id conflict policies: FAIL, USE_EXISTING, TERMINATE_EXISTING', async () => {
    const taskQueue = h.taskQueue();
    const first = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'conflict' });
    const fail = await h.client.workflow
      .start(wf.accumulator, { taskQueue, workflowId: 'conflict', workflowIdConflictPolicy: 'FAIL' })
      .catch((e: unknown) => e);
    expect(fail).toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    const existing = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'conflict', workflowIdConflictPolicy: 'USE_EXISTING' });
    expect(existing.firstExecutionRunId).toBe(first.firstExecutionRunId);
    const raw = await h.workflowService.startWorkflowExecution({
      namespace: 'default',
      workflowId: 'conflict',
      workflowType: { name: 'accumulator' },
      taskQueue: { name: taskQueue },
      requestId: randomUUID(),
      workflowIdConflictPolicy: 2, // USE_EXISTING
    });
    expect(raw.started).toBe(false);
    expect(raw.runId).toBe(first.firstExecutionRunId);
    const replaced = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'conflict', workflowIdConflictPolicy: 'TERMINATE_EXISTING' });
    expect(replaced.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
    expect((await h.client.workflow.getHandle('conflict', first.firstExecutionRunId).describe()).status.name).toBe('TERMINATED');
    await replaced.terminate();
  });

  it('memo and search attributes given at start are stored, described and visible', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const handle = await h.client.workflow.start(wf.accumulator, {
        taskQueue,
        workflowId: 'with-memo',
        memo: { owner: 'team-a', nested: { n: 1 } },
        typedSearchAttributes: [
          { key: KEYWORD, value: 'kw-value' },
          { key: INT, value: 7 },
        ],
      });
      const described: WorkflowExecutionDescription = await handle.describe();
      expect(described.memo).toEqual({ owner: 'team-a', nested: { n: 1 } });
      expect(described.typedSearchAttributes.get(KEYWORD)).toBe('kw-value');
      expect(described.typedSearchAttributes.get(INT)).toBe(7);
      const found = [];
      for await (const info of h.client.workflow.list({ query: `CustomKeywordField = 'kw-value'` })) found.push(info.workflowId);
      expect(found).toEqual(['with-memo']);
      await handle.signal(wf.doneSignal);
      await handle.result();
      const history = await handle.fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(Object.keys(started?.memo?.fields ?? {})).toEqual(['owner', 'nested']);
      expect(Object.keys(started?.searchAttributes?.indexedFields ?? {}).sort()).toEqual(['CustomIntField', 'CustomKeywordField']);
    });
  });

  it('an unregistered search attribute at start is INVALID_ARGUMENT naming it', async () => {
    const error = await h.client.workflow
      .start(wf.greet, {
        taskQueue: 'nobody',
        workflowId: 'bad-attrs',
        args: ['x'],
        typedSearchAttributes: [{ key: defineSearchAttributeKey('NotRegistered', SearchAttributeType.KEYWORD), value: 'v' }],
      })
      .catch((e: unknown) => e);
    const cause = (error as Error).cause as Error;
    expect(grpcCode(cause)).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(cause.message).toMatch(/search attribute NotRegistered is not registered/);
  });

  it('execution timeout: the workflow times out', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const started = Date.now();
      const handle = await h.client.workflow.start(wf.sleeper, { taskQueue, workflowId: 'exec-timeout', args: [60_000], workflowExecutionTimeout: '1s' });
      const error = await handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect((await handle.describe()).status.name).toBe('TIMED_OUT');
      expect(eventTypes(await handle.fetchHistory()).at(-1)).toBe('WORKFLOW_EXECUTION_TIMED_OUT');
    });
  });

  it('run timeout: the run times out, and with a retry policy the next run starts', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const handle = await h.client.workflow.start(wf.sleeper, { taskQueue, workflowId: 'run-timeout', args: [60_000], workflowRunTimeout: '1s' });
      const error = await handle.result().catch((e: unknown) => e);
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure);
      expect((await handle.describe()).status.name).toBe('TIMED_OUT');
      expect((await handle.describe()).raw.executionConfig?.workflowRunTimeout?.seconds?.toString()).toBe('1');

      // Run timeout with a retry policy: a second run, which also times out; maximumAttempts 2 ends the chain.
      const retried = await h.client.workflow.start(wf.sleeper, {
        taskQueue,
        workflowId: 'run-timeout-retried',
        args: [60_000],
        workflowRunTimeout: '700ms',
        retry: { maximumAttempts: 2, initialInterval: '100ms' },
      });
      await expect(retried.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      const runs = [];
      for await (const info of h.client.workflow.list({ query: `WorkflowId = 'run-timeout-retried'` })) runs.push(info.status.name);
      expect(runs).toEqual(['TIMED_OUT', 'TIMED_OUT']);
    });
  });

  it('task timeout is recorded and used for workflow tasks', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const handle = await h.client.workflow.start(wf.greet, { taskQueue, workflowId: 'task-timeout', args: ['t'], workflowTaskTimeout: '3s' });
      await handle.result();
      const described = await handle.describe();
      expect(described.raw.executionConfig?.defaultWorkflowTaskTimeout?.seconds?.toString()).toBe('3');
      const scheduled = (await handle.fetchHistory()).events?.find((e) => e.workflowTaskScheduledEventAttributes);
      expect(scheduled?.workflowTaskScheduledEventAttributes?.startToCloseTimeout?.seconds?.toString()).toBe('3');
    });
  });

  it('a workflow retry policy runs the workflow again after a failure, and gives up after maximumAttempts', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const started = Date.now();
      const handle = await h.client.workflow.start(wf.retriedWorkflow, {
        taskQueue,
        workflowId: 'wf-retry',
        args: [3],
        retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumAttempts: 5 },
      });
      expect(await handle.result()).toBe(3);
      // Backoffs of 200 ms and 400 ms.
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
      const runs = [];
      for await (const info of h.client.workflow.list({ query: `WorkflowId = 'wf-retry' ORDER BY StartTime ASC` })) runs.push(info.status.name);
      expect(runs).toEqual(['FAILED', 'FAILED', 'COMPLETED']);
      const last = await h.client.workflow.getHandle('wf-retry').fetchHistory();
      const startedAttrs = last.events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(startedAttrs?.attempt).toBe(3);
      expect(startedAttrs?.firstExecutionRunId).toBe(handle.firstExecutionRunId);

      const exhausted = await h.client.workflow
        .execute(wf.retriedWorkflow, { taskQueue, workflowId: 'wf-retry-exhausted', args: [10], retry: { initialInterval: '50ms', maximumAttempts: 2 } })
        .catch((e: unknown) => e);
      expect(exhausted).toBeInstanceOf(WorkflowFailedError);
      expect((exhausted as WorkflowFailedError).cause).toBeInstanceOf(ApplicationFailure);
      expect(String((exhausted as WorkflowFailedError).retryState)).toMatch(/MAXIMUM_ATTEMPTS_REACHED/);
    });
  });

  it('start delay holds back the first workflow task', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const started = Date.now();
      const handle = await h.client.workflow.start(wf.greet, { taskQueue, workflowId: 'delayed', args: ['later'], startDelay: '1s' });
      const described = await handle.describe();
      expect(described.executionTime!.getTime() - described.startTime.getTime()).toBeGreaterThanOrEqual(990);
      expect(await handle.result()).toBe('hello later');
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      const history = await handle.fetchHistory();
      expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.firstWorkflowTaskBackoff?.seconds?.toString()).toBe('1');
    });
  });

  it('SignalWithStart starts a workflow with its signal, then signals the running one', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const handle = await h.client.workflow.signalWithStart(wf.accumulator, {
        taskQueue,
        workflowId: 'sws',
        signal: wf.addSignal,
        signalArgs: [2],
        memo: { via: 'signalWithStart' },
      });
      const second = await h.client.workflow.signalWithStart(wf.accumulator, { taskQueue, workflowId: 'sws', signal: wf.addSignal, signalArgs: [3] });
      expect(second.signaledRunId).toBe(handle.signaledRunId);
      await handle.signal(wf.doneSignal);
      expect(await handle.result()).toBe(5);
      expect((await handle.describe()).memo).toEqual({ via: 'signalWithStart' });
      const types = eventTypes(await handle.fetchHistory());
      expect(types.slice(0, 2)).toEqual(['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_EXECUTION_SIGNALED']);
    });
  });
});

describe('2. more starting rules', () => {
  it('a signal repeated with the same request id is delivered once', async () => {
    const handle = await h.client.workflow.start(wf.accumulator, { taskQueue: h.taskQueue(), workflowId: 'signal-dedup' });
    const request = {
      namespace: 'default',
      workflowExecution: { workflowId: 'signal-dedup' },
      signalName: 'add',
      requestId: randomUUID(),
      input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') }] },
    };
    await h.workflowService.signalWorkflowExecution(request);
    await h.workflowService.signalWorkflowExecution(request);
    const types = eventTypes(await handle.fetchHistory());
    expect(types.filter((t) => t === 'WORKFLOW_EXECUTION_SIGNALED')).toHaveLength(1);
    await handle.terminate();
  });

  it('SignalWithStart on a closed workflow id starts a new run', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const first = await h.client.workflow.signalWithStart(wf.accumulator, { taskQueue, workflowId: 'sws-closed', signal: wf.doneSignal, signalArgs: [] });
      expect(await first.result()).toBe(0);
      const second = await h.client.workflow.signalWithStart(wf.accumulator, { taskQueue, workflowId: 'sws-closed', signal: wf.addSignal, signalArgs: [8] });
      expect(second.signaledRunId).not.toBe(first.signaledRunId);
      await second.signal(wf.doneSignal);
      expect(await second.result()).toBe(8);
    });
  });

  it('a cron schedule together with a start delay is INVALID_ARGUMENT, naming both (cron workflows: cron.e2e.test.ts)', async () => {
    const error = await h.client.workflow
      .start(wf.greet, { taskQueue: 'x', workflowId: 'cron', args: ['c'], cronSchedule: '* * * * *', startDelay: '1s' })
      .catch((e: unknown) => e);
    const cause = (error as Error).cause as { code?: number; message: string };
    expect(cause.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(cause.message).toMatch(/cron_schedule and workflow_start_delay/);
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

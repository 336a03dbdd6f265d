/**
 * Issue item 11: what the devserver does not implement answers UNIMPLEMENTED naming the RPC; malformed requests are
 * INVALID_ARGUMENT; payloads and histories over the configured limits are errors naming the limit; and no request,
 * however broken, takes the server down.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Client, Connection, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { TerminatedFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../devserver/index.js';
import { eventTypes, eventually, useDevServer } from '../support/devserver-harness.js';
import * as wf from './fixtures/workflows.js';

const h = useDevServer();

const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
const OPERATOR_SERVICE = 'temporal.api.operatorservice.v1.OperatorService';
const reflection = createRequire(import.meta.url)('@temporalio/proto/protos/json-module.js') as {
  lookupService(name: string): { methods: Record<string, unknown> };
};
const methodsOf = (service: string): string[] => Object.keys(reflection.lookupService(service).methods);
const lowerFirst = (name: string): string => name[0].toLowerCase() + name.slice(1);

type RpcOutcome = { code: number; message: string };

async function outcome(p: Promise<unknown>): Promise<RpcOutcome> {
  try {
    await p;
    return { code: grpc.status.OK, message: '' };
  } catch (error) {
    const e = error as { code?: number; details?: string; message?: string };
    return { code: e.code ?? -1, message: e.details ?? e.message ?? String(error) };
  }
}

/** A raw gRPC client, for bytes no SDK would send. */
let raw: grpc.Client;
function rawCall(service: string, method: string, bytes: Buffer): Promise<RpcOutcome> {
  return new Promise((resolve) => {
    raw.makeUnaryRequest(
      `/${service}/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      new grpc.Metadata(),
      { deadline: Date.now() + 5000 },
      (error) => resolve(error ? { code: error.code, message: error.details } : { code: grpc.status.OK, message: '' }),
    );
  });
}

async function serverAlive(): Promise<void> {
  const info = await h.workflowService.getSystemInfo({});
  expect(info.serverVersion).toBeTruthy();
}

beforeAll(() => {
  raw = new grpc.Client(h.address, grpc.credentials.createInsecure());
});
afterAll(() => {
  raw?.close();
});

describe('11. unimplemented RPCs', () => {
  it('unimplemented RPCs answer UNIMPLEMENTED naming the RPC', async () => {
    const deleted = await outcome(h.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: 'w' } }));
    expect(deleted.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(deleted.message).toMatch(/DeleteWorkflowExecution/);
    const deleteNamespace = await outcome(h.connection.operatorService.deleteNamespace({ namespace: 'default' }));
    expect(deleteNamespace.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(deleteNamespace.message).toMatch(/DeleteNamespace/);
  });

  it('an update the workflow has no handler for is rejected by the workflow instead of hanging', async () => {
    await h.withWorker({}, async (taskQueue) => {
      const handle = await h.client.workflow.start(wf.accumulator, { taskQueue, workflowId: 'no-updates' });
      const error = await handle.executeUpdate('anything').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((error as Error).cause)).toMatch(/anything/);
      await handle.terminate();
    });
  });

  it('every RPC of both services answers with a status, never INTERNAL, and unimplemented ones name themselves', async () => {
    const unimplemented: string[] = [];
    const internal: string[] = [];
    for (const [service, stub] of [
      [WORKFLOW_SERVICE, h.workflowService],
      [OPERATOR_SERVICE, h.connection.operatorService],
    ] as const) {
      for (const method of methodsOf(service)) {
        const fn = (stub as unknown as Record<string, (req: unknown) => Promise<unknown>>)[lowerFirst(method)].bind(stub);
        for (const request of [{}, { namespace: 'default' }, { namespace: 'default', taskQueue: { name: '' }, execution: { workflowId: '' } }]) {
          const result = await outcome(h.connection.withDeadline(Date.now() + 3000, () => fn(request)));
          if (result.code === grpc.status.INTERNAL || result.code === grpc.status.UNKNOWN) internal.push(`${method}: ${result.message}`);
          if (result.code === grpc.status.UNIMPLEMENTED) {
            unimplemented.push(method);
            expect(result.message).toContain(method);
          }
        }
      }
    }
    expect(internal).toEqual([]);
    expect(unimplemented).toContain('DeleteWorkflowExecution');
    expect(unimplemented).not.toContain('UpdateWorkflowExecution');
    expect(unimplemented).not.toContain('StartWorkflowExecution');
    await serverAlive();
  }, 120_000);
});

describe('11. malformed requests', () => {
  it('missing required fields are INVALID_ARGUMENT', async () => {
    const noId = await outcome(h.workflowService.startWorkflowExecution({ namespace: 'default', workflowType: { name: 'greet' }, taskQueue: { name: 'q' } }));
    expect(noId.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noId.message).toMatch(/WorkflowId/);
    const noType = await outcome(h.workflowService.startWorkflowExecution({ namespace: 'default', workflowId: 'x', taskQueue: { name: 'q' } }));
    expect(noType.code).toBe(grpc.status.INVALID_ARGUMENT);
    const noSignal = await outcome(h.workflowService.signalWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: 'x' } }));
    expect(noSignal.code).toBe(grpc.status.INVALID_ARGUMENT);
    const badToken = await outcome(h.workflowService.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: Buffer.from('not a token') }));
    expect(badToken.code).toBe(grpc.status.INVALID_ARGUMENT);
    const staleToken = await outcome(
      h.workflowService.respondActivityTaskCompleted({ namespace: 'default', taskToken: Buffer.from(JSON.stringify({ k: 'act', r: 'x', e: 5, s: 1 })) }),
    );
    expect(staleToken.code).toBe(grpc.status.NOT_FOUND);
  });

  it('malformed page tokens are INVALID_ARGUMENT, not an empty page', async () => {
    const bad = Buffer.from('not-a-token');
    for (const call of [
      () => h.workflowService.listNamespaces({ nextPageToken: bad }),
      () => h.workflowService.listNamespaces({ nextPageToken: Buffer.from('-5') }),
      () => h.workflowService.listWorkflowExecutions({ namespace: 'default', nextPageToken: bad }),
      () => h.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'x' }, nextPageToken: bad }),
      () => h.workflowService.listSchedules({ namespace: 'default', nextPageToken: bad }),
    ]) {
      const result = await outcome(call());
      expect(result.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(result.message).toMatch(/next_page_token/);
    }
  });

  it('bytes that are not a protobuf message are INVALID_ARGUMENT for every RPC', async () => {
    const garbage = [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from([0x0a, 0xff, 0x01]), Buffer.from('GET / HTTP/1.1\r\n\r\n')];
    const wrong: string[] = [];
    for (const method of methodsOf(WORKFLOW_SERVICE)) {
      for (const bytes of garbage) {
        const result = await rawCall(WORKFLOW_SERVICE, method, bytes);
        if (result.code !== grpc.status.INVALID_ARGUMENT && result.code !== grpc.status.UNIMPLEMENTED) wrong.push(`${method}: ${result.code} ${result.message}`);
      }
    }
    expect(wrong).toEqual([]);
    const unknownMethod = await rawCall(WORKFLOW_SERVICE, 'NoSuchMethod', Buffer.alloc(0));
    expect(unknownMethod.code).toBe(grpc.status.UNIMPLEMENTED);
    await serverAlive();
  });

  it('garbage on the TCP port does not take the server down', async () => {
    const [host, port] = [h.address.split(':')[0], Number(h.address.split(':')[1])];
    for (const junk of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\xff\xff'), Buffer.alloc(4096, 0xab)]) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(port, host, () => socket.end(junk));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.setTimeout(500, () => socket.destroy());
      });
    }
    await serverAlive();
  });

  it('a command the server refuses fails the workflow task with the cause, and the workflow goes on', async () => {
    const taskQueue = h.taskQueue('raw');
    await h.client.workflow.start(wf.greet, { taskQueue, workflowId: 'bad-command', args: ['x'] });
    const task = await h.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'raw-worker' });
    expect(task.taskToken?.length).toBeGreaterThan(0);
    const refused = await outcome(
      h.workflowService.respondWorkflowTaskCompleted({
        namespace: 'default',
        taskToken: task.taskToken,
        identity: 'raw-worker',
        commands: [{ commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: '' } }],
      }),
    );
    expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(refused.message).toMatch(/TimerId/);
    // The real worker now finishes the workflow.
    const result = await h.withWorker({ taskQueue }, () => h.client.workflow.getHandle('bad-command').result());
    expect(result).toBe('hello x');
    const history = await h.client.workflow.getHandle('bad-command').fetchHistory();
    const failed = history.events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
    expect(failed?.cause).toBe(temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES);
  });
});

describe('11. limits', () => {
  let small: DevServer;
  let connection: Connection;
  let client: Client;
  let native: NativeConnection;

  beforeAll(async () => {
    await h.pg.ensureDatabase('limits');
    small = await startDevServer({ port: 0, databaseUrl: h.pg.urlFor('limits'), limits: { payloadBytes: 1024, historyBytes: 16 * 1024 } });
    connection = await Connection.connect({ address: small.address });
    client = new Client({ connection });
    native = await NativeConnection.connect({ address: small.address });
  });
  afterAll(async () => {
    await native?.close();
    await connection?.close();
    await small?.stop();
  });

  it('DescribeNamespace advertises the payload limit', async () => {
    const described = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(described.namespaceInfo?.limits?.blobSizeLimitError)).toBe(1024);
  });

  it('a payload over the limit is refused with an error naming the limit', async () => {
    const start = await client.workflow.start(wf.greet, { taskQueue: 'limits', workflowId: 'too-big', args: ['x'.repeat(4096)] }).catch((e: unknown) => e);
    expect(start).toBeInstanceOf(Error);
    const cause = ((start as Error).cause ?? start) as { code?: number; message: string };
    expect(cause.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(cause.message).toMatch(/payload size limit of 1024 bytes/);

    const handle = await client.workflow.start(wf.accumulator, { taskQueue: 'limits', workflowId: 'small-enough' });
    const signal = await handle.signal(wf.addSignal, Number('1'.repeat(10))).then(
      () => 'ok',
      (e: unknown) => e,
    );
    expect(signal).toBe('ok');
    const bigSignal = await outcome(
      connection.workflowService.signalWorkflowExecution({
        namespace: 'default',
        workflowExecution: { workflowId: 'small-enough' },
        signalName: 'add',
        input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify('y'.repeat(2000))) }] },
      }),
    );
    expect(bigSignal.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bigSignal.message).toMatch(/1024 bytes/);
    await handle.terminate();
  });

  it('the SDK worker honours the advertised limit: an oversize activity result fails the activity', async () => {
    const outcome = await h.withWorker({ connection: native }, (taskQueue) =>
      client.workflow.execute(wf.runActivity, {
        taskQueue,
        workflowId: 'big-activity-result',
        args: ['blob', [4096], { startToCloseTimeout: '5s', retry: { maximumAttempts: 1 } }],
      }),
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.cause?.type).toBe('PayloadsTooLarge');
    expect(outcome.cause?.message).toMatch(/exceeded the error limit/);
  });

  it('a workflow task completion over the limit terminates the workflow instead of retrying forever', async () => {
    const taskQueue = h.taskQueue('raw-oversized');
    await connection.workflowService.startWorkflowExecution({
      namespace: 'default',
      workflowId: 'raw-oversized',
      workflowType: { name: 'rawWorkflow' },
      taskQueue: { name: taskQueue },
      requestId: 'raw-oversized-start',
    });
    const task = await connection.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, identity: 'raw-client' });
    expect(task.taskToken?.length).toBeGreaterThan(0);
    const result = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify('z'.repeat(4096))) };
    const answer = await outcome(
      connection.workflowService.respondWorkflowTaskCompleted({
        namespace: 'default',
        taskToken: task.taskToken,
        identity: 'raw-client',
        commands: [
          {
            commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
            completeWorkflowExecutionCommandAttributes: { result: { payloads: [result] } },
          },
        ],
      }),
    );
    expect(answer.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(answer.message).toMatch(/1024 bytes/);
    const described = await client.workflow.getHandle('raw-oversized').describe();
    expect(described.status.name).toBe('TERMINATED');
    const history = await client.workflow.getHandle('raw-oversized').fetchHistory();
    expect(history.events?.at(-1)?.workflowExecutionTerminatedEventAttributes?.reason).toMatch(/payload size limit of 1024 bytes/);
  });

  it('a history over the limit terminates the workflow with a reason naming the limit', async () => {
    const taskQueue = h.taskQueue('history-limit');
    const result = await h.withWorker({ connection: native, taskQueue }, async () => {
      const handle = await client.workflow.start(wf.loops, { taskQueue, workflowId: 'long-history', args: [200, 600] });
      return await handle.result().catch((e: unknown) => e);
    });
    expect(result).toBeInstanceOf(WorkflowFailedError);
    expect((result as WorkflowFailedError).cause).toBeInstanceOf(TerminatedFailure);
    const history = await client.workflow.getHandle('long-history').fetchHistory();
    const last = history.events?.at(-1)?.workflowExecutionTerminatedEventAttributes;
    expect(last?.reason).toMatch(/history size exceeds .*limit of 16384 bytes/);
    expect(eventTypes(history).filter((t) => t === 'ACTIVITY_TASK_COMPLETED').length).toBeLessThan(200);
    // The other devserver is unaffected, and its own histories replay too.
    await eventually(async () => (await client.workflow.count(`ExecutionStatus = 'Running'`)).count === 0, 5000, 'nothing running');
    await h.expectHistoriesReplay(client);
  });
});

describe('replay', () => {
  it('every history of this file replays cleanly', async () => {
    await h.expectHistoriesReplay();
    h.expectNoInternalErrors();
  });
});

/**
 * ScheduleService against an in-memory ScheduleHost (a test double of the engine, not of the
 * code under test). Time is driven by the test: the service runs with `{ timers: false }`,
 * reads the clock from `host.now()`, and `service.runDue()` takes whatever is due; one test
 * at the end uses real timers with a 1 s interval.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { temporal } from '@temporalio/proto';
import { decodeScheduleSpec } from '@temporalio/client/lib/schedule-helpers.js';
import { RpcError, alreadyStarted, invalid, namespaceNotFound } from '../../devserver/errors.js';
import { api, durMs, toNum, tsMs } from '../../devserver/proto.js';
import { ScheduleService, type CloseOutcome, type ScheduleHost, type StartWorkflowRequest } from '../../devserver/schedules/service.js';

const WS = api.workflowservice.v1;
const Overlap = api.enums.v1.ScheduleOverlapPolicy;
const Status = api.enums.v1.WorkflowExecutionStatus;
const T0 = Date.parse('2024-01-01T00:00:00Z');
const MIN = 60_000;

interface Run {
  namespace: string;
  workflowId: string;
  runId: string;
  request: StartWorkflowRequest;
  status: number;
  watchers: ((status: number, closeTimeMs: number, outcome?: CloseOutcome) => void)[];
  cancelRequested: boolean;
}

class MemoryHost implements ScheduleHost {
  time = T0;
  namespaces = new Set(['default']);
  knownSearchAttributes = new Set(['CustomKeyword', 'CustomInt']);
  runs: Run[] = [];
  saved = new Map<string, string>();
  saves = 0;
  terminated: string[] = [];
  /** make the next N startWorkflow calls fail with UNAVAILABLE */
  failStarts = 0;
  private nextRun = 1;

  now(): number {
    return this.time;
  }
  assertNamespace(namespace: string): void {
    if (!this.namespaces.has(namespace)) throw namespaceNotFound(namespace);
  }
  async startWorkflow(namespace: string, request: StartWorkflowRequest): Promise<{ runId: string }> {
    if (this.failStarts > 0) {
      this.failStarts--;
      throw new RpcError(GrpcStatus.UNAVAILABLE, 'engine busy');
    }
    const sameRequest = this.runs.find((r) => r.request.requestId === request.requestId && r.status === Status.WORKFLOW_EXECUTION_STATUS_RUNNING);
    if (sameRequest) return { runId: sameRequest.runId };
    const running = this.runs.find(
      (r) => r.namespace === namespace && r.workflowId === request.workflowId && r.status === Status.WORKFLOW_EXECUTION_STATUS_RUNNING,
    );
    if (running) throw alreadyStarted(running.workflowId, running.runId, request.requestId ?? '');
    const run: Run = {
      namespace,
      workflowId: request.workflowId!,
      runId: `run-${this.nextRun++}`,
      request,
      status: Status.WORKFLOW_EXECUTION_STATUS_RUNNING,
      watchers: [],
      cancelRequested: false,
    };
    this.runs.push(run);
    return { runId: run.runId };
  }
  watchClose(_ns: string, _wf: string, runId: string, onClose: (status: number, closeTimeMs: number, outcome?: CloseOutcome) => void): void {
    const run = this.runs.find((r) => r.runId === runId);
    if (!run) throw new Error(`unknown run ${runId}`);
    if (run.status !== Status.WORKFLOW_EXECUTION_STATUS_RUNNING) onClose(run.status, this.time);
    else run.watchers.push(onClose);
  }
  async terminate(_ns: string, workflowId: string, runId: string): Promise<void> {
    this.terminated.push(workflowId);
    this.close(runId, Status.WORKFLOW_EXECUTION_STATUS_TERMINATED);
  }
  async requestCancel(_ns: string, _wf: string, runId: string): Promise<void> {
    this.runs.find((r) => r.runId === runId)!.cancelRequested = true;
  }
  async saveSchedule(namespace: string, scheduleId: string, state: string | null): Promise<void> {
    this.saves++;
    if (state === null) this.saved.delete(`${namespace}/${scheduleId}`);
    else this.saved.set(`${namespace}/${scheduleId}`, state);
  }
  validateSearchAttributes(_ns: string, attributes: temporal.api.common.v1.SearchAttributes.$Properties | null | undefined): void {
    for (const name of Object.keys(attributes?.indexedFields ?? {})) {
      if (!this.knownSearchAttributes.has(name)) throw invalid(`search attribute ${name} is not defined`);
    }
  }

  close(runIdOrWorkflowId: string, status: number = Status.WORKFLOW_EXECUTION_STATUS_COMPLETED, outcome?: CloseOutcome): void {
    const run = this.runs.find((r) => r.runId === runIdOrWorkflowId || r.workflowId === runIdOrWorkflowId);
    if (!run) throw new Error(`unknown run ${runIdOrWorkflowId}`);
    if (run.status !== Status.WORKFLOW_EXECUTION_STATUS_RUNNING) return;
    run.status = status;
    for (const w of run.watchers.splice(0)) w(status, this.time, outcome);
  }
  running(): Run[] {
    return this.runs.filter((r) => r.status === Status.WORKFLOW_EXECUTION_STATUS_RUNNING);
  }
  ids(): string[] {
    return this.runs.map((r) => r.workflowId);
  }
  rows(): { namespace: string; scheduleId: string; state: string }[] {
    return [...this.saved].map(([k, state]) => {
      const [namespace, scheduleId] = k.split('/') as [string, string];
      return { namespace, scheduleId, state };
    });
  }
}

const services: ScheduleService[] = [];
function setup(opts: { timers?: boolean } = {}): { host: MemoryHost; svc: ScheduleService; logs: string[] } {
  const host = new MemoryHost();
  const logs: string[] = [];
  const svc = new ScheduleService(host, (l) => logs.push(l), { timers: opts.timers ?? false });
  services.push(svc);
  return { host, svc, logs };
}
afterEach(() => {
  for (const s of services.splice(0)) s.stop();
});

/** Plain-object input in protobufjs `fromObject` form (int64 fields as numbers). */
type Obj = Record<string, unknown>;
type ScheduleMsg = temporal.api.schedule.v1.Schedule;

function schedule(spec: Obj, extra: Obj = {}): ScheduleMsg {
  return api.schedule.v1.Schedule.fromObject({
    spec,
    action: {
      startWorkflow: {
        workflowId: 'wf',
        workflowType: { name: 'MyWorkflow' },
        taskQueue: { name: 'main' },
        input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"hello"') }] },
        memo: { fields: { owner: { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"team-a"') } } },
        searchAttributes: {
          indexedFields: {
            CustomKeyword: { metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from('Keyword') }, data: Buffer.from('"x"') },
          },
        },
      },
    },
    ...extra,
  });
}

const everyMinute: Obj = { interval: [{ interval: { seconds: 60 } }] };

function createReq(id: string, sched: ScheduleMsg, extra: Obj = {}) {
  return WS.CreateScheduleRequest.fromObject({ namespace: 'default', scheduleId: id, requestId: `req-${id}`, schedule: sched, ...extra });
}

/** Sends a response through its wire type, like the RPC layer does. */
async function describe_(svc: ScheduleService, id: string) {
  const res = await svc.describeSchedule(WS.DescribeScheduleRequest.fromObject({ namespace: 'default', scheduleId: id }));
  const Type = WS.DescribeScheduleResponse;
  const decoded: temporal.api.workflowservice.v1.DescribeScheduleResponse = Type.decode(Type.encode(Type.fromObject(res)).finish());
  return decoded;
}

async function patch(svc: ScheduleService, id: string, p: Obj): Promise<void> {
  await svc.patchSchedule(WS.PatchScheduleRequest.fromObject({ namespace: 'default', scheduleId: id, patch: p }));
}

async function advance(host: MemoryHost, svc: ScheduleService, ms: number): Promise<void> {
  host.time += ms;
  await svc.runDue();
}

async function rpcError(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const payloadText = (p: temporal.api.common.v1.Payload.$Properties | undefined): string => Buffer.from(p!.data!).toString();
const metaType = (p: temporal.api.common.v1.Payload.$Properties | undefined): string => Buffer.from(p!.metadata!.type!).toString();

describe('create and describe', () => {
  it('round-trips, compiling cron strings into structured calendars', async () => {
    const { host, svc } = setup();
    const res = await svc.createSchedule(
      createReq(
        'sched-1',
        schedule({
          cronString: ['CRON_TZ=Europe/Berlin 30 12 * * MON-FRI # lunch'],
          calendar: [{ hour: '8', dayOfMonth: '1,15' }],
          interval: [{ interval: { seconds: 3600 }, phase: { seconds: 600 } }],
          jitter: { seconds: 5 },
        }),
        {
          memo: { fields: { note: { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"m"') } } },
          searchAttributes: { indexedFields: { CustomInt: { metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from('Int') }, data: Buffer.from('7') } } },
        },
      ),
    );
    expect(Buffer.from(res.conflictToken!).length).toBe(8);
    expect(host.saved.has('default/sched-1')).toBe(true);

    const d = await describe_(svc, 'sched-1');
    const spec = d.schedule!.spec!;
    expect(spec.cronString).toEqual([]);
    expect(spec.calendar).toEqual([]);
    expect(spec.timezoneName).toBe('Europe/Berlin');
    expect(spec.structuredCalendar).toHaveLength(2);
    // String calendar first, then the cron string (canonical order: structured, calendar, cron).
    const decoded = decodeScheduleSpec(spec);
    expect(decoded.calendars![1]).toMatchObject({
      second: [{ start: 0, end: 0, step: 1 }],
      minute: [{ start: 30, end: 30, step: 1 }],
      hour: [{ start: 12, end: 12, step: 1 }],
      dayOfMonth: [{ start: 1, end: 31, step: 1 }],
      month: [{ start: 'JANUARY', end: 'DECEMBER', step: 1 }],
      dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }],
      year: [],
      comment: 'lunch',
    });
    expect(decoded.calendars![0]).toMatchObject({
      hour: [{ start: 8, end: 8, step: 1 }],
      minute: [{ start: 0, end: 0, step: 1 }],
      dayOfMonth: [
        { start: 1, end: 1, step: 1 },
        { start: 15, end: 15, step: 1 },
      ],
    });
    expect(decoded.intervals).toEqual([{ every: 3_600_000, offset: 600_000 }]);
    expect(decoded.jitter).toBe(5000);
    expect(decoded.timezone).toBe('Europe/Berlin');

    // Defaults are filled in, the action comes back as given.
    expect(d.schedule!.policies!.overlapPolicy).toBe(Overlap.SCHEDULE_OVERLAP_POLICY_SKIP);
    expect(durMs(d.schedule!.policies!.catchupWindow)).toBe(365 * 24 * 3600 * 1000);
    expect(d.schedule!.action!.startWorkflow!.workflowType!.name).toBe('MyWorkflow');
    expect(d.schedule!.state!.paused).toBe(false);

    const info = d.info!;
    expect(tsMs(info.createTime)).toBe(T0);
    expect(info.updateTime).toBeNull();
    expect(toNum(info.actionCount)).toBe(0);
    expect(info.recentActions).toEqual([]);
    expect(info.runningWorkflows).toEqual([]);
    const future = info.futureActionTimes!.map((t) => tsMs(t)!);
    expect(future).toHaveLength(10);
    expect([...future].sort((a, b) => a - b)).toEqual(future);
    // The first hourly interval time is 00:10 UTC (+ up to 5 s jitter).
    expect(future[0]! - Date.parse('2024-01-01T00:10:00Z')).toBeGreaterThanOrEqual(0);
    expect(future[0]! - Date.parse('2024-01-01T00:10:00Z')).toBeLessThan(5000);

    expect(Buffer.from(d.memo!.fields!.note!.data!).toString()).toBe('"m"');
    expect(Buffer.from(d.searchAttributes!.indexedFields!.CustomInt!.data!).toString()).toBe('7');
    expect(Buffer.from(d.conflictToken)).toEqual(Buffer.from(res.conflictToken!));
  });

  it('rejects a duplicate id with ALREADY_EXISTS, but is idempotent for the same request id', async () => {
    const { svc } = setup();
    await svc.createSchedule(createReq('dup', schedule(everyMinute)));
    await expect(svc.createSchedule(createReq('dup', schedule(everyMinute)))).resolves.toBeDefined();
    const err = await rpcError(svc.createSchedule(createReq('dup', schedule(everyMinute), { requestId: 'other' })));
    expect(err.code).toBe(GrpcStatus.ALREADY_EXISTS);
    expect(err.details[0]!.typeName).toBe('temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure');
    const detail = api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure.decode(err.details[0]!.value);
    expect(detail.startRequestId).toBe('req-dup');
  });

  it('checks the namespace and the action', async () => {
    const { svc } = setup();
    const nsErr = await rpcError(svc.createSchedule(WS.CreateScheduleRequest.fromObject({ namespace: 'nope', scheduleId: 'x', schedule: schedule(everyMinute) })));
    expect(nsErr.code).toBe(GrpcStatus.NOT_FOUND);
    expect(nsErr.details[0]!.typeName).toBe('temporal.api.errordetails.v1.NamespaceNotFoundFailure');

    const noQueue = schedule(everyMinute);
    noQueue.action!.startWorkflow!.taskQueue = null;
    const e1 = await rpcError(svc.createSchedule(createReq('x', noQueue)));
    expect(e1.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(e1.message).toMatch(/task_queue/);

    const badSa = schedule(everyMinute);
    badSa.action!.startWorkflow!.searchAttributes = { indexedFields: { Nope: { data: Buffer.from('1') } } };
    const e2 = await rpcError(svc.createSchedule(createReq('x', badSa)));
    expect(e2.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(e2.message).toMatch(/Nope/);
    await expect(svc.describeSchedule({ namespace: 'default', scheduleId: 'x' })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });
});

describe('invalid specs', () => {
  const cases: [string, Obj, RegExp][] = [
    ['bad cron', { cronString: ['0 25 * * *'] }, /cron "0 25 \* \* \*".*hour 25/],
    ['wrong field count', { cronString: ['* * *'] }, /expected 5, 6 or 7 fields/],
    ['bad calendar string', { calendar: [{ dayOfWeek: 'FUNDAY' }] }, /calendar\[0\]\.dayOfWeek/],
    ['structured range out of bounds', { structuredCalendar: [{ hour: [{ start: 30 }], minute: [{ start: 0 }], second: [{ start: 0 }] }] }, /structured_calendar\[0\]\.hour/],
    ['zero interval', { interval: [{ interval: { seconds: 0 } }] }, /interval\[0\]/],
    ['unknown time zone', { cronString: ['0 0 * * *'], timezoneName: 'Mars/Olympus' }, /Mars\/Olympus/],
    ['end before start', { interval: [{ interval: { seconds: 60 } }], startTime: { seconds: 2000 }, endTime: { seconds: 1000 } }, /endTime/],
  ];
  for (const [name, spec, message] of cases) {
    it(name, async () => {
      const { svc, host } = setup();
      const err = await rpcError(svc.createSchedule(createReq('bad', schedule(spec))));
      expect(err.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      // The TS client turns this prefix into a TypeError.
      expect(err.message).toMatch(/^Invalid schedule spec: /);
      expect(err.message).toMatch(message);
      expect(host.saved.size).toBe(0);
    });
  }
});

describe('taking actions', () => {
  it('starts the workflow with a time-stamped id, memo and search attributes', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(createReq('s', schedule(everyMinute)));
    await advance(host, svc, 59_000);
    expect(host.runs).toHaveLength(0);
    await advance(host, svc, 1000);
    expect(host.ids()).toEqual(['wf-2024-01-01T00:01:00Z']);
    const req = host.runs[0]!.request;
    expect(req.workflowType!.name).toBe('MyWorkflow');
    expect(req.taskQueue!.name).toBe('main');
    expect(payloadText(req.input!.payloads![0])).toBe('"hello"');
    expect(payloadText(req.memo!.fields!.owner)).toBe('"team-a"');
    const sa = req.searchAttributes!.indexedFields!;
    expect(payloadText(sa.CustomKeyword)).toBe('"x"');
    expect(payloadText(sa.TemporalScheduledById)).toBe('"s"');
    expect(metaType(sa.TemporalScheduledById)).toBe('Keyword');
    expect(payloadText(sa.TemporalScheduledStartTime)).toBe('"2024-01-01T00:01:00Z"');
    expect(metaType(sa.TemporalScheduledStartTime)).toBe('Datetime');
    expect(req.requestId).toMatch(/^[0-9a-f-]{36}$/);

    let d = await describe_(svc, 's');
    expect(toNum(d.info!.actionCount)).toBe(1);
    expect(d.info!.runningWorkflows!.map((w) => w.workflowId)).toEqual(['wf-2024-01-01T00:01:00Z']);
    const ra = d.info!.recentActions![0]!;
    expect(tsMs(ra.scheduleTime)).toBe(T0 + MIN);
    expect(tsMs(ra.actualTime)).toBe(T0 + MIN);
    expect(ra.startWorkflowResult).toMatchObject({ workflowId: 'wf-2024-01-01T00:01:00Z', runId: 'run-1' });
    expect(ra.startWorkflowStatus).toBe(Status.WORKFLOW_EXECUTION_STATUS_RUNNING);
    expect(tsMs(d.info!.futureActionTimes![0])).toBe(T0 + 2 * MIN);

    host.close('run-1', Status.WORKFLOW_EXECUTION_STATUS_COMPLETED);
    await svc.idle();
    d = await describe_(svc, 's');
    expect(d.info!.runningWorkflows).toEqual([]);
    expect(d.info!.recentActions![0]!.startWorkflowStatus).toBe(Status.WORKFLOW_EXECUTION_STATUS_COMPLETED);
  });

  it('keeps the last 10 recent actions and passes the last completion result on', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(createReq('s', schedule(everyMinute)));
    for (let i = 0; i < 12; i++) {
      await advance(host, svc, MIN);
      host.close(host.running()[0]!.runId, Status.WORKFLOW_EXECUTION_STATUS_COMPLETED, {
        result: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(String(i)) }] },
      });
      await svc.idle();
    }
    const d = await describe_(svc, 's');
    expect(toNum(d.info!.actionCount)).toBe(12);
    expect(d.info!.recentActions).toHaveLength(10);
    expect(d.info!.recentActions![9]!.startWorkflowResult!.workflowId).toBe('wf-2024-01-01T00:12:00Z');
    expect(payloadText(host.runs[11]!.request.lastCompletionResult!.payloads![0])).toBe('10');
  });

  it('keeps the original workflow id when asked', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(createReq('s', schedule(everyMinute, { policies: { keepOriginalWorkflowId: true } })));
    await advance(host, svc, MIN);
    expect(host.ids()).toEqual(['wf']);
  });

  it('retries a start that failed with a transient error', async () => {
    const { host, svc, logs } = setup();
    await svc.createSchedule(createReq('s', schedule(everyMinute)));
    host.failStarts = 1;
    await advance(host, svc, MIN);
    expect(host.runs).toHaveLength(0);
    expect(toNum((await describe_(svc, 's')).info!.bufferSize)).toBe(1);
    expect(logs.some((l) => l.includes('will retry'))).toBe(true);
    await advance(host, svc, 1000);
    expect(host.ids()).toEqual(['wf-2024-01-01T00:01:00Z']);
    expect(toNum((await describe_(svc, 's')).info!.bufferSize)).toBe(0);
  });
});

describe('overlap policies', () => {
  async function run(policy: number) {
    const ctx = setup();
    await ctx.svc.createSchedule(createReq('s', schedule(everyMinute, { policies: { overlapPolicy: policy } })));
    await advance(ctx.host, ctx.svc, MIN); // first run starts and keeps running
    await advance(ctx.host, ctx.svc, MIN);
    await advance(ctx.host, ctx.svc, MIN);
    return ctx;
  }

  it('SKIP drops starts while one is running', async () => {
    const { host, svc } = await run(Overlap.SCHEDULE_OVERLAP_POLICY_SKIP);
    expect(host.ids()).toEqual(['wf-2024-01-01T00:01:00Z']);
    expect(toNum((await describe_(svc, 's')).info!.overlapSkipped)).toBe(2);
    host.close('run-1');
    await svc.idle();
    expect(host.runs).toHaveLength(1); // nothing was buffered
    await advance(host, svc, MIN);
    expect(host.ids()).toEqual(['wf-2024-01-01T00:01:00Z', 'wf-2024-01-01T00:04:00Z']);
  });

  it('BUFFER_ONE keeps one start for after the running one', async () => {
    const { host, svc } = await run(Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE);
    let d = await describe_(svc, 's');
    expect(toNum(d.info!.bufferSize)).toBe(1);
    expect(toNum(d.info!.overlapSkipped)).toBe(1);
    host.close('run-1');
    await svc.idle();
    expect(host.ids()).toEqual(['wf-2024-01-01T00:01:00Z', 'wf-2024-01-01T00:02:00Z']);
    d = await describe_(svc, 's');
    expect(toNum(d.info!.bufferSize)).toBe(0);
    // The buffered start records its scheduled time, and when it was actually taken.
    const last = d.info!.recentActions![1]!;
    expect(tsMs(last.scheduleTime)).toBe(T0 + 2 * MIN);
    expect(tsMs(last.actualTime)).toBe(T0 + 3 * MIN);
  });

  it('BUFFER_ALL runs every start, one after the other', async () => {
    const { host, svc } = await run(Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL);
    expect(toNum((await describe_(svc, 's')).info!.bufferSize)).toBe(2);
    host.close('run-1');
    await svc.idle();
    expect(host.running().map((r) => r.workflowId)).toEqual(['wf-2024-01-01T00:02:00Z']);
    host.close('wf-2024-01-01T00:02:00Z');
    await svc.idle();
    expect(host.running().map((r) => r.workflowId)).toEqual(['wf-2024-01-01T00:03:00Z']);
  });

  it('ALLOW_ALL starts overlapping runs', async () => {
    const { host, svc } = await run(Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
    expect(host.running()).toHaveLength(3);
    expect((await describe_(svc, 's')).info!.runningWorkflows).toHaveLength(3);
  });

  it('TERMINATE_OTHER terminates the running workflow and starts the new one', async () => {
    const { host, svc } = await run(Overlap.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER);
    expect(host.terminated).toEqual(['wf-2024-01-01T00:01:00Z', 'wf-2024-01-01T00:02:00Z']);
    expect(host.running().map((r) => r.workflowId)).toEqual(['wf-2024-01-01T00:03:00Z']);
    await svc.idle();
    const d = await describe_(svc, 's');
    expect(d.info!.recentActions!.map((a) => a.startWorkflowStatus)).toEqual([
      Status.WORKFLOW_EXECUTION_STATUS_TERMINATED,
      Status.WORKFLOW_EXECUTION_STATUS_TERMINATED,
      Status.WORKFLOW_EXECUTION_STATUS_RUNNING,
    ]);
  });

  it('CANCEL_OTHER requests cancellation and starts the newest once it closes', async () => {
    const { host, svc } = await run(Overlap.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER);
    expect(host.runs[0]!.cancelRequested).toBe(true);
    expect(host.runs).toHaveLength(1);
    host.close('run-1', Status.WORKFLOW_EXECUTION_STATUS_CANCELED);
    await svc.idle();
    expect(host.running().map((r) => r.workflowId)).toEqual(['wf-2024-01-01T00:03:00Z']);
    expect(toNum((await describe_(svc, 's')).info!.overlapSkipped)).toBe(1);
  });
});

describe('catch-up after a restart', () => {
  it('takes missed actions within the catch-up window once, and never repeats taken ones', async () => {
    const a = setup();
    await a.svc.createSchedule(
      createReq('s', schedule(everyMinute, { policies: { overlapPolicy: Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, catchupWindow: { seconds: 300 } } })),
    );
    await advance(a.host, a.svc, MIN);
    a.host.close('run-1');
    await a.svc.idle();
    a.svc.stop(); // "server down"

    // A new server process: same engine state and saved rows, clock 10 minutes later.
    const host = a.host;
    host.time = T0 + 10 * MIN;
    const svc = new ScheduleService(host, () => {}, { timers: false });
    services.push(svc);
    svc.load(host.rows());
    await svc.runDue();
    // 00:02..00:04 are older than 5 minutes: missed. 00:05..00:10 are taken, once each.
    expect(host.ids()).toEqual([
      'wf-2024-01-01T00:01:00Z',
      'wf-2024-01-01T00:05:00Z',
      'wf-2024-01-01T00:06:00Z',
      'wf-2024-01-01T00:07:00Z',
      'wf-2024-01-01T00:08:00Z',
      'wf-2024-01-01T00:09:00Z',
      'wf-2024-01-01T00:10:00Z',
    ]);
    const d = await describe_(svc, 's');
    expect(toNum(d.info!.missedCatchupWindow)).toBe(3);
    expect(toNum(d.info!.actionCount)).toBe(7);
    await svc.runDue();
    expect(host.runs).toHaveLength(7);

    // And once more: a restart right away takes nothing new but still tracks the running ones.
    svc.stop();
    const svc2 = new ScheduleService(host, () => {}, { timers: false });
    services.push(svc2);
    svc2.load(host.rows());
    await svc2.runDue();
    expect(host.runs).toHaveLength(7);
    host.close('wf-2024-01-01T00:05:00Z');
    await svc2.idle();
    expect((await describe_(svc2, 's')).info!.runningWorkflows).toHaveLength(5);
  });

  it('with SKIP only the oldest action inside the window runs', async () => {
    const a = setup();
    await a.svc.createSchedule(createReq('s', schedule(everyMinute, { policies: { catchupWindow: { seconds: 150 } } })));
    a.svc.stop();
    a.host.time = T0 + 10 * MIN;
    const svc = new ScheduleService(a.host, () => {}, { timers: false });
    services.push(svc);
    svc.load(a.host.rows());
    await svc.runDue();
    expect(a.host.ids()).toEqual(['wf-2024-01-01T00:08:00Z']);
    const d = await describe_(svc, 's');
    expect(toNum(d.info!.missedCatchupWindow)).toBe(7);
    expect(toNum(d.info!.overlapSkipped)).toBe(2);
  });

  it('re-attempts a start that was saved but not taken before the crash', async () => {
    const a = setup();
    await a.svc.createSchedule(createReq('s', schedule(everyMinute)));
    a.host.failStarts = 5; // the engine never accepts it before the "crash"
    await advance(a.host, a.svc, MIN);
    a.svc.stop();
    expect(a.host.runs).toHaveLength(0);
    a.host.failStarts = 0;
    a.host.time += 5000;
    const svc = new ScheduleService(a.host, () => {}, { timers: false });
    services.push(svc);
    svc.load(a.host.rows());
    await svc.runDue();
    expect(a.host.ids()).toEqual(['wf-2024-01-01T00:01:00Z']);
  });

  it('skips a row it cannot read', async () => {
    const logs: string[] = [];
    const svc = new ScheduleService(new MemoryHost(), (l) => logs.push(l), { timers: false });
    services.push(svc);
    svc.load([{ namespace: 'default', scheduleId: 'broken', state: '{"v":99}' }]);
    expect(logs[0]).toMatch(/broken.*cannot load/);
    await expect(svc.describeSchedule({ namespace: 'default', scheduleId: 'broken' })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });
});

describe('patch', () => {
  it('triggers immediately, with its own overlap policy, even when paused', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(createReq('s', schedule(everyMinute, { state: { paused: true, notes: 'off' } })));
    host.time += 1234;
    await patch(svc, 's', { triggerImmediately: {} });
    expect(host.ids()).toEqual(['wf-2024-01-01T00:00:01Z']);
    // SKIP (the schedule's default) drops a second trigger; ALLOW_ALL does not.
    host.time += 1000;
    await patch(svc, 's', { triggerImmediately: {} });
    expect(host.runs).toHaveLength(1);
    await patch(svc, 's', { triggerImmediately: { overlapPolicy: Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL } });
    expect(host.ids()).toEqual(['wf-2024-01-01T00:00:01Z', 'wf-2024-01-01T00:00:02Z']);
    const d = await describe_(svc, 's');
    expect(toNum(d.info!.actionCount)).toBe(2);
    expect(tsMs(d.info!.recentActions![0]!.actualTime)).toBe(T0 + 1234);
  });

  it('triggers immediately from the initial patch of CreateSchedule', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(
      createReq('s', schedule(everyMinute), { initialPatch: { triggerImmediately: { overlapPolicy: Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL } } }),
    );
    expect(host.ids()).toEqual(['wf-2024-01-01T00:00:00Z']);
  });

  it('pauses and unpauses with notes; paused time is neither taken nor missed', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(createReq('s', schedule(everyMinute)));
    const token0 = (await describe_(svc, 's')).conflictToken;
    await patch(svc, 's', { pause: 'maintenance' });
    let d = await describe_(svc, 's');
    expect(d.schedule!.state).toMatchObject({ paused: true, notes: 'maintenance' });
    expect(Buffer.from(d.conflictToken)).not.toEqual(Buffer.from(token0));
    await advance(host, svc, 5 * MIN);
    expect(host.runs).toHaveLength(0);
    await patch(svc, 's', { unpause: 'back' });
    d = await describe_(svc, 's');
    expect(d.schedule!.state).toMatchObject({ paused: false, notes: 'back' });
    expect(toNum(d.info!.missedCatchupWindow)).toBe(0);
    expect(host.runs).toHaveLength(0);
    await advance(host, svc, MIN);
    expect(host.ids()).toEqual(['wf-2024-01-01T00:06:00Z']);
    expect(tsMs(d.info!.updateTime)).toBe(T0 + 5 * MIN);
  });

  it('pauses on failure when asked', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(createReq('s', schedule(everyMinute, { policies: { pauseOnFailure: true, overlapPolicy: Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE } })));
    await advance(host, svc, MIN);
    await advance(host, svc, MIN); // buffered behind run-1
    host.close('run-1', Status.WORKFLOW_EXECUTION_STATUS_FAILED, { failure: { message: 'boom' } });
    await svc.idle();
    const d = await describe_(svc, 's');
    expect(d.schedule!.state!.paused).toBe(true);
    expect(d.schedule!.state!.notes).toMatch(/wf-2024-01-01T00:01:00Z failed/);
    expect(host.runs).toHaveLength(1); // the buffered scheduled start is dropped while paused
    await advance(host, svc, 3 * MIN);
    expect(host.runs).toHaveLength(1);
    // A manual trigger still works, and carries the failure.
    await patch(svc, 's', { triggerImmediately: {} });
    expect(host.runs).toHaveLength(2);
    expect(host.runs[1]!.request.continuedFailure!.message).toBe('boom');
  });

  it('backfills a time range', async () => {
    const { host, svc } = setup();
    host.time = T0 + 60 * MIN;
    await svc.createSchedule(createReq('s', schedule(everyMinute)));
    await patch(svc, 's', {
      backfillRequest: [
        { startTime: { seconds: T0 / 1000 }, endTime: { seconds: T0 / 1000 + 180 }, overlapPolicy: Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL },
      ],
    });
    // (start, end]: 00:01, 00:02, 00:03
    expect(host.ids()).toEqual(['wf-2024-01-01T00:01:00Z', 'wf-2024-01-01T00:02:00Z', 'wf-2024-01-01T00:03:00Z']);
    for (const r of host.running()) host.close(r.runId);
    await svc.idle();
    await patch(svc, 's', {
      backfillRequest: [{ startTime: { seconds: T0 / 1000 + 600 }, endTime: { seconds: T0 / 1000 + 720 }, overlapPolicy: Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL }],
    });
    expect(host.running().map((r) => r.workflowId)).toEqual(['wf-2024-01-01T00:11:00Z']);
    host.close('wf-2024-01-01T00:11:00Z');
    await svc.idle();
    expect(host.running().map((r) => r.workflowId)).toEqual(['wf-2024-01-01T00:12:00Z']);
    const bad = await rpcError(patch(svc, 's', { backfillRequest: [{ startTime: { seconds: 10 } }] }));
    expect(bad.code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });
});

describe('limited actions', () => {
  it('stops scheduled actions when remaining actions reach zero; triggers do not count', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(
      createReq('s', schedule(everyMinute, { policies: { overlapPolicy: Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL }, state: { limitedActions: true, remainingActions: 2 } })),
    );
    let d = await describe_(svc, 's');
    expect(d.info!.futureActionTimes).toHaveLength(2);
    await patch(svc, 's', { triggerImmediately: {} });
    await advance(host, svc, 5 * MIN);
    expect(host.ids()).toEqual(['wf-2024-01-01T00:00:00Z', 'wf-2024-01-01T00:01:00Z', 'wf-2024-01-01T00:02:00Z']);
    d = await describe_(svc, 's');
    expect(d.schedule!.state!.limitedActions).toBe(true);
    expect(toNum(d.schedule!.state!.remainingActions)).toBe(0);
    expect(d.info!.futureActionTimes).toEqual([]);
    expect(toNum(d.info!.missedCatchupWindow)).toBe(0);
  });
});

describe('update', () => {
  it('replaces the schedule, checking the conflict token when given', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(createReq('s', schedule(everyMinute)));
    const d0 = await describe_(svc, 's');
    host.time += 30_000;
    const next = schedule({ cronString: ['*/5 * * * *'] }, { policies: { overlapPolicy: Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL } });
    next.action!.startWorkflow!.workflowId = 'other';
    await svc.updateSchedule(WS.UpdateScheduleRequest.fromObject({ namespace: 'default', scheduleId: 's', schedule: next, conflictToken: d0.conflictToken }));
    const d1 = await describe_(svc, 's');
    expect(d1.schedule!.policies!.overlapPolicy).toBe(Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL);
    expect(d1.schedule!.spec!.interval).toEqual([]);
    expect(d1.schedule!.spec!.structuredCalendar![0]!.minute!.map((r) => ({ start: r.start, end: r.end, step: r.step }))).toEqual([
      { start: 0, end: 59, step: 5 },
    ]);
    expect(tsMs(d1.info!.updateTime)).toBe(T0 + 30_000);
    expect(tsMs(d1.info!.futureActionTimes![0])).toBe(T0 + 5 * MIN);

    const stale = await rpcError(
      svc.updateSchedule(WS.UpdateScheduleRequest.fromObject({ namespace: 'default', scheduleId: 's', schedule: next, conflictToken: d0.conflictToken })),
    );
    expect(stale.code).toBe(GrpcStatus.FAILED_PRECONDITION);

    await advance(host, svc, 5 * MIN);
    expect(host.ids()).toEqual(['other-2024-01-01T00:05:00Z']);
  });
});

describe('delete', () => {
  it('removes the schedule; its running workflows continue', async () => {
    const { host, svc } = setup();
    await svc.createSchedule(createReq('s', schedule(everyMinute)));
    await advance(host, svc, MIN);
    await svc.deleteSchedule(WS.DeleteScheduleRequest.fromObject({ namespace: 'default', scheduleId: 's' }));
    expect(host.saved.has('default/s')).toBe(false);
    expect(host.running()).toHaveLength(1);
    await expect(describe_(svc, 's')).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
    await expect(svc.deleteSchedule({ namespace: 'default', scheduleId: 's' })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
    const saves = host.saves;
    host.close('run-1');
    await advance(host, svc, 5 * MIN);
    expect(host.runs).toHaveLength(1);
    expect(host.saves).toBe(saves);
    // The id can be reused.
    await svc.createSchedule(createReq('s', schedule(everyMinute), { requestId: 'again' }));
  });
});

describe('list and matching times', () => {
  it('lists schedules with paging and a query', async () => {
    const { svc } = setup();
    for (const id of ['c', 'a', 'b']) {
      await svc.createSchedule(
        createReq(id, schedule({ cronString: ['0 * * * *'] }), {
          searchAttributes: { indexedFields: { CustomKeyword: { metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from('Keyword') }, data: Buffer.from(JSON.stringify(`k-${id}`)) } } },
        }),
      );
    }
    await patch(svc, 'b', { pause: 'p' });
    const Type = WS.ListSchedulesResponse;
    const page1 = Type.decode(Type.encode(Type.fromObject(await svc.listSchedules({ namespace: 'default', maximumPageSize: 2 }))).finish());
    expect(page1.schedules.map((s) => s.scheduleId)).toEqual(['a', 'b']);
    expect(page1.schedules[1]!.info).toMatchObject({ paused: true, notes: 'p', workflowType: { name: 'MyWorkflow' } });
    expect(page1.schedules[0]!.info!.futureActionTimes).toHaveLength(10);
    expect(page1.schedules[0]!.info!.spec!.structuredCalendar).toHaveLength(1);
    const page2 = await svc.listSchedules({ namespace: 'default', maximumPageSize: 2, nextPageToken: page1.nextPageToken });
    expect(page2.schedules!.map((s) => s.scheduleId)).toEqual(['c']);
    expect(page2.nextPageToken!.length).toBe(0);

    const paused = await svc.listSchedules({ namespace: 'default', query: 'TemporalSchedulePaused = true' });
    expect(paused.schedules!.map((s) => s.scheduleId)).toEqual(['b']);
    const byAttr = await svc.listSchedules({ namespace: 'default', query: "CustomKeyword IN ('k-a', 'k-c')" });
    expect(byAttr.schedules!.map((s) => s.scheduleId)).toEqual(['a', 'c']);
    expect(toNum((await svc.countSchedules({ namespace: 'default', query: "ScheduleId = 'c'" })).count)).toBe(1);
    const bad = await rpcError(svc.listSchedules({ namespace: 'default', query: 'Nope = ' }));
    expect(bad.code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it('lists matching times in a range', async () => {
    const { svc } = setup();
    await svc.createSchedule(createReq('s', schedule({ cronString: ['0 9 * * MON-FRI'], timezoneName: 'America/New_York' })));
    const res = await svc.listScheduleMatchingTimes(
      WS.ListScheduleMatchingTimesRequest.fromObject({
        namespace: 'default',
        scheduleId: 's',
        startTime: { seconds: Date.parse('2024-03-08T14:00:00Z') / 1000 },
        endTime: { seconds: Date.parse('2024-03-12T14:00:00Z') / 1000 },
      }),
    );
    // Friday 9:00 EST, then (after the DST change) Monday and Tuesday 9:00 EDT.
    expect(res.startTime!.map((t) => iso(tsMs(t)!))).toEqual(['2024-03-08T14:00:00Z', '2024-03-11T13:00:00Z', '2024-03-12T13:00:00Z']);
  });

  it('applies jitter to future action times, within the jitter', async () => {
    const { svc } = setup();
    await svc.createSchedule(createReq('s', schedule({ interval: [{ interval: { seconds: 60 } }], jitter: { seconds: 30 } })));
    const d = await describe_(svc, 's');
    const times = d.info!.futureActionTimes!.map((t) => tsMs(t)!);
    times.forEach((t, i) => {
      const nominal = T0 + (i + 1) * MIN;
      expect(t).toBeGreaterThanOrEqual(nominal);
      expect(t).toBeLessThan(nominal + 30_000);
    });
    expect(new Set(times.map((t, i) => t - (T0 + (i + 1) * MIN))).size).toBeGreaterThan(1);
  });
});

describe('real timers', () => {
  it('takes actions on its own with a 1 s interval', async () => {
    const host = new MemoryHost();
    host.now = () => Date.now();
    const svc = new ScheduleService(host, () => {});
    services.push(svc);
    await svc.createSchedule(createReq('s', schedule({ interval: [{ interval: { seconds: 1 } }] }, { policies: { overlapPolicy: Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL } })));
    const deadline = Date.now() + 5000;
    while (host.runs.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(host.runs.length).toBeGreaterThanOrEqual(2);
    for (const r of host.runs) expect(r.workflowId).toMatch(/^wf-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    svc.stop();
  });
});

describe('through @temporalio/client ScheduleClient', () => {
  /** A stand-in for the RPC layer: requests and responses go through their wire encoding. */
  function transport(svc: ScheduleService) {
    type Codec = { fromObject(o: object): object; encode(m: object): { finish(): Uint8Array }; decode(b: Uint8Array): object };
    const call =
      <Req, Res>(reqType: Codec, resType: Codec, fn: (req: Req) => Promise<object>) =>
      async (req: object): Promise<Res> => {
        const decoded = reqType.decode(reqType.encode(reqType.fromObject(req)).finish()) as Req;
        try {
          const res = await fn(decoded);
          return resType.decode(resType.encode(resType.fromObject(res)).finish()) as Res;
        } catch (e) {
          if (!(e instanceof RpcError)) throw e;
          const err = Object.assign(new Error(`${e.code} ${GrpcStatus[e.code]}: ${e.message}`), {
            code: e.code,
            details: e.message,
            metadata: e.metadata(),
          });
          throw err;
        }
      };
    return {
      createSchedule: call(WS.CreateScheduleRequest, WS.CreateScheduleResponse, (r: never) => svc.createSchedule(r)),
      describeSchedule: call(WS.DescribeScheduleRequest, WS.DescribeScheduleResponse, (r: never) => svc.describeSchedule(r)),
      updateSchedule: call(WS.UpdateScheduleRequest, WS.UpdateScheduleResponse, (r: never) => svc.updateSchedule(r)),
      patchSchedule: call(WS.PatchScheduleRequest, WS.PatchScheduleResponse, (r: never) => svc.patchSchedule(r)),
      deleteSchedule: call(WS.DeleteScheduleRequest, WS.DeleteScheduleResponse, (r: never) => svc.deleteSchedule(r)),
      listSchedules: call(WS.ListSchedulesRequest, WS.ListSchedulesResponse, (r: never) => svc.listSchedules(r)),
    };
  }

  it('creates, describes, updates, pauses, triggers, lists and deletes', async () => {
    const { ScheduleClient, ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } = await import('@temporalio/client');
    const { host, svc } = setup();
    host.knownSearchAttributes.add('CustomKeyword');
    const client = new ScheduleClient({ connection: { workflowService: transport(svc) } as never, namespace: 'default' });
    const handle = await client.create({
      scheduleId: 'client-1',
      spec: { cronExpressions: ['0 12 * * MON-FRI'], intervals: [{ every: '1h' }], jitter: '2s', calendars: [{ hour: 3, dayOfWeek: 'SUNDAY' }] },
      action: { type: 'startWorkflow', workflowType: 'MyWorkflow', taskQueue: 'main', args: [1, 'two'], memo: { m: 1 } },
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '1 minute' },
      state: { note: 'hi', remainingActions: 5 },
      memo: { owner: 'me' },
    });
    const d = await handle.describe();
    expect(d.spec.calendars).toHaveLength(2);
    expect(d.spec.calendars![1]).toMatchObject({ hour: [{ start: 12, end: 12, step: 1 }], dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }] });
    expect(d.spec.intervals).toEqual([{ every: 3_600_000, offset: 0 }]);
    expect(d.spec.jitter).toBe(2000);
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowId: 'client-1-workflow', workflowType: 'MyWorkflow', taskQueue: 'main', args: [1, 'two'], memo: { m: 1 } });
    expect(d.policies).toEqual({ overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: 60_000, pauseOnFailure: false });
    expect(d.state).toEqual({ paused: false, note: 'hi', remainingActions: 5 });
    expect(d.memo).toEqual({ owner: 'me' });
    expect(d.info.createdAt.getTime()).toBe(T0);
    expect(d.info.nextActionTimes).toHaveLength(5);

    await expect(
      client.create({ scheduleId: 'client-1', spec: { intervals: [{ every: '1h' }] }, action: { type: 'startWorkflow', workflowType: 'W', taskQueue: 'q' } }),
    ).rejects.toBeInstanceOf(ScheduleAlreadyRunning);
    await expect(
      client.create({ scheduleId: 'bad', spec: { cronExpressions: ['nope'] }, action: { type: 'startWorkflow', workflowType: 'W', taskQueue: 'q' } }),
    ).rejects.toThrow(TypeError);

    await handle.update((prev) => ({ ...prev, spec: { intervals: [{ every: '1 minute' }] }, state: { ...prev.state, remainingActions: undefined } }));
    await handle.pause('stop');
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: 'stop' });
    await handle.unpause();
    await handle.trigger();
    host.time += 60_000;
    await svc.runDue();
    const after = await handle.describe();
    expect(after.info.numActionsTaken).toBe(1);
    expect(after.info.recentActions[0]!.action.workflow.workflowId).toBe('client-1-workflow-2024-01-01T00:00:00Z');
    expect(after.info.runningActions).toHaveLength(1);
    expect(after.info.numActionsSkippedOverlap).toBe(0);
    expect(toNum(after.raw.info!.bufferSize)).toBe(1); // BUFFER_ONE: the 00:01 start waits

    const listed = [];
    for await (const s of client.list()) listed.push(s);
    expect(listed.map((s) => s.scheduleId)).toEqual(['client-1']);
    expect(listed[0]!.action).toEqual({ type: 'startWorkflow', workflowType: 'MyWorkflow' });

    await handle.delete();
    await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });
});

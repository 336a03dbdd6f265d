import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { notFound } from '../errors.js';
import { api, durMs, msDur, msTs, pack, unpack, type Failure, type HistoryEvent, type Payloads } from '../proto.js';
import { decodeToken, encodeToken, queueKey, type ActivityQueueItem, type Engine } from './engine.js';
import type { Execution } from './execution.js';
import { decideRetry, withActivityDefaults } from './retry.js';
import type { ActivityState } from './state.js';

type ScheduleAttrs = temporal.api.command.v1.ScheduleActivityTaskCommandAttributes.$Properties;

const ET = api.enums.v1.EventType;
const TT = api.enums.v1.TimeoutType;
const RS = api.enums.v1.RetryState;

/** Applies a ScheduleActivityTask command: fills Temporal's timeout rules and default retry policy. */
export function scheduleActivity(engine: Engine, ex: Execution, a: ScheduleAttrs, completedId: number): void {
  const runTimeout = ex.s.runTimeoutMs;
  let scheduleToClose = durMs(a.scheduleToCloseTimeout);
  let startToClose = durMs(a.startToCloseTimeout);
  let scheduleToStart = durMs(a.scheduleToStartTimeout);
  let heartbeat = durMs(a.heartbeatTimeout);
  if (scheduleToClose <= 0) scheduleToClose = runTimeout;
  if (runTimeout > 0) scheduleToClose = Math.min(scheduleToClose, runTimeout);
  if (scheduleToClose > 0) {
    if (startToClose <= 0) startToClose = scheduleToClose;
    startToClose = Math.min(startToClose, scheduleToClose);
    if (scheduleToStart <= 0 || scheduleToStart > scheduleToClose) scheduleToStart = scheduleToClose;
  }
  if (heartbeat > startToClose && startToClose > 0) heartbeat = startToClose;
  const retryPolicy = withActivityDefaults(a.retryPolicy);
  const taskQueue = a.taskQueue?.name || ex.s.taskQueue;
  const event = engine.append(ex, ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, {
    activityId: a.activityId,
    activityType: a.activityType,
    taskQueue: { name: taskQueue, kind: api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    header: a.header ?? undefined,
    input: a.input ?? undefined,
    scheduleToCloseTimeout: msDur(scheduleToClose),
    scheduleToStartTimeout: msDur(scheduleToStart),
    startToCloseTimeout: msDur(startToClose),
    heartbeatTimeout: msDur(heartbeat),
    workflowTaskCompletedEventId: completedId,
    retryPolicy,
    priority: a.priority ?? undefined,
  });
  const now = engine.now();
  const id = Number(event.eventId);
  const act: ActivityState = {
    scheduledEventId: id,
    activityId: a.activityId ?? '',
    attempt: 1,
    scheduledAt: now,
    attemptScheduledAt: now,
    state: 'scheduled',
    timeouts: { scheduleToClose, scheduleToStart, startToClose, heartbeat },
    stamp: ++ex.s.stampSeq,
  };
  ex.s.activities[String(id)] = act;
  armScheduled(engine, ex, act);
}

function scheduledEvent(ex: Execution, id: number): HistoryEvent | undefined {
  const events = ex.events ?? [];
  // Event ids are dense from 1, so the event sits at index id - 1.
  const event = events[id - 1];
  return event && Number(event.eventId) === id ? event : events.find((e) => Number(e.eventId) === id);
}

function taskQueueOf(ex: Execution, act: ActivityState): string {
  return scheduledEvent(ex, act.scheduledEventId)?.activityTaskScheduledEventAttributes?.taskQueue?.name ?? ex.s.taskQueue;
}

/** Deadlines of a scheduled (not started) attempt: dispatch after backoff, schedule-to-start, schedule-to-close. */
function armScheduled(engine: Engine, ex: Execution, act: ActivityState): void {
  const stamp = act.stamp;
  const id = act.scheduledEventId;
  const live = (): ActivityState | undefined => {
    const current = ex.s.activities[String(id)];
    return ex.open && current && current.stamp === stamp && current.state === 'scheduled' ? current : undefined;
  };
  const dispatch = (): void => {
    if (!live()) return;
    engine.activityQueues.push(queueKey(ex.s.namespace, taskQueueOf(ex, act)), { runKey: ex.key, scheduledEventId: id, stamp });
  };
  if (act.attemptScheduledAt > engine.now()) engine.timers.add(act.attemptScheduledAt, dispatch);
  else engine.afterCommit(dispatch);
  if (act.timeouts.scheduleToStart > 0) {
    engine.timers.add(act.attemptScheduledAt + act.timeouts.scheduleToStart, () => {
      const current = live();
      if (current) timeOut(engine, ex, current, TT.TIMEOUT_TYPE_SCHEDULE_TO_START);
    });
  }
  armScheduleToClose(engine, ex, act);
}

function armScheduleToClose(engine: Engine, ex: Execution, act: ActivityState): void {
  if (act.timeouts.scheduleToClose <= 0) return;
  const id = act.scheduledEventId;
  const scheduledAt = act.scheduledAt;
  engine.timers.add(scheduledAt + act.timeouts.scheduleToClose, () => {
    const current = ex.s.activities[String(id)];
    if (ex.open && current && current.scheduledAt === scheduledAt) timeOut(engine, ex, current, TT.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
  });
}

/** Deadlines of a started attempt: start-to-close and heartbeat. */
function armStarted(engine: Engine, ex: Execution, act: ActivityState): void {
  const stamp = act.stamp;
  const id = act.scheduledEventId;
  const live = (): ActivityState | undefined => {
    const current = ex.s.activities[String(id)];
    return ex.open && current && current.stamp === stamp && current.state === 'started' ? current : undefined;
  };
  if (act.timeouts.startToClose > 0) {
    engine.timers.add((act.startedAt ?? engine.now()) + act.timeouts.startToClose, () => {
      const current = live();
      if (current) timeOut(engine, ex, current, TT.TIMEOUT_TYPE_START_TO_CLOSE);
    });
  }
  armHeartbeat(engine, ex, act);
}

function armHeartbeat(engine: Engine, ex: Execution, act: ActivityState): void {
  if (act.timeouts.heartbeat <= 0) return;
  const id = act.scheduledEventId;
  const stamp = act.stamp;
  const from = act.heartbeatAt ?? act.startedAt ?? engine.now();
  engine.timers.add(from + act.timeouts.heartbeat, () => {
    const current = ex.s.activities[String(id)];
    if (!ex.open || !current || current.stamp !== stamp || current.state !== 'started') return;
    if ((current.heartbeatAt ?? current.startedAt ?? 0) !== from) return; // a newer heartbeat re-armed it
    timeOut(engine, ex, current, TT.TIMEOUT_TYPE_HEARTBEAT);
  });
}

/** After a restart: re-queue scheduled attempts and re-arm the deadlines of running ones. */
export function recoverActivity(engine: Engine, ex: Execution, scheduledEventId: number): void {
  const act = ex.s.activities[String(scheduledEventId)];
  if (!act) return;
  if (act.state === 'scheduled') armScheduled(engine, ex, act);
  else {
    armStarted(engine, ex, act);
    armScheduleToClose(engine, ex, act);
  }
}

export function usableActivityItem(engine: Engine, item: ActivityQueueItem): boolean {
  const ex = engine.runs.get(item.runKey);
  const act = ex?.s.activities[String(item.scheduledEventId)];
  return !!ex && ex.open && !!act && act.stamp === item.stamp && act.state === 'scheduled';
}

/** Marks an attempt started and builds the poll response. */
export async function startActivityTask(
  engine: Engine,
  item: ActivityQueueItem,
  identity: string,
): Promise<Record<string, unknown> | undefined> {
  if (!usableActivityItem(engine, item)) return undefined;
  const ex = engine.runs.get(item.runKey) as Execution;
  const act = ex.s.activities[String(item.scheduledEventId)];
  const now = engine.now();
  act.state = 'started';
  act.startedAt = now;
  act.identity = identity;
  act.requestId = randomUUID();
  act.heartbeatAt = undefined;
  act.stamp = ++ex.s.stampSeq;
  engine.touch(ex);
  armStarted(engine, ex, act);
  await engine.commit();
  const attrs = scheduledEvent(ex, act.scheduledEventId)?.activityTaskScheduledEventAttributes;
  return {
    taskToken: encodeToken({ k: 'act', r: ex.key, e: act.scheduledEventId, s: act.stamp }),
    workflowNamespace: ex.s.namespace,
    workflowType: { name: ex.s.workflowType },
    workflowExecution: { workflowId: ex.s.workflowId, runId: ex.s.runId },
    activityType: attrs?.activityType,
    activityId: act.activityId,
    header: attrs?.header ?? undefined,
    input: attrs?.input ?? undefined,
    heartbeatDetails: unpack(api.common.v1.Payloads, act.heartbeatDetails),
    scheduledTime: msTs(act.scheduledAt),
    currentAttemptScheduledTime: msTs(act.attemptScheduledAt),
    startedTime: msTs(now),
    attempt: act.attempt,
    scheduleToCloseTimeout: msDur(act.timeouts.scheduleToClose),
    startToCloseTimeout: msDur(act.timeouts.startToClose),
    heartbeatTimeout: msDur(act.timeouts.heartbeat),
    retryPolicy: attrs?.retryPolicy ?? undefined,
    priority: attrs?.priority ?? undefined,
  };
}

/** The running attempt a token (or workflow id + activity id) names; NOT_FOUND when it is gone. */
export function activityFor(
  engine: Engine,
  token: Uint8Array | null | undefined,
): { ex: Execution; act: ActivityState } {
  const t = decodeToken(token);
  if (t.k !== 'act') throw notFound('activity task not found: the token is not an activity token');
  const ex = engine.runs.get(t.r);
  const act = ex?.s.activities[String(t.e)];
  if (!ex || !ex.open || !act || act.stamp !== t.s || act.state !== 'started') {
    throw notFound('activity task not found (it completed, timed out, was cancelled, or its workflow closed)');
  }
  return { ex, act };
}

export function activityById(
  engine: Engine,
  namespace: string,
  workflowId: string,
  runId: string | null | undefined,
  activityId: string,
): { ex: Execution; act: ActivityState } {
  const ex = engine.find(namespace, workflowId, runId);
  const act = ex ? Object.values(ex.s.activities).find((a) => a.activityId === activityId) : undefined;
  if (!ex || !ex.open || !act || act.state !== 'started') throw notFound(`activity ${activityId} of workflow ${workflowId} is not running`);
  return { ex, act };
}

function startedEvent(engine: Engine, ex: Execution, act: ActivityState, lastFailure?: Failure | null): number {
  const event = engine.append(ex, ET.EVENT_TYPE_ACTIVITY_TASK_STARTED, {
    scheduledEventId: act.scheduledEventId,
    identity: act.identity ?? '',
    requestId: act.requestId ?? '',
    attempt: act.attempt,
    lastFailure: lastFailure ?? unpack(api.failure.v1.Failure, act.lastFailure),
  });
  return Number(event.eventId);
}

/**
 * Writes the final events of an activity (started + outcome) and wakes the workflow. While a workflow task is
 * running they are buffered together, as the started event must directly precede its outcome.
 */
function finish(engine: Engine, ex: Execution, act: ActivityState, outcome: (startedEventId: number) => [number, Record<string, unknown>]): void {
  delete ex.s.activities[String(act.scheduledEventId)];
  engine.touch(ex);
  if (ex.s.wt?.startedAt !== undefined) {
    // Started id is only known when the buffer is flushed; Temporal allows 0 for never-started attempts.
    const wasStarted = act.startedAt !== undefined;
    const [type, attrs] = outcome(0);
    if (wasStarted) {
      engine.deliver(ex, ET.EVENT_TYPE_ACTIVITY_TASK_STARTED, {
        scheduledEventId: act.scheduledEventId,
        identity: act.identity ?? '',
        requestId: act.requestId ?? '',
        attempt: act.attempt,
        lastFailure: unpack(api.failure.v1.Failure, act.lastFailure),
      });
    }
    // The started event's id is assigned when the buffer is flushed; -1 marks "the started event just before".
    engine.deliver(ex, type, { ...attrs, startedEventId: wasStarted ? -1 : 0 });
    return;
  }
  const startedId = act.startedAt !== undefined ? startedEvent(engine, ex, act) : 0;
  const [type, attrs] = outcome(startedId);
  engine.deliver(ex, type, attrs);
}

export function completeActivity(engine: Engine, ex: Execution, act: ActivityState, result: Payloads | null | undefined, identity: string): void {
  act.identity = identity || act.identity;
  finish(engine, ex, act, (startedEventId) => [
    ET.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    { result: result ?? undefined, scheduledEventId: act.scheduledEventId, startedEventId, identity },
  ]);
}

export function cancelActivity(engine: Engine, ex: Execution, act: ActivityState, details: Payloads | null | undefined, identity: string): void {
  finish(engine, ex, act, (startedEventId) => [
    ET.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    {
      details: details ?? undefined,
      latestCancelRequestedEventId: act.cancelRequestedEventId,
      scheduledEventId: act.scheduledEventId,
      startedEventId,
      identity,
    },
  ]);
}

/** A failed attempt: retried per the retry policy, or the activity fails for good. */
export function failActivity(
  engine: Engine,
  ex: Execution,
  act: ActivityState,
  failure: Failure | null | undefined,
  lastHeartbeatDetails: Payloads | null | undefined,
  identity: string,
): void {
  if (lastHeartbeatDetails) act.heartbeatDetails = pack(api.common.v1.Payloads, lastHeartbeatDetails);
  const policy = scheduledEvent(ex, act.scheduledEventId)?.activityTaskScheduledEventAttributes?.retryPolicy;
  const deadline = act.timeouts.scheduleToClose > 0 ? act.scheduledAt + act.timeouts.scheduleToClose : 0;
  const decision = act.cancelRequested
    ? { retry: false, delayMs: 0, state: RS.RETRY_STATE_CANCEL_REQUESTED }
    : decideRetry(policy, act.attempt, failure, engine.now(), deadline);
  if (decision.retry) {
    retry(engine, ex, act, failure, decision.delayMs);
    return;
  }
  act.identity = identity || act.identity;
  finish(engine, ex, act, (startedEventId) => [
    ET.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    { failure: failure ?? undefined, scheduledEventId: act.scheduledEventId, startedEventId, identity, retryState: decision.state },
  ]);
}

function retry(engine: Engine, ex: Execution, act: ActivityState, failure: Failure | null | undefined, delayMs: number): void {
  act.attempt += 1;
  act.state = 'scheduled';
  act.lastFailure = pack(api.failure.v1.Failure, failure ? api.failure.v1.Failure.fromObject(failure) : undefined);
  act.attemptScheduledAt = engine.now() + delayMs;
  act.startedAt = undefined;
  act.stamp = ++ex.s.stampSeq;
  engine.touch(ex);
  armScheduled(engine, ex, act);
}

function timeOut(engine: Engine, ex: Execution, act: ActivityState, timeoutType: number): void {
  const details = unpack(api.common.v1.Payloads, act.heartbeatDetails);
  const failure = api.failure.v1.Failure.fromObject({
    message: `activity ${TIMEOUT_NAMES[timeoutType] ?? 'unknown'} timeout`,
    source: 'lastmile-devserver',
    timeoutFailureInfo: { timeoutType, lastHeartbeatDetails: details },
  });
  const retryable = timeoutType === TT.TIMEOUT_TYPE_START_TO_CLOSE || timeoutType === TT.TIMEOUT_TYPE_HEARTBEAT;
  if (retryable && !act.cancelRequested) {
    const policy = scheduledEvent(ex, act.scheduledEventId)?.activityTaskScheduledEventAttributes?.retryPolicy;
    const deadline = act.timeouts.scheduleToClose > 0 ? act.scheduledAt + act.timeouts.scheduleToClose : 0;
    const decision = decideRetry(policy, act.attempt, failure, engine.now(), deadline);
    if (decision.retry) {
      retry(engine, ex, act, failure, decision.delayMs);
      engine.commitInBackground();
      return;
    }
    finishTimeout(engine, ex, act, failure, decision.state);
  } else {
    finishTimeout(engine, ex, act, failure, retryable ? RS.RETRY_STATE_CANCEL_REQUESTED : RS.RETRY_STATE_NON_RETRYABLE_FAILURE);
  }
  engine.commitInBackground();
}

function finishTimeout(engine: Engine, ex: Execution, act: ActivityState, failure: Failure, retryState: number): void {
  const lastFailure = unpack(api.failure.v1.Failure, act.lastFailure);
  if (lastFailure && !failure.cause) failure.cause = lastFailure;
  finish(engine, ex, act, (startedEventId) => [
    ET.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    { failure, scheduledEventId: act.scheduledEventId, startedEventId, retryState },
  ]);
}

export function heartbeat(engine: Engine, ex: Execution, act: ActivityState, details: Payloads | null | undefined): boolean {
  if (details) act.heartbeatDetails = pack(api.common.v1.Payloads, details);
  act.heartbeatAt = engine.now();
  engine.touch(ex);
  armHeartbeat(engine, ex, act);
  return act.cancelRequested === true;
}

/** RequestCancelActivityTask: a not-yet-started attempt is cancelled at once; a running one is told on its next heartbeat. */
export function requestCancelActivity(engine: Engine, ex: Execution, scheduledEventId: number, completedId: number, post: (() => void)[]): void {
  const event = engine.append(ex, ET.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, {
    scheduledEventId,
    workflowTaskCompletedEventId: completedId,
  });
  const act = ex.s.activities[String(scheduledEventId)];
  if (!act) return;
  act.cancelRequested = true;
  act.cancelRequestedEventId = Number(event.eventId);
  if (act.state === 'scheduled') {
    post.push(() => {
      if (!ex.s.activities[String(scheduledEventId)]) return;
      act.startedAt = undefined;
      cancelActivity(engine, ex, act, undefined, '');
    });
  }
}

/** The activity's state for DescribeWorkflowExecution. */
export function pendingActivityInfo(ex: Execution, act: ActivityState): Record<string, unknown> {
  const attrs = scheduledEvent(ex, act.scheduledEventId)?.activityTaskScheduledEventAttributes;
  const PAS = api.enums.v1.PendingActivityState;
  return {
    activityId: act.activityId,
    activityType: attrs?.activityType ?? undefined,
    state: act.cancelRequested
      ? PAS.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
      : act.state === 'started'
        ? PAS.PENDING_ACTIVITY_STATE_STARTED
        : PAS.PENDING_ACTIVITY_STATE_SCHEDULED,
    heartbeatDetails: unpack(api.common.v1.Payloads, act.heartbeatDetails),
    lastHeartbeatTime: act.heartbeatAt !== undefined ? msTs(act.heartbeatAt) : undefined,
    lastStartedTime: act.startedAt !== undefined ? msTs(act.startedAt) : undefined,
    attempt: act.attempt,
    maximumAttempts: attrs?.retryPolicy?.maximumAttempts ?? 0,
    scheduledTime: msTs(act.attemptScheduledAt),
    expirationTime: act.timeouts.scheduleToClose > 0 ? msTs(act.scheduledAt + act.timeouts.scheduleToClose) : undefined,
    lastFailure: unpack(api.failure.v1.Failure, act.lastFailure),
    lastWorkerIdentity: act.identity ?? '',
    currentRetryInterval: act.attemptScheduledAt > act.scheduledAt ? msDur(Math.max(0, act.attemptScheduledAt - (act.startedAt ?? act.scheduledAt))) : undefined,
    activityOptions: {
      taskQueue: attrs?.taskQueue ?? undefined,
      scheduleToCloseTimeout: msDur(act.timeouts.scheduleToClose),
      scheduleToStartTimeout: msDur(act.timeouts.scheduleToStart),
      startToCloseTimeout: msDur(act.timeouts.startToClose),
      heartbeatTimeout: msDur(act.timeouts.heartbeat),
      retryPolicy: attrs?.retryPolicy ?? undefined,
    },
  };
}

const TIMEOUT_NAMES: Record<number, string> = {
  [TT.TIMEOUT_TYPE_START_TO_CLOSE]: 'StartToClose',
  [TT.TIMEOUT_TYPE_SCHEDULE_TO_START]: 'ScheduleToStart',
  [TT.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE]: 'ScheduleToClose',
  [TT.TIMEOUT_TYPE_HEARTBEAT]: 'Heartbeat',
};

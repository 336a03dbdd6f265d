/**
 * ResetWorkflowExecution: a new run of the workflow whose history is a copy of a run's history up to a workflow task
 * (the task named by its WorkflowTaskCompleted / Failed / TimedOut event), then a WorkflowTaskFailed with cause
 * RESET_WORKFLOW (naming the base and the new run), the signals received after that point when the reapply type asks
 * for them, and a new workflow task. The run that was current is terminated. What was pending at the reset point
 * (activities, timers, accepted updates, a cancel request) is pending again in the new run.
 *
 * Not rebuilt: child workflows started before the reset point keep reporting to the old run; updates received after
 * the reset point are not reapplied.
 */
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { invalid } from '../errors.js';
import { api, durMs, type HistoryEvent } from '../proto.js';
import type { Engine } from './engine.js';
import { Execution, newState, runKey, workflowKey } from './execution.js';
import type { ExecutionState } from './state.js';

type ResetRequest = temporal.api.workflowservice.v1.ResetWorkflowExecutionRequest.$Properties;

const ET = api.enums.v1.EventType;
const RRT = api.enums.v1.ResetReapplyType;
const RRX = api.enums.v1.ResetReapplyExcludeType;
const HE = api.history.v1.HistoryEvent;

const FINISH_TYPES = new Set<number>([
  ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  ET.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  ET.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
]);

/** The id of the WorkflowTaskStarted event the reset goes back to, checked against the history. */
function resetPoint(events: HistoryEvent[], finishEventId: number, workflowId: string): { scheduledId: number; startedId: number } {
  const finish = events.find((e) => Number(e.eventId) === finishEventId);
  const type = Number(finish?.eventType ?? 0);
  if (!finish || !FINISH_TYPES.has(type)) {
    throw invalid(
      `workflow_task_finish_event_id ${finishEventId} of workflow ${workflowId} is not a WorkflowTaskCompleted, WorkflowTaskFailed or WorkflowTaskTimedOut event; pick one from the workflow's history.`,
    );
  }
  const attrs =
    finish.workflowTaskCompletedEventAttributes ?? finish.workflowTaskFailedEventAttributes ?? finish.workflowTaskTimedOutEventAttributes;
  return { scheduledId: Number(attrs?.scheduledEventId ?? 0), startedId: Number(attrs?.startedEventId ?? 0) };
}

/** Pending work at the end of `events`, rebuilt from the events themselves. */
function pendingAt(engine: Engine, s: ExecutionState, events: HistoryEvent[]): void {
  const now = engine.now();
  for (const e of events) {
    const id = Number(e.eventId);
    const time = durMs(e.eventTime);
    const a = e.activityTaskScheduledEventAttributes;
    if (a) {
      s.activities[String(id)] = {
        scheduledEventId: id,
        activityId: a.activityId ?? '',
        attempt: 1,
        scheduledAt: now,
        attemptScheduledAt: now,
        state: 'scheduled',
        timeouts: {
          scheduleToClose: durMs(a.scheduleToCloseTimeout),
          scheduleToStart: durMs(a.scheduleToStartTimeout),
          startToClose: durMs(a.startToCloseTimeout),
          heartbeat: durMs(a.heartbeatTimeout),
        },
        stamp: ++s.stampSeq,
      };
    }
    const outcome =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (outcome) delete s.activities[String(Number(outcome.scheduledEventId))];
    const cancel = e.activityTaskCancelRequestedEventAttributes;
    if (cancel) {
      const act = s.activities[String(Number(cancel.scheduledEventId))];
      if (act) {
        act.cancelRequested = true;
        act.cancelRequestedEventId = id;
      }
    }
    const timer = e.timerStartedEventAttributes;
    if (timer?.timerId) s.timers[timer.timerId] = { timerId: timer.timerId, startedEventId: id, fireAt: time + durMs(timer.startToFireTimeout) };
    const timerDone = e.timerFiredEventAttributes ?? e.timerCanceledEventAttributes;
    if (timerDone?.timerId) delete s.timers[timerDone.timerId];
    if (e.workflowExecutionCancelRequestedEventAttributes) s.cancelRequested = true;
    const wtc = e.workflowTaskCompletedEventAttributes;
    if (wtc) s.lastCompletedStartedEventId = Number(wtc.startedEventId);
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted?.protocolInstanceId) s.updates = { ...(s.updates ?? {}), [accepted.protocolInstanceId]: { acceptedEventId: id } };
    const completed = e.workflowExecutionUpdateCompletedEventAttributes;
    const updateId = completed?.meta?.updateId;
    if (updateId && s.updates?.[updateId]) s.updates[updateId].completedEventId = id;
  }
}

/** Signals to copy into the new run: those after the reset point, unless the reapply type or exclusions say no. */
function reapplied(req: ResetRequest, events: HistoryEvent[], startedId: number): HistoryEvent[] {
  const type = req.resetReapplyType || RRT.RESET_REAPPLY_TYPE_SIGNAL;
  if (type === RRT.RESET_REAPPLY_TYPE_NONE) return [];
  if ((req.resetReapplyExcludeTypes ?? []).includes(RRX.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL)) return [];
  return events.filter((e) => Number(e.eventId) > startedId && e.workflowExecutionSignaledEventAttributes);
}

/** Resets a run (see the file comment); returns the new run. */
export async function resetWorkflow(engine: Engine, req: ResetRequest): Promise<Execution> {
  const namespace = engine.namespace(req.namespace).name;
  const base = engine.get(namespace, req.workflowExecution);
  const requestId = req.requestId || randomUUID();
  const current = engine.current.get(workflowKey(namespace, base.s.workflowId));
  if (current && current.s.requestIds.includes(requestId)) return current;
  const events = await engine.history(base);
  const { scheduledId, startedId } = resetPoint(events, Number(req.workflowTaskFinishEventId ?? 0), base.s.workflowId);
  const kept = events.filter((e) => Number(e.eventId) <= startedId);
  const signals = reapplied(req, events, startedId);

  const now = engine.now();
  const old = base.s;
  const runId = randomUUID();
  const s = newState({
    namespace,
    workflowId: old.workflowId,
    runId,
    firstRunId: old.firstRunId,
    workflowType: old.workflowType,
    taskQueue: old.taskQueue,
    status: api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
    startTime: now,
    executionTime: now,
    requestIds: [requestId],
    memo: old.memo,
    searchAttributes: { ...old.searchAttributes },
    runTimeoutMs: old.runTimeoutMs,
    executionTimeoutMs: old.executionTimeoutMs,
    taskTimeoutMs: old.taskTimeoutMs,
    executionExpiresAt: old.executionExpiresAt,
    runExpiresAt: old.runTimeoutMs > 0 ? now + old.runTimeoutMs : 0,
    retryPolicy: old.retryPolicy,
    attempt: old.attempt,
    parent: old.parent,
    cronSchedule: old.cronSchedule,
  });
  pendingAt(engine, s, kept);
  const ex = new Execution(s, []);

  // The run that is current now ends; its parent, if any, follows the new run instead.
  if (current?.open) {
    current.s.nextRunId = runId;
    engine.terminate(current, `reset to event ${String(req.workflowTaskFinishEventId)}: ${req.reason ?? ''}`.trim(), undefined, req.identity ?? '');
  }
  engine.runs.set(ex.key, ex);
  engine.current.set(workflowKey(namespace, s.workflowId), ex);
  for (const event of kept) engine.place(ex, HE.decode(HE.encode(event).finish()));
  engine.append(ex, ET.EVENT_TYPE_WORKFLOW_TASK_FAILED, {
    scheduledEventId: scheduledId,
    startedEventId: startedId,
    cause: api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
    failure: { message: req.reason || 'reset', source: 'lastmile-devserver', resetWorkflowFailureInfo: {} },
    identity: req.identity ?? '',
    baseRunId: old.runId,
    newRunId: runId,
  });
  for (const signal of signals) {
    engine.append(ex, ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, signal.workflowExecutionSignaledEventAttributes as unknown as Record<string, unknown>);
  }
  if (old.parent) {
    const parent = engine.runs.get(runKey(old.parent.namespace, old.parent.runId));
    const child = parent?.s.children[String(old.parent.initiatedEventId)];
    if (parent && child) {
      child.runId = runId;
      engine.touch(parent);
    }
  }
  engine.armRunTimeouts(ex);
  for (const timer of Object.values(s.timers)) engine.armUserTimer(ex, timer.timerId, timer.startedEventId, Math.max(timer.fireAt, now));
  for (const act of Object.values(s.activities)) engine.activityHooks.recover(ex, act.scheduledEventId);
  engine.scheduleWorkflowTask(ex);
  engine.touch(ex);
  return ex;
}

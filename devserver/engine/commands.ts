import type { temporal } from '@temporalio/proto';
import { invalid, RpcError } from '../errors.js';
import { api, durMs, msDur, pack, unpack, type Failure, type Payload, type Payloads } from '../proto.js';
import { scheduleActivity, requestCancelActivity } from './activities.js';
import type { Engine } from './engine.js';
import type { Execution } from './execution.js';
import { cronContinuation } from './cron.js';
import { decideRetry } from './retry.js';
import { applyWorkerMessage, checkWorkerMessage, hasUndeliveredUpdates, readWorkerMessages, scheduleSpeculativeTask, type WorkerMessage } from './updates.js';

type Command = temporal.api.command.v1.Command.$Properties;
type CompleteRequest = temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest.$Properties;

const CT = api.enums.v1.CommandType;
const ET = api.enums.v1.EventType;
const ES = api.enums.v1.WorkflowExecutionStatus;
const WFC = api.enums.v1.WorkflowTaskFailedCause;

const CLOSING = new Set<number>([
  CT.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
  CT.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
  CT.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
  CT.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
]);

class BadCommand extends Error {
  constructor(
    readonly cause: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Applies a worker's RespondWorkflowTaskCompleted: validates every command first (so a bad one changes nothing), then
 * writes the completion and the commands' events, then delivers what arrived meanwhile.
 */
export function completeWorkflowTask(engine: Engine, ex: Execution, req: CompleteRequest): { resetHistoryEventId?: number } {
  const commands = req.commands ?? [];
  const wt = ex.s.wt as NonNullable<typeof ex.s.wt>;
  const taskStamp = wt.stamp;
  const closingIndex = commands.findIndex((c) => CLOSING.has(c.commandType ?? 0));
  let messages: Map<string, WorkerMessage>;
  try {
    messages = readMessages(req);
    validate(engine, ex, commands, messages);
  } catch (error) {
    if (!(error instanceof BadCommand)) throw error;
    engine.materializeTransient(ex);
    engine.failWorkflowTask(ex, 'failed', {
      cause: error.cause,
      failure: api.failure.v1.Failure.fromObject({ message: error.message, source: 'lastmile-devserver' }),
      identity: req.identity ?? '',
    });
    throw invalid(error.message);
  }
  if (closingIndex >= 0 && ex.s.buffered.length > 0) {
    // New events arrived while the worker decided to close the workflow: it must see them first.
    engine.materializeTransient(ex);
    engine.failWorkflowTask(ex, 'failed', { cause: WFC.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, identity: req.identity ?? '' });
    throw invalid('UnhandledCommand: new events arrived while the workflow task was running; retrying with them');
  }
  if (closingIndex >= 0 && hasUndeliveredUpdates(ex, taskStamp)) {
    // An update arrived while the worker decided to close the workflow: the workflow must see it first.
    engine.materializeTransient(ex);
    engine.failWorkflowTask(ex, 'failed', { cause: WFC.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_UPDATE, identity: req.identity ?? '' });
    throw invalid('UnhandledUpdate: an update arrived while the workflow task was running; retrying with it');
  }
  if (wt.speculative && commands.length === 0 && ex.s.buffered.length === 0 && [...messages.values()].every((m) => m.kind === 'rejection')) {
    return dropSpeculativeTask(engine, ex, req, messages);
  }
  engine.materializeTransient(ex);
  const completed = engine.append(ex, ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, {
    scheduledEventId: wt.scheduledEventId,
    startedEventId: wt.startedEventId,
    identity: req.identity ?? '',
    binaryChecksum: req.binaryChecksum ?? '',
    workerVersion: req.workerVersionStamp ?? undefined,
    sdkMetadata: req.sdkMetadata ?? undefined,
    meteringMetadata: req.meteringMetadata ?? undefined,
  });
  const completedId = Number(completed.eventId);
  ex.s.lastCompletedStartedEventId = wt.startedEventId ?? 0;
  ex.s.wt = undefined;
  const stickyName = req.stickyAttributes?.workerTaskQueue?.name;
  ex.s.sticky = stickyName ? { queue: stickyName, scheduleToStartMs: durMs(req.stickyAttributes?.scheduleToStartTimeout) } : undefined;
  engine.touch(ex);
  ex.completing = true;
  ex.needsTask = false;
  const post: (() => void)[] = [];
  const applied = new Set<string>();
  try {
    for (const command of commands) {
      if (!ex.open) break;
      if (command.commandType === CT.COMMAND_TYPE_PROTOCOL_MESSAGE) {
        const id = command.protocolMessageCommandAttributes?.messageId ?? '';
        const message = messages.get(id);
        if (message) applyWorkerMessage(engine, ex, message);
        applied.add(id);
        continue;
      }
      apply(engine, ex, command, completedId, req.identity ?? '', post);
    }
    // Messages without a command of their own (rejections always) apply after the commands.
    for (const message of messages.values()) if (!applied.has(message.id) && ex.open) applyWorkerMessage(engine, ex, message);
    for (const step of post) step();
  } finally {
    ex.completing = false;
  }
  if (!ex.open) return {};
  const flushed = engine.flushBuffered(ex);
  if (flushed > 0 || ex.needsTask || req.forceCreateNewWorkflowTask) engine.scheduleWorkflowTask(ex);
  else if (hasUndeliveredUpdates(ex, taskStamp)) scheduleSpeculativeTask(engine, ex);
  ex.needsTask = false;
  engine.afterCommit(() => engine.dispatchQueries(ex));
  return {};
}

function readMessages(req: CompleteRequest): Map<string, WorkerMessage> {
  try {
    return readWorkerMessages(req.messages);
  } catch (error) {
    throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, error instanceof Error ? error.message : String(error));
  }
}

/**
 * A speculative task (carrying updates only) answered with rejections only: nothing is written, the task is gone,
 * and the worker is told to forget its scheduled/started events (reset_history_event_id).
 */
function dropSpeculativeTask(engine: Engine, ex: Execution, req: CompleteRequest, messages: Map<string, WorkerMessage>): { resetHistoryEventId: number } {
  const taskStamp = ex.s.wt?.stamp ?? 0;
  ex.s.wt = undefined;
  const stickyName = req.stickyAttributes?.workerTaskQueue?.name;
  ex.s.sticky = stickyName ? { queue: stickyName, scheduleToStartMs: durMs(req.stickyAttributes?.scheduleToStartTimeout) } : undefined;
  engine.touch(ex);
  for (const message of messages.values()) applyWorkerMessage(engine, ex, message);
  if (hasUndeliveredUpdates(ex, taskStamp)) scheduleSpeculativeTask(engine, ex);
  engine.afterCommit(() => engine.dispatchQueries(ex));
  return { resetHistoryEventId: ex.s.lastCompletedStartedEventId };
}

function validate(engine: Engine, ex: Execution, commands: Command[], messages: Map<string, WorkerMessage>): void {
  const acceptedHere = new Set<string>();
  for (const message of messages.values()) {
    const problem = checkWorkerMessage(ex, message, acceptedHere);
    if (problem) throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, problem);
  }
  const timers = new Set(Object.keys(ex.s.timers));
  const activityIds = new Set(Object.values(ex.s.activities).map((a) => a.activityId));
  const scheduled = new Set(Object.keys(ex.s.activities).map(Number));
  const closing = commands.findIndex((c) => CLOSING.has(c.commandType ?? 0));
  if (closing >= 0 && closing !== commands.length - 1) {
    // Commands after a closing command would never run; Temporal rejects this.
    const extra = commands.slice(closing + 1).filter((c) => c.commandType !== CT.COMMAND_TYPE_RECORD_MARKER);
    if (extra.length > 0) throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, 'commands follow a command that closes the workflow');
  }
  for (const c of commands) {
    switch (c.commandType) {
      case CT.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: {
        const a = c.scheduleActivityTaskCommandAttributes;
        const cause = WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES;
        if (!a?.activityId) throw new BadCommand(cause, 'ActivityId is not set on ScheduleActivityTask');
        if (!a.activityType?.name) throw new BadCommand(cause, `ActivityType is not set for activity ${a.activityId}`);
        if (activityIds.has(a.activityId)) throw new BadCommand(cause, `activity id ${a.activityId} is already in use by a pending activity`);
        if (durMs(a.startToCloseTimeout) <= 0 && durMs(a.scheduleToCloseTimeout) <= 0) {
          throw new BadCommand(cause, `activity ${a.activityId}: set StartToCloseTimeout or ScheduleToCloseTimeout`);
        }
        activityIds.add(a.activityId);
        break;
      }
      case CT.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK: {
        const id = Number(c.requestCancelActivityTaskCommandAttributes?.scheduledEventId ?? 0);
        // Activities scheduled by this same batch have ids not known yet; unknown older ones are an error.
        if (id < ex.s.nextEventId && !scheduled.has(id)) {
          throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES, `no pending activity scheduled by event ${id}`);
        }
        break;
      }
      case CT.COMMAND_TYPE_START_TIMER: {
        const id = c.startTimerCommandAttributes?.timerId ?? '';
        const cause = WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES;
        if (!id) throw new BadCommand(cause, 'TimerId is not set on StartTimer');
        if (timers.has(id)) throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID, `timer id ${id} is already in use`);
        timers.add(id);
        break;
      }
      case CT.COMMAND_TYPE_CANCEL_TIMER: {
        const id = c.cancelTimerCommandAttributes?.timerId ?? '';
        if (!timers.has(id)) throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES, `no pending timer with id ${id}`);
        timers.delete(id);
        break;
      }
      case CT.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        try {
          engine.normalizeAttributes(ex.s.namespace, c.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes?.indexedFields as Record<string, Payload>);
        } catch (error) {
          throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, error instanceof Error ? error.message : String(error));
        }
        break;
      case CT.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION: {
        const a = c.startChildWorkflowExecutionCommandAttributes;
        const cause = WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES;
        if (!a?.workflowId) throw new BadCommand(cause, 'WorkflowId is not set on StartChildWorkflowExecution');
        if (!a.workflowType?.name) throw new BadCommand(cause, 'WorkflowType is not set on StartChildWorkflowExecution');
        if (a.namespace && !engine.namespaces.has(a.namespace)) throw new BadCommand(cause, `namespace ${a.namespace} is not found`);
        if (a.cronSchedule) throw new BadCommand(cause, 'cron_schedule on child workflows is not implemented by the lastmile devserver');
        try {
          engine.normalizeAttributes(a.namespace || ex.s.namespace, a.searchAttributes?.indexedFields as Record<string, Payload>);
        } catch (error) {
          throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, error instanceof Error ? error.message : String(error));
        }
        break;
      }
      case CT.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION: {
        const a = c.continueAsNewWorkflowExecutionCommandAttributes;
        if (a?.cronSchedule) {
          throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, 'cron_schedule is not implemented by the lastmile devserver');
        }
        try {
          engine.normalizeAttributes(ex.s.namespace, a?.searchAttributes?.indexedFields as Record<string, Payload>);
        } catch (error) {
          throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, error instanceof Error ? error.message : String(error));
        }
        break;
      }
      case CT.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
      case CT.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
      case CT.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:
      case CT.COMMAND_TYPE_RECORD_MARKER:
      case CT.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
      case CT.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
      case CT.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:
        break;
      case CT.COMMAND_TYPE_PROTOCOL_MESSAGE: {
        const id = c.protocolMessageCommandAttributes?.messageId ?? '';
        if (!messages.has(id)) {
          throw new BadCommand(WFC.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, `ProtocolMessage command names message ${id}, which the task completion does not carry`);
        }
        break;
      }
      default:
        throw new BadCommand(
          WFC.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
          `command ${CT[c.commandType ?? 0] ?? c.commandType} is not implemented by the lastmile devserver`,
        );
    }
  }
}

function apply(engine: Engine, ex: Execution, c: Command, completedId: number, identity: string, post: (() => void)[]): void {
  const s = ex.s;
  switch (c.commandType) {
    case CT.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
      scheduleActivity(engine, ex, c.scheduleActivityTaskCommandAttributes as NonNullable<Command['scheduleActivityTaskCommandAttributes']>, completedId);
      return;
    case CT.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:
      requestCancelActivity(engine, ex, Number(c.requestCancelActivityTaskCommandAttributes?.scheduledEventId ?? 0), completedId, post);
      return;
    case CT.COMMAND_TYPE_START_TIMER: {
      const a = c.startTimerCommandAttributes as NonNullable<Command['startTimerCommandAttributes']>;
      const event = engine.append(ex, ET.EVENT_TYPE_TIMER_STARTED, {
        timerId: a.timerId,
        startToFireTimeout: a.startToFireTimeout,
        workflowTaskCompletedEventId: completedId,
      });
      const fireAt = engine.now() + durMs(a.startToFireTimeout);
      const timerId = a.timerId ?? '';
      s.timers[timerId] = { timerId, startedEventId: Number(event.eventId), fireAt };
      engine.armUserTimer(ex, timerId, Number(event.eventId), fireAt);
      return;
    }
    case CT.COMMAND_TYPE_CANCEL_TIMER: {
      const id = c.cancelTimerCommandAttributes?.timerId ?? '';
      const timer = s.timers[id];
      delete s.timers[id];
      engine.append(ex, ET.EVENT_TYPE_TIMER_CANCELED, {
        timerId: id,
        startedEventId: timer?.startedEventId,
        workflowTaskCompletedEventId: completedId,
        identity,
      });
      return;
    }
    case CT.COMMAND_TYPE_RECORD_MARKER: {
      const a = c.recordMarkerCommandAttributes;
      engine.append(ex, ET.EVENT_TYPE_MARKER_RECORDED, {
        markerName: a?.markerName,
        details: a?.details,
        workflowTaskCompletedEventId: completedId,
        header: a?.header ?? undefined,
        failure: a?.failure ?? undefined,
      });
      return;
    }
    case CT.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
      const fields = c.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes?.indexedFields as Record<string, Payload>;
      const normalized = engine.normalizeAttributes(s.namespace, fields);
      for (const [name, payload] of normalized) {
        if (payload) s.searchAttributes[name] = pack(api.common.v1.Payload, payload) as string;
        else delete s.searchAttributes[name];
      }
      ex.visibilityCache = undefined;
      engine.append(ex, ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, {
        workflowTaskCompletedEventId: completedId,
        searchAttributes: { indexedFields: Object.fromEntries([...normalized].map(([n, p]) => [n, p ?? fields[n]])) },
      });
      return;
    }
    case CT.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES: {
      const upserted = c.modifyWorkflowPropertiesCommandAttributes?.upsertedMemo;
      const memo = unpack(api.common.v1.Memo, s.memo) ?? api.common.v1.Memo.create({ fields: {} });
      const fields: Record<string, Payload> = { ...(memo.fields as Record<string, Payload>) };
      for (const [name, payload] of Object.entries((upserted?.fields ?? {}) as Record<string, Payload>)) {
        if (!payload.data || payload.data.length === 0 || Buffer.from(payload.data).toString() === 'null') delete fields[name];
        else fields[name] = payload;
      }
      s.memo = Object.keys(fields).length > 0 ? pack(api.common.v1.Memo, api.common.v1.Memo.fromObject({ fields })) : undefined;
      engine.append(ex, ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED, {
        workflowTaskCompletedEventId: completedId,
        upsertedMemo: upserted ?? undefined,
      });
      return;
    }
    case CT.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION: {
      const result = (c.completeWorkflowExecutionCommandAttributes?.result ?? undefined) as Payloads | undefined;
      const cron = cronContinuation(engine, ex);
      engine.close(ex, ES.WORKFLOW_EXECUTION_STATUS_COMPLETED, ET.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, {
        result,
        workflowTaskCompletedEventId: completedId,
        newExecutionRunId: cron?.runId,
      });
      // A cron run that returns nothing still counts as a completion: the next run sees an empty result.
      cron?.start({ result: result ?? api.common.v1.Payloads.create({ payloads: [] }) });
      return;
    }
    case CT.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION: {
      const failure = (c.failWorkflowExecutionCommandAttributes?.failure ?? undefined) as Failure | undefined;
      const policy = unpack(api.common.v1.RetryPolicy, s.retryPolicy);
      const decision = decideRetry(policy, s.attempt, failure, engine.now(), s.executionExpiresAt);
      const next = decision.retry ? engine.prepareNextRun(ex) : undefined;
      // Retries come first; once the retry policy gives up, a cron workflow goes on at its next cron time.
      const cron = next ? undefined : cronContinuation(engine, ex);
      engine.close(ex, ES.WORKFLOW_EXECUTION_STATUS_FAILED, ET.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, {
        failure,
        retryState: decision.state,
        workflowTaskCompletedEventId: completedId,
        newExecutionRunId: next?.runId ?? cron?.runId,
      });
      cron?.start({ failure });
      next?.start({
        attempt: s.attempt + 1,
        delayMs: decision.delayMs,
        failure,
        initiator: api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY,
      });
      return;
    }
    case CT.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:
      engine.close(ex, ES.WORKFLOW_EXECUTION_STATUS_CANCELED, ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, {
        details: c.cancelWorkflowExecutionCommandAttributes?.details ?? undefined,
        workflowTaskCompletedEventId: completedId,
      });
      return;
    case CT.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
      continueAsNew(engine, ex, c.continueAsNewWorkflowExecutionCommandAttributes as NonNullable<Command['continueAsNewWorkflowExecutionCommandAttributes']>, completedId);
      return;
    case CT.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
      startChild(engine, ex, c.startChildWorkflowExecutionCommandAttributes as NonNullable<Command['startChildWorkflowExecutionCommandAttributes']>, completedId, post);
      return;
    case CT.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
      signalExternal(engine, ex, c.signalExternalWorkflowExecutionCommandAttributes as NonNullable<Command['signalExternalWorkflowExecutionCommandAttributes']>, completedId, post);
      return;
    case CT.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
      cancelExternal(engine, ex, c.requestCancelExternalWorkflowExecutionCommandAttributes as NonNullable<Command['requestCancelExternalWorkflowExecutionCommandAttributes']>, completedId, post);
      return;
    default:
      throw new RpcError(12, `command ${c.commandType} is not implemented by the lastmile devserver`);
  }
}

function continueAsNew(
  engine: Engine,
  ex: Execution,
  a: NonNullable<Command['continueAsNewWorkflowExecutionCommandAttributes']>,
  completedId: number,
): void {
  const s = ex.s;
  const next = engine.prepareNextRun(ex);
  const taskQueue = a.taskQueue?.name || s.taskQueue;
  const workflowType = a.workflowType?.name || s.workflowType;
  const runTimeoutMs = durMs(a.workflowRunTimeout) || s.runTimeoutMs;
  const taskTimeoutMs = durMs(a.workflowTaskTimeout) || s.taskTimeoutMs;
  engine.close(ex, ES.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, ET.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, {
    newExecutionRunId: next.runId,
    workflowType: { name: workflowType },
    taskQueue: { name: taskQueue, kind: api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    input: a.input ?? undefined,
    workflowRunTimeout: msDur(runTimeoutMs),
    workflowTaskTimeout: msDur(taskTimeoutMs),
    workflowTaskCompletedEventId: completedId,
    backoffStartInterval: a.backoffStartInterval ?? undefined,
    initiator: a.initiator,
    failure: a.failure ?? undefined,
    lastCompletionResult: a.lastCompletionResult ?? undefined,
    header: a.header ?? undefined,
    memo: a.memo ?? undefined,
    searchAttributes: a.searchAttributes ?? undefined,
  });
  const searchAttributes = a.searchAttributes?.indexedFields
    ? engine.normalizeAttributes(s.namespace, a.searchAttributes.indexedFields as Record<string, Payload>)
    : new Map<string, Payload | null>(Object.entries(engine.searchAttributePayloads(ex)));
  next.start({
    attempt: 1,
    delayMs: durMs(a.backoffStartInterval),
    initiator: a.initiator || api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
    failure: a.failure as Failure | null,
    lastCompletionResult: a.lastCompletionResult as Payloads | null,
    overrides: {
      workflowType,
      taskQueue,
      input: a.input as Payloads | null,
      header: a.header,
      memo: a.memo ?? unpack(api.common.v1.Memo, s.memo),
      searchAttributes,
      runTimeoutMs,
      taskTimeoutMs,
      retryPolicy: a.retryPolicy ?? unpack(api.common.v1.RetryPolicy, s.retryPolicy),
    },
  });
}

function startChild(
  engine: Engine,
  parent: Execution,
  a: NonNullable<Command['startChildWorkflowExecutionCommandAttributes']>,
  completedId: number,
  post: (() => void)[],
): void {
  const namespace = a.namespace || parent.s.namespace;
  const taskQueue = a.taskQueue?.name || parent.s.taskQueue;
  const initiated = engine.append(parent, ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, {
    namespace,
    workflowId: a.workflowId,
    workflowType: a.workflowType,
    taskQueue: { name: taskQueue, kind: api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    input: a.input ?? undefined,
    workflowExecutionTimeout: a.workflowExecutionTimeout ?? undefined,
    workflowRunTimeout: a.workflowRunTimeout ?? undefined,
    workflowTaskTimeout: a.workflowTaskTimeout ?? undefined,
    parentClosePolicy: a.parentClosePolicy,
    control: a.control,
    workflowTaskCompletedEventId: completedId,
    workflowIdReusePolicy: a.workflowIdReusePolicy,
    retryPolicy: a.retryPolicy ?? undefined,
    header: a.header ?? undefined,
    memo: a.memo ?? undefined,
    searchAttributes: a.searchAttributes ?? undefined,
  });
  const initiatedEventId = Number(initiated.eventId);
  const parentClosePolicy = a.parentClosePolicy || api.enums.v1.ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE;
  parent.s.children[String(initiatedEventId)] = {
    initiatedEventId,
    namespace,
    workflowId: a.workflowId ?? '',
    workflowType: a.workflowType?.name ?? '',
    parentClosePolicy,
  };
  post.push(() => {
    const common = { namespace, workflowId: a.workflowId, workflowType: a.workflowType, initiatedEventId, control: a.control };
    let child: Execution;
    try {
      child = engine.startWorkflow(
        {
          namespace,
          workflowId: a.workflowId,
          workflowType: a.workflowType,
          taskQueue: { name: taskQueue },
          input: a.input,
          workflowExecutionTimeout: a.workflowExecutionTimeout,
          workflowRunTimeout: a.workflowRunTimeout,
          workflowTaskTimeout: a.workflowTaskTimeout,
          identity: parent.s.workflowId,
          requestId: `${parent.s.runId}:${initiatedEventId}`,
          workflowIdReusePolicy: a.workflowIdReusePolicy,
          retryPolicy: a.retryPolicy,
          memo: a.memo,
          searchAttributes: a.searchAttributes,
          header: a.header,
        },
        { parent: { namespace: parent.s.namespace, workflowId: parent.s.workflowId, runId: parent.s.runId, initiatedEventId } },
      ).ex;
    } catch (error) {
      if (!(error instanceof RpcError) || error.code !== 6) throw error;
      delete parent.s.children[String(initiatedEventId)];
      engine.deliver(parent, ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED, {
        ...common,
        cause: api.enums.v1.StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS,
        workflowTaskCompletedEventId: completedId,
      });
      return;
    }
    const started = engine.append(parent, ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED, {
      namespace,
      initiatedEventId,
      workflowExecution: { workflowId: child.s.workflowId, runId: child.s.runId },
      workflowType: a.workflowType,
      header: a.header ?? undefined,
    });
    parent.needsTask = true;
    const record = parent.s.children[String(initiatedEventId)];
    record.runId = child.s.runId;
    record.startedEventId = Number(started.eventId);
  });
}

function signalExternal(
  engine: Engine,
  source: Execution,
  a: NonNullable<Command['signalExternalWorkflowExecutionCommandAttributes']>,
  completedId: number,
  post: (() => void)[],
): void {
  const namespace = a.namespace || source.s.namespace;
  const initiated = engine.append(source, ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, {
    namespace,
    workflowExecution: a.execution,
    signalName: a.signalName,
    input: a.input ?? undefined,
    control: a.control,
    childWorkflowOnly: a.childWorkflowOnly,
    header: a.header ?? undefined,
    workflowTaskCompletedEventId: completedId,
  });
  const initiatedEventId = Number(initiated.eventId);
  post.push(() => {
    const target = engine.find(namespace, a.execution?.workflowId ?? '', a.execution?.runId);
    if (!target || !target.open || (a.childWorkflowOnly && target.s.parent?.runId !== source.s.runId)) {
      engine.deliver(source, ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED, {
        cause: api.enums.v1.SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
        workflowTaskCompletedEventId: completedId,
        namespace,
        workflowExecution: a.execution,
        initiatedEventId,
        control: a.control,
      });
      return;
    }
    engine.signal(target, { name: a.signalName ?? '', input: a.input as Payloads | null, header: a.header, identity: source.s.workflowId });
    engine.deliver(source, ET.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED, {
      initiatedEventId,
      namespace,
      workflowExecution: { workflowId: target.s.workflowId, runId: target.s.runId },
      control: a.control,
    });
  });
}

function cancelExternal(
  engine: Engine,
  source: Execution,
  a: NonNullable<Command['requestCancelExternalWorkflowExecutionCommandAttributes']>,
  completedId: number,
  post: (() => void)[],
): void {
  const namespace = a.namespace || source.s.namespace;
  const initiated = engine.append(source, ET.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, {
    workflowTaskCompletedEventId: completedId,
    namespace,
    workflowExecution: { workflowId: a.workflowId, runId: a.runId },
    control: a.control,
    childWorkflowOnly: a.childWorkflowOnly,
    reason: a.reason,
  });
  const initiatedEventId = Number(initiated.eventId);
  post.push(() => {
    const target = engine.find(namespace, a.workflowId ?? '', a.runId);
    if (!target || !target.open) {
      engine.deliver(source, ET.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED, {
        cause: api.enums.v1.CancelExternalWorkflowExecutionFailedCause.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
        workflowTaskCompletedEventId: completedId,
        namespace,
        workflowExecution: { workflowId: a.workflowId, runId: a.runId },
        initiatedEventId,
        control: a.control,
      });
      return;
    }
    engine.requestCancel(target, {
      reason: a.reason ?? '',
      identity: source.s.workflowId,
      external: { initiatedEventId, workflowId: source.s.workflowId, runId: source.s.runId },
    });
    engine.deliver(source, ET.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED, {
      initiatedEventId,
      namespace,
      workflowExecution: { workflowId: target.s.workflowId, runId: target.s.runId },
    });
  });
}


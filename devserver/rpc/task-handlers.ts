import {
  activityById,
  activityFor,
  cancelActivity,
  completeActivity,
  failActivity,
  heartbeat,
  startActivityTask,
  usableActivityItem,
} from '../engine/activities.js';
import { completeWorkflowTask } from '../engine/commands.js';
import { queueKey, type Engine } from '../engine/engine.js';
import type { Poller, TaskQueues } from '../engine/task-queues.js';
import { invalid } from '../errors.js';
import { api, msTs, type Failure, type Payloads } from '../proto.js';
import { longPollWait, type CallContext } from './context.js';
import { h } from './namespace-handlers.js';
import type { AnyHandler } from './server.js';

const TQK = api.enums.v1.TaskQueueKind;

/**
 * A long poll: hands out the next usable task, or waits for one until shortly before the client's deadline, then
 * answers empty. Worker shutdown (ShutdownWorker) answers waiting polls empty at once.
 */
async function longPoll<T>(
  queues: TaskQueues<T>,
  key: string,
  usable: (item: T) => boolean,
  start: (item: T) => Promise<Record<string, unknown> | undefined>,
  ctx: CallContext,
  who: { workerInstanceKey?: string; identity?: string },
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + longPollWait(ctx, 60_000);
  queues.notePoller(key, who.identity ?? '', Date.now());
  for (;;) {
    const ready = queues.take(key, usable);
    if (ready !== undefined) {
      const response = await start(ready);
      if (response) return response;
      continue;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0 || ctx.isCancelled()) return {};
    const item = await new Promise<T | undefined>((resolve) => {
      let done = false;
      const finish = (value: T | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(value);
      };
      const poller: Poller<T> = {
        deliver: (task) => finish(task),
        isClosed: () => done || ctx.isCancelled(),
        end: () => finish(undefined),
        workerInstanceKey: who.workerInstanceKey,
        identity: who.identity,
      };
      const timer = setTimeout(() => {
        queues.removePoller(key, poller);
        finish(undefined);
      }, remaining);
      ctx.onCancel(() => {
        queues.removePoller(key, poller);
        finish(undefined);
      });
      queues.wait(key, poller);
    });
    if (item === undefined) return {};
    const response = await start(item);
    if (response) return response;
  }
}

export function taskHandlers(engine: Engine): Record<string, AnyHandler> {
  return {
    PollWorkflowTaskQueue: h<'PollWorkflowTaskQueueRequest'>(async (req, ctx) => {
      const namespace = engine.namespace(req.namespace).name;
      const name = req.taskQueue?.name;
      if (!name) throw invalid('TaskQueue is not set on request.');
      const identity = req.identity ?? '';
      return longPoll(
        engine.workflowQueues,
        queueKey(namespace, name),
        (item) => engine.usableWorkflowItem(item),
        (item) => (item.kind === 'query' ? engine.queryTaskResponse(item.id) : engine.startWorkflowTask(item, identity)),
        ctx,
        { workerInstanceKey: req.workerInstanceKey ?? undefined, identity },
      );
    }),

    RespondWorkflowTaskCompleted: h<'RespondWorkflowTaskCompletedRequest'>(async (req) => {
      const ex = engine.workflowTaskFor(req.taskToken);
      let result: { resetHistoryEventId?: number } = {};
      try {
        result = completeWorkflowTask(engine, ex, req);
      } finally {
        await engine.commit();
      }
      return result.resetHistoryEventId !== undefined ? { resetHistoryEventId: result.resetHistoryEventId } : {};
    }),

    RespondWorkflowTaskFailed: h<'RespondWorkflowTaskFailedRequest'>(async (req) => {
      const ex = engine.workflowTaskFor(req.taskToken);
      engine.failWorkflowTask(ex, 'failed', { cause: req.cause ?? 0, failure: req.failure as Failure | null, identity: req.identity ?? '' });
      await engine.commit();
      return {};
    }),

    PollActivityTaskQueue: h<'PollActivityTaskQueueRequest'>(async (req, ctx) => {
      const namespace = engine.namespace(req.namespace).name;
      const name = req.taskQueue?.name;
      if (!name) throw invalid('TaskQueue is not set on request.');
      const identity = req.identity ?? '';
      return longPoll(
        engine.activityQueues,
        queueKey(namespace, name),
        (item) => usableActivityItem(engine, item),
        (item) => startActivityTask(engine, item, identity),
        ctx,
        { workerInstanceKey: req.workerInstanceKey ?? undefined, identity },
      );
    }),

    RecordActivityTaskHeartbeat: h<'RecordActivityTaskHeartbeatRequest'>(async (req) => {
      const { ex, act } = activityFor(engine, req.taskToken);
      const cancelRequested = heartbeat(engine, ex, act, req.details as Payloads | null);
      await engine.commit();
      return { cancelRequested };
    }),
    RecordActivityTaskHeartbeatById: h<'RecordActivityTaskHeartbeatByIdRequest'>(async (req) => {
      const { ex, act } = activityById(engine, req.namespace ?? '', req.workflowId ?? '', req.runId, req.activityId ?? '');
      const cancelRequested = heartbeat(engine, ex, act, req.details as Payloads | null);
      await engine.commit();
      return { cancelRequested };
    }),

    RespondActivityTaskCompleted: h<'RespondActivityTaskCompletedRequest'>(async (req) => {
      const { ex, act } = activityFor(engine, req.taskToken);
      completeActivity(engine, ex, act, req.result as Payloads | null, req.identity ?? '');
      await engine.commit();
      return {};
    }),
    RespondActivityTaskCompletedById: h<'RespondActivityTaskCompletedByIdRequest'>(async (req) => {
      const { ex, act } = activityById(engine, req.namespace ?? '', req.workflowId ?? '', req.runId, req.activityId ?? '');
      completeActivity(engine, ex, act, req.result as Payloads | null, req.identity ?? '');
      await engine.commit();
      return {};
    }),

    RespondActivityTaskFailed: h<'RespondActivityTaskFailedRequest'>(async (req) => {
      const { ex, act } = activityFor(engine, req.taskToken);
      failActivity(engine, ex, act, req.failure as Failure | null, req.lastHeartbeatDetails as Payloads | null, req.identity ?? '');
      await engine.commit();
      return { failures: [] };
    }),
    RespondActivityTaskFailedById: h<'RespondActivityTaskFailedByIdRequest'>(async (req) => {
      const { ex, act } = activityById(engine, req.namespace ?? '', req.workflowId ?? '', req.runId, req.activityId ?? '');
      failActivity(engine, ex, act, req.failure as Failure | null, req.lastHeartbeatDetails as Payloads | null, req.identity ?? '');
      await engine.commit();
      return { failures: [] };
    }),

    RespondActivityTaskCanceled: h<'RespondActivityTaskCanceledRequest'>(async (req) => {
      const { ex, act } = activityFor(engine, req.taskToken);
      cancelActivity(engine, ex, act, req.details as Payloads | null, req.identity ?? '');
      await engine.commit();
      return {};
    }),
    RespondActivityTaskCanceledById: h<'RespondActivityTaskCanceledByIdRequest'>(async (req) => {
      const { ex, act } = activityById(engine, req.namespace ?? '', req.workflowId ?? '', req.runId, req.activityId ?? '');
      cancelActivity(engine, ex, act, req.details as Payloads | null, req.identity ?? '');
      await engine.commit();
      return {};
    }),

    ShutdownWorker: h<'ShutdownWorkerRequest'>(async (req) => {
      engine.namespace(req.namespace);
      const key = req.workerInstanceKey;
      if (key) {
        const match = (p: Poller<unknown>): boolean => p.workerInstanceKey === key;
        for (const p of engine.workflowQueues.drainPollers(match)) p.end();
        for (const p of engine.activityQueues.drainPollers(match)) p.end();
      }
      if (req.stickyTaskQueue) {
        for (const ex of engine.runs.values()) {
          if (ex.open && ex.s.sticky?.queue === req.stickyTaskQueue) engine.unstick(ex);
        }
      }
      await engine.commit();
      return {};
    }),

    DescribeTaskQueue: h<'DescribeTaskQueueRequest'>((req) => {
      const namespace = engine.namespace(req.namespace).name;
      const name = req.taskQueue?.name ?? '';
      const key = queueKey(namespace, name);
      const activity = req.taskQueueType === api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
      const queues = activity ? engine.activityQueues : engine.workflowQueues;
      // Pollers seen in the last 5 minutes, as Temporal reports them.
      const pollers = queues.recentPollers(key, Date.now() - 5 * 60_000).map((p) => ({ identity: p.identity, lastAccessTime: msTs(p.at), ratePerSecond: 0 }));
      return {
        pollers,
        taskQueueStatus: { backlogCountHint: queues.backlog(key) },
        kind: req.taskQueue?.kind ?? TQK.TASK_QUEUE_KIND_NORMAL,
      };
    }),
  };
}

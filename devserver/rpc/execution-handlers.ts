import { randomUUID } from 'node:crypto';
import { pendingActivityInfo } from '../engine/activities.js';
import type { Engine, PendingQuery } from '../engine/engine.js';
import type { Execution } from '../engine/execution.js';
import { invalid, RpcError } from '../errors.js';
import { api, msDur, msTs, type HistoryEvent, type Payloads } from '../proto.js';
import { longPollWait } from './context.js';
import { h } from './namespace-handlers.js';
import type { AnyHandler } from './server.js';

const ES = api.enums.v1.WorkflowExecutionStatus;
const WIC = api.enums.v1.WorkflowIdConflictPolicy;
const HEF = api.enums.v1.HistoryEventFilterType;
const QRC = api.enums.v1.QueryRejectCondition;
const QRT = api.enums.v1.QueryResultType;

/** Waits until `ex` gets a new event (or closes), at most `ms`. */
function waitForHistory(ex: Execution, ms: number, cancelled: (listener: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      ex.historyWaiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    ex.historyWaiters.add(done);
    cancelled(done);
  });
}

function pageToken(next: number, runId: string): Buffer {
  return Buffer.from(JSON.stringify({ n: next, r: runId }));
}

function readPageToken(token: Uint8Array | null | undefined): { n: number; r: string } | undefined {
  if (!token || token.length === 0) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token).toString()) as { n?: unknown; r?: unknown };
    if (typeof parsed.n === 'number' && typeof parsed.r === 'string') return { n: parsed.n, r: parsed.r };
  } catch {
    // fall through
  }
  throw invalid('next_page_token is malformed');
}

export function executionHandlers(engine: Engine): Record<string, AnyHandler> {
  return {
    StartWorkflowExecution: h<'StartWorkflowExecutionRequest'>(async (req) => {
      const { ex, started } = engine.startWorkflow(req);
      await engine.commit();
      return { runId: ex.s.runId, started, status: ex.s.status };
    }),

    SignalWorkflowExecution: h<'SignalWorkflowExecutionRequest'>(async (req) => {
      if (!req.signalName) throw invalid('SignalName is not set on request.');
      const ex = engine.getOpen(req.namespace ?? '', req.workflowExecution);
      engine.signal(ex, {
        name: req.signalName,
        input: req.input as Payloads | null,
        header: req.header,
        identity: req.identity ?? '',
        requestId: req.requestId ?? undefined,
      });
      await engine.commit();
      return {};
    }),

    SignalWithStartWorkflowExecution: h<'SignalWithStartWorkflowExecutionRequest'>(async (req) => {
      if (!req.signalName) throw invalid('SignalName is not set on request.');
      engine.namespace(req.namespace);
      const existing = engine.find(req.namespace ?? '', req.workflowId ?? '');
      const conflict = req.workflowIdConflictPolicy || WIC.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING;
      if (existing?.open && conflict === WIC.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING) {
        engine.signal(existing, { name: req.signalName, input: req.signalInput as Payloads | null, header: req.header, identity: req.identity ?? '' });
        await engine.commit();
        return { runId: existing.s.runId, started: false };
      }
      const { ex, started } = engine.startWorkflow(
        {
          namespace: req.namespace,
          workflowId: req.workflowId,
          workflowType: req.workflowType,
          taskQueue: req.taskQueue,
          input: req.input,
          workflowExecutionTimeout: req.workflowExecutionTimeout,
          workflowRunTimeout: req.workflowRunTimeout,
          workflowTaskTimeout: req.workflowTaskTimeout,
          identity: req.identity,
          requestId: req.requestId,
          workflowIdReusePolicy: req.workflowIdReusePolicy,
          workflowIdConflictPolicy: conflict,
          retryPolicy: req.retryPolicy,
          cronSchedule: req.cronSchedule,
          memo: req.memo,
          searchAttributes: req.searchAttributes,
          header: req.header,
          workflowStartDelay: req.workflowStartDelay,
          userMetadata: req.userMetadata,
        },
        { signal: { name: req.signalName, input: req.signalInput as Payloads | null, header: req.header, identity: req.identity ?? '' } },
      );
      await engine.commit();
      return { runId: ex.s.runId, started };
    }),

    RequestCancelWorkflowExecution: h<'RequestCancelWorkflowExecutionRequest'>(async (req) => {
      const ex = engine.getOpen(req.namespace ?? '', req.workflowExecution);
      if (req.firstExecutionRunId && ex.s.firstRunId !== req.firstExecutionRunId) throw new RpcError(5, 'workflow execution not found for the given first run id');
      engine.requestCancel(ex, { reason: req.reason ?? '', identity: req.identity ?? '' });
      await engine.commit();
      return {};
    }),

    TerminateWorkflowExecution: h<'TerminateWorkflowExecutionRequest'>(async (req) => {
      const ex = engine.getOpen(req.namespace ?? '', req.workflowExecution);
      if (req.firstExecutionRunId && ex.s.firstRunId !== req.firstExecutionRunId) throw new RpcError(5, 'workflow execution not found for the given first run id');
      engine.terminate(ex, req.reason ?? '', req.details as Payloads | null, req.identity ?? '');
      await engine.commit();
      return {};
    }),

    DescribeWorkflowExecution: h<'DescribeWorkflowExecutionRequest'>((req) => {
      const ex = engine.get(req.namespace ?? '', req.execution);
      const s = ex.s;
      const wt = s.wt;
      return {
        executionConfig: {
          taskQueue: { name: s.taskQueue, kind: 1 },
          workflowExecutionTimeout: msDur(s.executionTimeoutMs),
          workflowRunTimeout: msDur(s.runTimeoutMs),
          defaultWorkflowTaskTimeout: msDur(s.taskTimeoutMs),
        },
        workflowExecutionInfo: engine.executionInfo(ex),
        pendingActivities: Object.values(s.activities).map((act) => pendingActivityInfo(ex, act)),
        pendingChildren: Object.values(s.children).map((c) => ({
          workflowId: c.workflowId,
          runId: c.runId ?? '',
          workflowTypeName: c.workflowType,
          initiatedId: c.initiatedEventId,
          parentClosePolicy: c.parentClosePolicy,
        })),
        pendingWorkflowTask: wt
          ? {
              state: wt.startedAt !== undefined ? 2 : 1,
              scheduledTime: msTs(wt.scheduledAt),
              originalScheduledTime: msTs(wt.scheduledAt),
              startedTime: wt.startedAt !== undefined ? msTs(wt.startedAt) : undefined,
              attempt: wt.attempt,
            }
          : undefined,
      };
    }),

    GetWorkflowExecutionHistory: h<'GetWorkflowExecutionHistoryRequest'>(async (req, ctx) => {
      const token = readPageToken(req.nextPageToken);
      const namespace = req.namespace ?? '';
      const ex = token ? engine.get(namespace, { workflowId: req.execution?.workflowId, runId: token.r }) : engine.get(namespace, req.execution);
      const closeOnly = req.historyEventFilterType === HEF.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;
      const deadline = Date.now() + longPollWait(ctx, 20_000);
      for (;;) {
        if (closeOnly) {
          if (!ex.open) {
            const events = await engine.history(ex);
            const close = events.find((e) => Number(e.eventId) === ex.s.closeEventId) ?? events[events.length - 1];
            return { history: { events: close ? [close] : [] }, nextPageToken: Buffer.alloc(0) };
          }
        } else {
          const from = token?.n ?? 1;
          const events = await engine.history(ex);
          const size = req.maximumPageSize && req.maximumPageSize > 0 ? req.maximumPageSize : 1000;
          const page = events.filter((e) => Number(e.eventId) >= from).slice(0, size);
          if (page.length > 0 || !req.waitNewEvent || !ex.open) {
            const last = page.length > 0 ? Number(page[page.length - 1].eventId) : from - 1;
            const more = last < ex.s.nextEventId - 1 || (req.waitNewEvent && ex.open);
            return { history: { events: page }, nextPageToken: more ? pageToken(last + 1, ex.s.runId) : Buffer.alloc(0) };
          }
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0 || ctx.isCancelled()) {
          return { history: { events: [] }, nextPageToken: pageToken(token?.n ?? 1, ex.s.runId) };
        }
        await waitForHistory(ex, remaining, ctx.onCancel);
      }
    }),

    GetWorkflowExecutionHistoryReverse: h<'GetWorkflowExecutionHistoryReverseRequest'>(async (req) => {
      const ex = engine.get(req.namespace ?? '', req.execution);
      const token = readPageToken(req.nextPageToken);
      const events: HistoryEvent[] = [...(await engine.history(ex))].reverse();
      const before = token?.n ?? Infinity;
      const size = req.maximumPageSize && req.maximumPageSize > 0 ? req.maximumPageSize : 1000;
      const page = events.filter((e) => Number(e.eventId) < before).slice(0, size);
      const lowest = page.length > 0 ? Number(page[page.length - 1].eventId) : 1;
      return { history: { events: page }, nextPageToken: lowest > 1 ? pageToken(lowest, ex.s.runId) : Buffer.alloc(0) };
    }),

    QueryWorkflow: h<'QueryWorkflowRequest'>(async (req, ctx) => {
      if (!req.query?.queryType) throw invalid('QueryType is not set on request.');
      const ex = engine.get(req.namespace ?? '', req.execution);
      const condition = req.queryRejectCondition ?? 0;
      if (!ex.open) {
        if (condition === QRC.QUERY_REJECT_CONDITION_NOT_OPEN) return { queryRejected: { status: ex.s.status } };
        if (condition === QRC.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY && ex.s.status !== ES.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
          return { queryRejected: { status: ex.s.status } };
        }
      }
      const waitMs = longPollWait(ctx, 30_000);
      const answer = await new Promise<Payloads | null | undefined>((resolve, reject) => {
        const query: PendingQuery = {
          id: randomUUID(),
          runKey: ex.key,
          query: api.query.v1.WorkflowQuery.fromObject(req.query ?? {}),
          resolve,
          reject,
          dispatched: false,
        };
        const timer = setTimeout(() => {
          engine.forgetQuery(query.id);
          reject(
            new RpcError(
              4,
              `query ${req.query?.queryType} on workflow ${ex.s.workflowId} got no answer: no worker is polling task queue ${ex.s.taskQueue}, or its workflow task is still running`,
            ),
          );
        }, waitMs);
        const finish = (): void => clearTimeout(timer);
        query.resolve = (value) => {
          finish();
          resolve(value);
        };
        query.reject = (error) => {
          finish();
          reject(error);
        };
        ctx.onCancel(() => {
          finish();
          engine.forgetQuery(query.id);
        });
        engine.enqueueQuery(ex, query);
      });
      return { queryResult: answer ?? undefined };
    }),

    RespondQueryTaskCompleted: h<'RespondQueryTaskCompletedRequest'>((req) => {
      const token = Buffer.from(req.taskToken ?? []).toString();
      let id = '';
      try {
        const parsed = JSON.parse(token) as { k?: string; q?: string };
        if (parsed.k === 'q' && typeof parsed.q === 'string') id = parsed.q;
      } catch {
        // handled below
      }
      const query = engine.queries.get(id);
      if (!query) throw new RpcError(5, 'query not found: it timed out or its caller went away');
      engine.forgetQuery(id);
      if (req.completedType === QRT.QUERY_RESULT_TYPE_ANSWERED) {
        query.resolve(req.queryResult as Payloads | null);
      } else {
        const failure = api.errordetails.v1.QueryFailedFailure.encode({ failure: req.failure ?? undefined }).finish();
        query.reject(
          new RpcError(3, req.errorMessage || req.failure?.message || 'query failed', [
            { typeName: 'temporal.api.errordetails.v1.QueryFailedFailure', value: failure },
          ]),
        );
      }
      return {};
    }),

    ResetStickyTaskQueue: h<'ResetStickyTaskQueueRequest'>(async (req) => {
      const ex = engine.get(req.namespace ?? '', req.execution);
      if (ex.open) engine.unstick(ex);
      await engine.commit();
      return {};
    }),
  };
}

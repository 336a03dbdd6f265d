import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { alreadyStarted, invalid, namespaceNotFound, notFound, RpcError } from '../errors.js';
import {
  api,
  durMs,
  msDur,
  msTs,
  pack,
  unpack,
  type Failure,
  type HistoryEvent,
  type Payload,
  type Payloads,
} from '../proto.js';
import { emptyBatch, type PgStore, type WriteBatch } from '../store/pg-store.js';
import type { SearchAttributeType, VisibilityRecord } from '../visibility/query.js';
import { Execution, newState, runKey, workflowKey } from './execution.js';
import { checkCronSchedule, cronBackoffMs, cronContinuation } from './cron.js';
import { decideRetry } from './retry.js';
import { DEFAULT_CUSTOM_ATTRIBUTES, normalizeSearchAttributes, SYSTEM_ATTRIBUTES, visibilityValue } from './search-attributes.js';
import type { ExecutionState, ParentRef } from './state.js';
import { TaskQueues } from './task-queues.js';
import { TimerWheel } from './timer-wheel.js';
import { updateMessages } from './update-messages.js';

export type StartRequest = temporal.api.workflowservice.v1.StartWorkflowExecutionRequest.$Properties;

const ET = api.enums.v1.EventType;
const ES = api.enums.v1.WorkflowExecutionStatus;
const RS = api.enums.v1.RetryState;
const TQK = api.enums.v1.TaskQueueKind;
const HE = api.history.v1.HistoryEvent;
const PCP = api.enums.v1.ParentClosePolicy;
const WFC = api.enums.v1.WorkflowTaskFailedCause;

export interface Limits {
  payloadBytes: number;
  historyBytes: number;
}

export const DEFAULT_LIMITS: Limits = { payloadBytes: 2 * 1024 * 1024, historyBytes: 50 * 1024 * 1024 };

export interface NamespaceRecord {
  name: string;
  id: string;
  description: string;
  ownerEmail: string;
  retentionMs: number;
  data: Record<string, string>;
  registeredAt: number;
}

/** What a workflow-task queue holds: a task of a run (checked by stamp), or a query waiting for a worker. */
export type WorkflowQueueItem = { kind: 'task'; runKey: string; stamp: number } | { kind: 'query'; id: string };
export type ActivityQueueItem = { runKey: string; scheduledEventId: number; stamp: number };

export interface PendingQuery {
  id: string;
  runKey: string;
  query: temporal.api.query.v1.WorkflowQuery;
  resolve: (answer: Payloads | null | undefined) => void;
  reject: (error: Error) => void;
  dispatched: boolean;
}

interface PendingBatch {
  dirty: Map<string, Execution>;
  batch: WriteBatch;
  effects: (() => void)[];
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
}

export interface StartOptions {
  namespace: string;
  /** reserved id (retry / continue-as-new name the next run in the closing event) */
  runId?: string;
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  input?: Payloads | null;
  header?: temporal.api.common.v1.Header.$Properties | null;
  memo?: temporal.api.common.v1.Memo.$Properties | null;
  searchAttributes?: Map<string, Payload | null>;
  runTimeoutMs: number;
  executionTimeoutMs: number;
  taskTimeoutMs: number;
  executionExpiresAt?: number;
  retryPolicy?: temporal.api.common.v1.RetryPolicy.$Properties | null;
  attempt: number;
  parent?: ParentRef;
  firstTaskDelayMs: number;
  identity: string;
  requestId: string;
  firstRunId?: string;
  continuedExecutionRunId?: string;
  continuedFailure?: Failure | null;
  lastCompletionResult?: Payloads | null;
  initiator?: number;
  signal?: { name: string; input?: Payloads | null; header?: temporal.api.common.v1.Header.$Properties | null; identity: string };
  userMetadata?: temporal.api.sdk.v1.UserMetadata.$Properties | null;
  rootExecution?: { workflowId: string; runId: string };
  /** cron_schedule of the chain (see cron.ts) */
  cronSchedule?: string;
}

/**
 * The devserver's state machine. Every change happens synchronously in memory, is written to PostgreSQL in the next
 * batch (one statement, one transaction), and only then becomes visible: tasks are handed out and replies sent after
 * the batch commits (see `afterCommit`).
 */
export class Engine {
  readonly runs = new Map<string, Execution>();
  readonly current = new Map<string, Execution>();
  readonly namespaces = new Map<string, NamespaceRecord>();
  readonly attributes = new Map<string, Map<string, SearchAttributeType>>();
  readonly workflowQueues = new TaskQueues<WorkflowQueueItem>();
  readonly activityQueues = new TaskQueues<ActivityQueueItem>();
  readonly queries = new Map<string, PendingQuery>();
  readonly timers: TimerWheel;
  private pending: PendingBatch = this.newPending();
  private writing = false;
  private failure: Error | undefined;
  private lastEventTime = 0;
  private taskIdSeq = Date.now() * 1000;
  /** memory bound for closed runs' histories */
  private readonly closedWithEvents: Execution[] = [];
  readonly log: (line: string) => void;
  readonly limits: Limits;
  /** hooks for other services (schedules) */
  onFatal: (error: Error) => void = () => undefined;

  constructor(
    readonly store: PgStore,
    options: { limits?: Limits; log?: (line: string) => void; now?: () => number } = {},
  ) {
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.log = options.log ?? (() => undefined);
    this.now = options.now ?? Date.now;
    this.timers = new TimerWheel(this.now);
  }

  readonly now: () => number;

  // ---------------------------------------------------------------- persistence

  private newPending(): PendingBatch {
    return { dirty: new Map(), batch: emptyBatch(), effects: [], waiters: [] };
  }

  /** Marks a run as changed: its state is written in the next batch. */
  touch(ex: Execution): void {
    this.pending.dirty.set(ex.key, ex);
  }

  /** Runs `effect` once the changes made so far are durable. */
  afterCommit(effect: () => void): void {
    this.pending.effects.push(effect);
  }

  get batch(): WriteBatch {
    return this.pending.batch;
  }

  /** Resolves when everything changed so far is committed. */
  commit(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const p = this.pending;
    const empty =
      p.dirty.size === 0 &&
      p.effects.length === 0 &&
      p.batch.events.length === 0 &&
      p.batch.schedules.length === 0 &&
      p.batch.namespaces.length === 0 &&
      p.batch.searchAttributes.length === 0;
    if (empty && !this.writing) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      p.waiters.push({ resolve, reject });
      if (!this.writing) void this.flushLoop();
    });
  }

  /** Commits without a caller waiting (timers); a write failure is already fatal and reported by the flush. */
  commitInBackground(): void {
    this.commit().catch(() => undefined);
  }

  private async flushLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.waiters.length > 0 || this.pending.dirty.size > 0 || this.pending.effects.length > 0) {
        const p = this.pending;
        this.pending = this.newPending();
        for (const ex of p.dirty.values()) {
          p.batch.executions.push({
            namespace: ex.s.namespace,
            runId: ex.s.runId,
            workflowId: ex.s.workflowId,
            open: ex.open,
            state: JSON.stringify(ex.s),
          });
        }
        try {
          await this.store.write(p.batch);
        } catch (error) {
          const err = new Error(
            `The devserver could not write to its database: ${error instanceof Error ? error.message : String(error)}`,
          );
          this.failure = err;
          for (const w of p.waiters) w.reject(err);
          for (const w of this.pending.waiters) w.reject(err);
          this.onFatal(err);
          return;
        }
        for (const effect of p.effects) {
          try {
            effect();
          } catch (error) {
            this.log(`devserver: an after-commit step failed: ${error instanceof Error ? error.stack : String(error)}`);
          }
        }
        for (const w of p.waiters) w.resolve();
      }
    } finally {
      this.writing = false;
    }
  }

  // ---------------------------------------------------------------- loading

  async load(): Promise<{ schedules: { namespace: string; scheduleId: string; state: string }[] }> {
    const loaded = await this.store.load();
    for (const row of loaded.namespaces) {
      this.namespaces.set(row.name, JSON.parse(row.info) as NamespaceRecord);
    }
    for (const row of loaded.searchAttributes) {
      this.registry(row.namespace).set(row.name, row.type as SearchAttributeType);
    }
    const eventsByRun = new Map<string, HistoryEvent[]>();
    for (const row of loaded.events) {
      const key = runKey(row.namespace, row.runId);
      let list = eventsByRun.get(key);
      if (!list) eventsByRun.set(key, (list = []));
      list.push(HE.decode(row.data));
    }
    for (const row of loaded.executions) {
      const state = JSON.parse(row.state) as ExecutionState;
      const ex = new Execution(state, row.open ? (eventsByRun.get(runKey(row.namespace, row.runId)) ?? []) : undefined);
      this.runs.set(ex.key, ex);
      const wk = workflowKey(state.namespace, state.workflowId);
      const existing = this.current.get(wk);
      if (!existing || isNewer(ex, existing)) this.current.set(wk, ex);
    }
    if (!this.namespaces.has('default')) {
      this.registerNamespace({ name: 'default', description: 'Default namespace', ownerEmail: '', retentionMs: 7 * 86400_000, data: {} });
    }
    await this.commit();
    for (const ex of this.runs.values()) if (ex.open) this.recover(ex);
    return { schedules: loaded.schedules };
  }

  /** Re-arms every deadline and re-queues every task of an open run after a restart. */
  private recover(ex: Execution): void {
    const s = ex.s;
    this.armRunTimeouts(ex);
    const wt = s.wt;
    if (wt) {
      if (wt.startedAt !== undefined) this.armWorkflowTaskTimeout(ex, wt.stamp, wt.startedAt + s.taskTimeoutMs);
      else this.dispatchWorkflowTask(ex);
    } else if (s.firstTaskAt !== undefined) {
      this.armFirstTask(ex);
    }
    for (const timer of Object.values(s.timers)) this.armUserTimer(ex, timer.timerId, timer.startedEventId, timer.fireAt);
    for (const act of Object.values(s.activities)) this.activityHooks.recover(ex, act.scheduledEventId);
  }

  /** Set by the activities module (kept apart to keep this file readable). */
  activityHooks: {
    recover: (ex: Execution, scheduledEventId: number) => void;
  } = { recover: () => undefined };

  // ---------------------------------------------------------------- namespaces & search attributes

  registerNamespace(ns: Omit<NamespaceRecord, 'id' | 'registeredAt'>): NamespaceRecord {
    if (this.namespaces.has(ns.name)) {
      throw new RpcError(6, `Namespace ${ns.name} already exists.`, [
        {
          typeName: 'temporal.api.errordetails.v1.NamespaceAlreadyExistsFailure',
          value: api.errordetails.v1.NamespaceAlreadyExistsFailure.encode({}).finish(),
        },
      ]);
    }
    const record: NamespaceRecord = { ...ns, id: randomUUID(), registeredAt: this.now() };
    this.namespaces.set(ns.name, record);
    this.batch.namespaces.push({ name: record.name, id: record.id, info: JSON.stringify(record) });
    for (const [name, type] of DEFAULT_CUSTOM_ATTRIBUTES) this.setAttribute(record.name, name, type);
    return record;
  }

  saveNamespace(record: NamespaceRecord): void {
    this.namespaces.set(record.name, record);
    this.batch.namespaces.push({ name: record.name, id: record.id, info: JSON.stringify(record) });
  }

  namespace(name: string | null | undefined): NamespaceRecord {
    const record = this.namespaces.get(name || '');
    if (!record) throw namespaceNotFound(name ?? '');
    return record;
  }

  registry(namespace: string): Map<string, SearchAttributeType> {
    let map = this.attributes.get(namespace);
    if (!map) this.attributes.set(namespace, (map = new Map()));
    return map;
  }

  setAttribute(namespace: string, name: string, type: SearchAttributeType | null): void {
    if (type) this.registry(namespace).set(name, type);
    else this.registry(namespace).delete(name);
    this.batch.searchAttributes.push({ namespace, name, type });
    for (const ex of this.runs.values()) if (ex.s.namespace === namespace) ex.visibilityCache = undefined;
  }

  /** All attributes a list filter may use in this namespace. */
  queryableAttributes(namespace: string): Map<string, SearchAttributeType> {
    return new Map([...SYSTEM_ATTRIBUTES, ...this.registry(namespace)]);
  }

  normalizeAttributes(namespace: string, fields: Record<string, Payload> | null | undefined): Map<string, Payload | null> {
    return normalizeSearchAttributes(fields, this.registry(namespace));
  }

  // ---------------------------------------------------------------- events

  private eventTime(): number {
    const t = Math.max(this.now(), this.lastEventTime);
    this.lastEventTime = t;
    return t;
  }

  /** Builds an event with the next id of `ex` (not yet placed anywhere). */
  private makeEvent(ex: Execution, type: number, attrs: Record<string, unknown>, eventId: number): HistoryEvent {
    const field = ATTRIBUTE_FIELDS[type];
    if (!field) throw new Error(`no attribute field for event type ${type}`);
    return HE.fromObject({
      eventId,
      eventTime: msTs(this.eventTime()),
      eventType: type,
      taskId: ++this.taskIdSeq,
      [field]: attrs,
    });
  }

  /** Appends an event to the history (not the buffer) and queues it for writing. */
  append(ex: Execution, type: number, attrs: Record<string, unknown>): HistoryEvent {
    const event = this.makeEvent(ex, type, attrs, ex.s.nextEventId);
    this.place(ex, event);
    return event;
  }

  /** Places a built event (its id must be the next id of `ex`) and queues it for writing. */
  place(ex: Execution, event: HistoryEvent): void {
    const data = Buffer.from(HE.encode(event).finish());
    ex.s.nextEventId += 1;
    ex.s.historyBytes += data.length;
    ex.events?.push(event);
    // A speculative task waiting to start now has a real event to carry: it can no longer be dropped.
    if (ex.s.wt?.speculative && ex.s.wt.startedAt === undefined) ex.s.wt.speculative = false;
    this.batch.events.push({ namespace: ex.s.namespace, runId: ex.s.runId, eventId: Number(event.eventId), data });
    this.touch(ex);
    this.afterCommit(() => ex.notifyHistory());
    if (ex.open && ex.s.historyBytes > this.limits.historyBytes && !ex.oversized) {
      ex.oversized = true;
      const limit = this.limits.historyBytes;
      this.afterCommit(() => {
        if (!ex.open) return;
        this.terminate(ex, `history size exceeds the devserver's limit of ${limit} bytes (--max-history-bytes)`, undefined, 'lastmile-devserver');
        this.commitInBackground();
      });
    }
  }

  /**
   * Delivers an event the workflow must react to: buffered while a workflow task runs, otherwise appended, and a
   * workflow task is scheduled if none is pending.
   */
  deliver(ex: Execution, type: number, attrs: Record<string, unknown>): void {
    if (!ex.open) return;
    if (ex.s.wt?.startedAt !== undefined) {
      const event = this.makeEvent(ex, type, attrs, 0);
      ex.s.buffered.push(pack(HE, event) as string);
      this.touch(ex);
      return;
    }
    this.append(ex, type, attrs);
    if (ex.completing) ex.needsTask = true;
    else if (!ex.s.wt) this.scheduleWorkflowTask(ex);
  }

  /** Moves buffered events into the history; returns how many there were. */
  flushBuffered(ex: Execution): number {
    const buffered = ex.s.buffered;
    ex.s.buffered = [];
    const startedIds = new Map<number, number>();
    for (const packed of buffered) {
      const event = unpack(HE, packed) as HistoryEvent;
      event.eventId = ex.s.nextEventId as unknown as typeof event.eventId;
      const started = event.activityTaskStartedEventAttributes;
      if (started) startedIds.set(Number(started.scheduledEventId), ex.s.nextEventId);
      const outcome =
        event.activityTaskCompletedEventAttributes ??
        event.activityTaskFailedEventAttributes ??
        event.activityTaskTimedOutEventAttributes ??
        event.activityTaskCanceledEventAttributes;
      if (outcome && Number(outcome.startedEventId) === -1) {
        outcome.startedEventId = (startedIds.get(Number(outcome.scheduledEventId)) ?? 0) as unknown as typeof outcome.startedEventId;
      }
      this.place(ex, event);
    }
    return buffered.length;
  }

  async history(ex: Execution): Promise<HistoryEvent[]> {
    if (ex.events) return ex.events;
    const rows = await this.store.loadEvents(ex.s.namespace, ex.s.runId);
    return rows.map((row) => HE.decode(row));
  }

  // ---------------------------------------------------------------- lookups

  find(namespace: string, workflowId: string, runId?: string | null): Execution | undefined {
    if (runId) {
      const ex = this.runs.get(runKey(namespace, runId));
      return ex && ex.s.workflowId === workflowId ? ex : undefined;
    }
    return this.current.get(workflowKey(namespace, workflowId));
  }

  get(namespace: string, execution: { workflowId?: string | null; runId?: string | null } | null | undefined): Execution {
    this.namespace(namespace);
    const workflowId = execution?.workflowId;
    if (!workflowId) throw invalid('WorkflowId is not set on request.');
    const ex = this.find(namespace, workflowId, execution?.runId);
    if (!ex) {
      throw notFound(`workflow not found for ID: ${workflowId}${execution?.runId ? ` run ID: ${execution.runId}` : ''}`);
    }
    return ex;
  }

  getOpen(namespace: string, execution: { workflowId?: string | null; runId?: string | null } | null | undefined): Execution {
    const ex = this.get(namespace, execution);
    if (!ex.open) throw notFound('workflow execution already completed');
    return ex;
  }

  // ---------------------------------------------------------------- starting

  /** Creates a run and its first events; the first workflow task follows (after any start delay). */
  startRun(o: StartOptions): Execution {
    const now = this.now();
    const runId = o.runId ?? randomUUID();
    const runTimeoutMs = o.runTimeoutMs || o.executionTimeoutMs;
    const expiresAt = o.executionExpiresAt ?? (o.executionTimeoutMs > 0 ? now + o.executionTimeoutMs : 0);
    const searchAttributes: Record<string, string> = {};
    for (const [name, payload] of o.searchAttributes ?? []) {
      if (payload) searchAttributes[name] = pack(api.common.v1.Payload, api.common.v1.Payload.fromObject(payload)) as string;
    }
    const memo = o.memo ? api.common.v1.Memo.fromObject(o.memo) : undefined;
    const retryPolicy = o.retryPolicy ? api.common.v1.RetryPolicy.fromObject(o.retryPolicy) : undefined;
    const state = newState({
      namespace: o.namespace,
      workflowId: o.workflowId,
      runId,
      firstRunId: o.firstRunId ?? runId,
      workflowType: o.workflowType,
      taskQueue: o.taskQueue,
      status: ES.WORKFLOW_EXECUTION_STATUS_RUNNING,
      startTime: now,
      executionTime: now + o.firstTaskDelayMs,
      requestIds: o.requestId ? [o.requestId] : [],
      memo: memo && Object.keys(memo.fields ?? {}).length > 0 ? pack(api.common.v1.Memo, memo) : undefined,
      searchAttributes,
      runTimeoutMs,
      executionTimeoutMs: o.executionTimeoutMs,
      taskTimeoutMs: o.taskTimeoutMs,
      executionExpiresAt: expiresAt,
      runExpiresAt: runTimeoutMs > 0 ? now + runTimeoutMs : 0,
      retryPolicy: pack(api.common.v1.RetryPolicy, retryPolicy),
      attempt: o.attempt,
      parent: o.parent,
      firstTaskAt: o.firstTaskDelayMs > 0 ? now + o.firstTaskDelayMs : undefined,
      cronSchedule: o.cronSchedule || undefined,
    });
    const ex = new Execution(state, []);
    this.runs.set(ex.key, ex);
    this.current.set(workflowKey(o.namespace, o.workflowId), ex);
    const root = o.rootExecution ?? { workflowId: o.workflowId, runId };
    this.append(ex, ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, {
      workflowType: { name: o.workflowType },
      parentWorkflowNamespace: o.parent?.namespace,
      parentWorkflowNamespaceId: o.parent ? this.namespaces.get(o.parent.namespace)?.id : undefined,
      parentWorkflowExecution: o.parent ? { workflowId: o.parent.workflowId, runId: o.parent.runId } : undefined,
      parentInitiatedEventId: o.parent?.initiatedEventId,
      taskQueue: { name: o.taskQueue, kind: TQK.TASK_QUEUE_KIND_NORMAL },
      input: o.input ?? undefined,
      workflowExecutionTimeout: msDur(o.executionTimeoutMs),
      workflowRunTimeout: msDur(runTimeoutMs),
      workflowTaskTimeout: msDur(o.taskTimeoutMs),
      continuedExecutionRunId: o.continuedExecutionRunId,
      initiator: o.initiator,
      continuedFailure: o.continuedFailure ?? undefined,
      lastCompletionResult: o.lastCompletionResult ?? undefined,
      originalExecutionRunId: runId,
      identity: o.identity,
      firstExecutionRunId: state.firstRunId,
      retryPolicy,
      attempt: o.attempt,
      workflowExecutionExpirationTime: expiresAt > 0 ? msTs(expiresAt) : undefined,
      firstWorkflowTaskBackoff: o.firstTaskDelayMs > 0 ? msDur(o.firstTaskDelayMs) : undefined,
      memo: memo,
      searchAttributes: Object.keys(searchAttributes).length > 0 ? { indexedFields: this.searchAttributePayloads(ex) } : undefined,
      header: o.header ?? undefined,
      workflowId: o.workflowId,
      rootWorkflowExecution: root,
      cronSchedule: o.cronSchedule || undefined,
    });
    if (o.signal) {
      this.append(ex, ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, {
        signalName: o.signal.name,
        input: o.signal.input ?? undefined,
        identity: o.signal.identity,
        header: o.signal.header ?? undefined,
      });
    }
    this.armRunTimeouts(ex);
    if (state.firstTaskAt !== undefined) this.armFirstTask(ex);
    else this.scheduleWorkflowTask(ex);
    return ex;
  }

  searchAttributePayloads(ex: Execution): Record<string, Payload> {
    const out: Record<string, Payload> = {};
    for (const [name, packed] of Object.entries(ex.s.searchAttributes)) out[name] = unpack(api.common.v1.Payload, packed) as Payload;
    return out;
  }

  /**
   * StartWorkflowExecution semantics: request-id idempotency, id reuse and conflict policies.
   * Returns the run and whether it was started by this call.
   */
  startWorkflow(
    req: StartRequest,
    extra: { signal?: StartOptions['signal']; defaultConflict?: number; parent?: ParentRef } = {},
  ): { ex: Execution; started: boolean } {
    const namespace = this.namespace(req.namespace).name;
    const workflowId = req.workflowId ?? '';
    if (!workflowId) throw invalid('WorkflowId is not set on request.');
    if (!req.workflowType?.name) throw invalid('WorkflowType is not set on request.');
    if (!req.taskQueue?.name) throw invalid('TaskQueue is not set on request.');
    if (req.cronSchedule) {
      checkCronSchedule(req.cronSchedule);
      if (durMs(req.workflowStartDelay) > 0) throw invalid('cron_schedule and workflow_start_delay may not be used together; the cron schedule decides when the first run starts.');
    }
    const requestId = req.requestId || randomUUID();
    const existing = this.current.get(workflowKey(namespace, workflowId));
    const WIR = api.enums.v1.WorkflowIdReusePolicy;
    const WIC = api.enums.v1.WorkflowIdConflictPolicy;
    if (existing) {
      if (existing.s.requestIds.includes(requestId)) return { ex: existing, started: true };
      if (existing.open) {
        const reuse = req.workflowIdReusePolicy ?? 0;
        let conflict = req.workflowIdConflictPolicy || extra.defaultConflict || WIC.WORKFLOW_ID_CONFLICT_POLICY_FAIL;
        if (reuse === WIR.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING) conflict = WIC.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING;
        if (conflict === WIC.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING) {
          if (req.onConflictOptions?.attachRequestId) existing.s.requestIds.push(requestId);
          this.touch(existing);
          return { ex: existing, started: false };
        }
        if (conflict === WIC.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING) {
          this.terminate(existing, 'terminated by a new start with the TERMINATE_EXISTING conflict policy', undefined, req.identity ?? '');
        } else {
          throw alreadyStarted(workflowId, existing.s.runId, existing.s.requestIds[0] ?? '');
        }
      } else {
        const reuse = req.workflowIdReusePolicy || WIR.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE;
        if (reuse === WIR.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE) {
          throw alreadyStarted(workflowId, existing.s.runId, existing.s.requestIds[0] ?? '');
        }
        if (
          reuse === WIR.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY &&
          existing.s.status === ES.WORKFLOW_EXECUTION_STATUS_COMPLETED
        ) {
          throw alreadyStarted(workflowId, existing.s.runId, existing.s.requestIds[0] ?? '');
        }
      }
    }
    const taskTimeoutMs = Math.min(durMs(req.workflowTaskTimeout) || 10_000, 120_000);
    const searchAttributes = this.normalizeAttributes(namespace, req.searchAttributes?.indexedFields as Record<string, Payload>);
    const ex = this.startRun({
      namespace,
      workflowId,
      workflowType: req.workflowType.name,
      taskQueue: req.taskQueue.name,
      input: req.input as Payloads | null,
      header: req.header,
      memo: req.memo,
      searchAttributes,
      runTimeoutMs: durMs(req.workflowRunTimeout),
      executionTimeoutMs: durMs(req.workflowExecutionTimeout),
      taskTimeoutMs,
      retryPolicy: req.retryPolicy,
      attempt: 1,
      parent: extra.parent,
      firstTaskDelayMs: req.cronSchedule ? cronBackoffMs(req.cronSchedule, this.now()) : durMs(req.workflowStartDelay),
      cronSchedule: req.cronSchedule || undefined,
      identity: req.identity ?? '',
      requestId,
      signal: extra.signal,
      userMetadata: req.userMetadata,
      continuedFailure: req.continuedFailure as Failure | null,
      lastCompletionResult: req.lastCompletionResult as Payloads | null,
    });
    return { ex, started: true };
  }

  // ---------------------------------------------------------------- run-level deadlines

  armRunTimeouts(ex: Execution): void {
    const { runExpiresAt, executionExpiresAt, runId } = ex.s;
    const deadline = [runExpiresAt, executionExpiresAt].filter((t) => t > 0);
    if (deadline.length === 0) return;
    const at = Math.min(...deadline);
    this.timers.add(at, () => {
      if (!ex.open || ex.s.runId !== runId) return;
      this.timeoutRun(ex);
      this.commitInBackground();
    });
  }

  private armFirstTask(ex: Execution): void {
    const at = ex.s.firstTaskAt;
    if (at === undefined) return;
    this.timers.add(at, () => {
      if (!ex.open || ex.s.firstTaskAt !== at) return;
      ex.s.firstTaskAt = undefined;
      this.touch(ex);
      if (!ex.s.wt) this.scheduleWorkflowTask(ex);
      this.commitInBackground();
    });
  }

  armUserTimer(ex: Execution, timerId: string, startedEventId: number, fireAt: number): void {
    this.timers.add(fireAt, () => {
      const timer = ex.s.timers[timerId];
      if (!ex.open || !timer || timer.startedEventId !== startedEventId) return;
      delete ex.s.timers[timerId];
      this.deliver(ex, ET.EVENT_TYPE_TIMER_FIRED, { timerId, startedEventId });
      this.commitInBackground();
    });
  }

  // ---------------------------------------------------------------- workflow tasks

  scheduleWorkflowTask(ex: Execution, attempt = 1): void {
    if (!ex.open || ex.s.wt) return;
    if (ex.s.firstTaskAt !== undefined && ex.s.firstTaskAt > this.now()) return;
    const s = ex.s;
    const transient = attempt > 1;
    const sticky = s.sticky?.queue;
    const wt = { scheduledEventId: 0, attempt, scheduledAt: this.now(), stickyQueue: sticky, transient, stamp: ++s.stampSeq };
    if (!transient) {
      const event = this.append(ex, ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, {
        taskQueue: this.taskQueueOf(ex, sticky),
        startToCloseTimeout: msDur(s.taskTimeoutMs),
        attempt,
      });
      wt.scheduledEventId = Number(event.eventId);
    }
    s.wt = wt;
    this.touch(ex);
    this.afterCommit(() => this.dispatchWorkflowTask(ex));
  }

  private taskQueueOf(ex: Execution, sticky?: string): Record<string, unknown> {
    return sticky
      ? { name: sticky, kind: TQK.TASK_QUEUE_KIND_STICKY, normalName: ex.s.taskQueue }
      : { name: ex.s.taskQueue, kind: TQK.TASK_QUEUE_KIND_NORMAL };
  }

  /** Puts the scheduled workflow task on its queue (sticky when the worker asked, with a fallback deadline). */
  dispatchWorkflowTask(ex: Execution): void {
    const wt = ex.s.wt;
    if (!ex.open || !wt || wt.startedAt !== undefined) return;
    const stamp = wt.stamp;
    const queue = wt.stickyQueue ?? ex.s.taskQueue;
    this.workflowQueues.push(queueKey(ex.s.namespace, queue), { kind: 'task', runKey: ex.key, stamp });
    if (wt.stickyQueue) {
      const timeout = ex.s.sticky?.scheduleToStartMs || 5000;
      this.timers.add(this.now() + timeout, () => {
        const current = ex.s.wt;
        if (!ex.open || !current || current.stamp !== stamp || current.startedAt !== undefined) return;
        this.unstick(ex);
      });
    }
  }

  /** The sticky worker is gone or slow: send the pending task to the normal queue with full history. */
  unstick(ex: Execution): void {
    ex.s.sticky = undefined;
    const wt = ex.s.wt;
    this.touch(ex);
    if (wt && wt.startedAt === undefined && wt.stickyQueue) {
      wt.stickyQueue = undefined;
      wt.stamp = ++ex.s.stampSeq;
      this.afterCommit(() => this.dispatchWorkflowTask(ex));
    }
    this.commitInBackground();
  }

  usableWorkflowItem(item: WorkflowQueueItem): boolean {
    if (item.kind === 'query') {
      const q = this.queries.get(item.id);
      return q !== undefined;
    }
    const ex = this.runs.get(item.runKey);
    return !!ex && ex.open && !!ex.s.wt && ex.s.wt.stamp === item.stamp && ex.s.wt.startedAt === undefined;
  }

  /** Marks the task started and builds the poll response. */
  async startWorkflowTask(
    item: Extract<WorkflowQueueItem, { kind: 'task' }>,
    identity: string,
  ): Promise<Record<string, unknown> | undefined> {
    const ex = this.runs.get(item.runKey);
    if (!ex || !this.usableWorkflowItem(item)) return undefined;
    const s = ex.s;
    const wt = s.wt as NonNullable<ExecutionState['wt']>;
    const now = this.now();
    wt.startedAt = now;
    wt.identity = identity;
    wt.requestId = randomUUID();
    wt.stamp = ++s.stampSeq;
    let transientEvents: HistoryEvent[] = [];
    if (wt.transient) {
      wt.scheduledEventId = s.nextEventId;
      wt.startedEventId = s.nextEventId + 1;
      transientEvents = this.workflowTaskEvents(ex, wt, s.nextEventId);
    } else {
      const started = this.append(ex, ET.EVENT_TYPE_WORKFLOW_TASK_STARTED, {
        scheduledEventId: wt.scheduledEventId,
        identity,
        requestId: wt.requestId,
        historySizeBytes: s.historyBytes,
      });
      wt.startedEventId = Number(started.eventId);
    }
    this.touch(ex);
    this.armWorkflowTaskTimeout(ex, wt.stamp, now + s.taskTimeoutMs);
    await this.commit();
    const all = await this.history(ex);
    const sticky = wt.stickyQueue !== undefined;
    const since = sticky ? s.lastCompletedStartedEventId : 0;
    const events = [...all.filter((e) => Number(e.eventId) > since), ...transientEvents];
    return {
      taskToken: encodeToken({ k: 'wt', r: ex.key, s: wt.stamp }),
      workflowExecution: { workflowId: s.workflowId, runId: s.runId },
      workflowType: { name: s.workflowType },
      previousStartedEventId: s.lastCompletedStartedEventId,
      startedEventId: wt.startedEventId,
      attempt: wt.attempt,
      backlogCountHint: 0,
      history: { events },
      workflowExecutionTaskQueue: { name: s.taskQueue, kind: TQK.TASK_QUEUE_KIND_NORMAL },
      scheduledTime: msTs(wt.scheduledAt),
      startedTime: msTs(now),
      queries: {},
      messages: updateMessages(ex, wt.stamp, wt.startedEventId ?? 0),
    };
  }

  /** The scheduled + started events of a transient (retried) workflow task, numbered from `firstId`. */
  private workflowTaskEvents(ex: Execution, wt: NonNullable<ExecutionState['wt']>, firstId: number): HistoryEvent[] {
    const scheduled = this.makeEvent(
      ex,
      ET.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      { taskQueue: this.taskQueueOf(ex, wt.stickyQueue), startToCloseTimeout: msDur(ex.s.taskTimeoutMs), attempt: wt.attempt },
      firstId,
    );
    const started = this.makeEvent(
      ex,
      ET.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      { scheduledEventId: firstId, identity: wt.identity, requestId: wt.requestId, historySizeBytes: ex.s.historyBytes },
      firstId + 1,
    );
    return [scheduled, started];
  }

  /** Writes a transient task's scheduled/started events for real (when it completes). */
  materializeTransient(ex: Execution): void {
    const wt = ex.s.wt;
    if (!wt || !wt.transient) return;
    const [scheduled, started] = this.workflowTaskEvents(ex, wt, ex.s.nextEventId);
    this.place(ex, scheduled);
    this.place(ex, started);
    wt.transient = false;
  }

  armWorkflowTaskTimeout(ex: Execution, stamp: number, at: number): void {
    this.timers.add(at, () => {
      const wt = ex.s.wt;
      if (!ex.open || !wt || wt.stamp !== stamp || wt.startedAt === undefined) return;
      this.failWorkflowTask(ex, 'timeout');
      this.commitInBackground();
    });
  }

  /** Looks up the running workflow task a token names; NOT_FOUND when it is gone (the task timed out, the run closed). */
  workflowTaskFor(token: Uint8Array | null | undefined): Execution {
    const t = decodeToken(token);
    if (t.k !== 'wt') throw invalid('task token is not a workflow task token');
    const ex = this.runs.get(t.r);
    if (!ex || !ex.open || !ex.s.wt || ex.s.wt.stamp !== t.s || ex.s.wt.startedAt === undefined) {
      throw notFound('Workflow task not found.');
    }
    return ex;
  }

  /**
   * Ends the running workflow task without completing it: a worker's failure report, a timeout, or commands the
   * server refuses. The next attempt is transient (not written to history until it completes).
   */
  failWorkflowTask(
    ex: Execution,
    reason: 'timeout' | 'failed',
    detail: { cause?: number; failure?: Failure | null; identity?: string } = {},
  ): void {
    const wt = ex.s.wt;
    if (!wt) return;
    if (!wt.transient) {
      if (reason === 'timeout') {
        this.append(ex, ET.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, {
          scheduledEventId: wt.scheduledEventId,
          startedEventId: wt.startedEventId,
          timeoutType: api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
        });
      } else {
        this.append(ex, ET.EVENT_TYPE_WORKFLOW_TASK_FAILED, {
          scheduledEventId: wt.scheduledEventId,
          startedEventId: wt.startedEventId,
          cause: detail.cause ?? WFC.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED,
          failure: detail.failure ?? undefined,
          identity: detail.identity ?? '',
        });
      }
    }
    const attempt = wt.attempt + 1;
    ex.s.wt = undefined;
    ex.s.sticky = undefined;
    const flushed = this.flushBuffered(ex);
    this.touch(ex);
    // A new event resets the attempt count, as the workflow now has something new to process.
    const next = flushed > 0 ? 1 : attempt;
    const delay = next <= 2 ? 0 : Math.min(1000 * 2 ** (next - 3), 60_000);
    if (delay === 0) this.scheduleWorkflowTask(ex, next);
    else {
      const stampAtFailure = ex.s.stampSeq;
      this.timers.add(this.now() + delay, () => {
        if (!ex.open || ex.s.wt || ex.s.stampSeq !== stampAtFailure) {
          if (ex.open && !ex.s.wt) this.scheduleWorkflowTask(ex, next);
          this.commitInBackground();
          return;
        }
        this.scheduleWorkflowTask(ex, next);
        this.commitInBackground();
      });
    }
    this.afterCommit(() => this.dispatchQueries(ex));
  }

  // ---------------------------------------------------------------- closing

  /** Closes a run with its final event, applies parent close policies, tells the parent, and wakes waiters. */
  close(ex: Execution, status: number, eventType: number, attrs: Record<string, unknown>): HistoryEvent {
    const s = ex.s;
    const wt = s.wt;
    if (wt && wt.startedAt !== undefined && !wt.transient) {
      this.append(ex, ET.EVENT_TYPE_WORKFLOW_TASK_FAILED, {
        scheduledEventId: wt.scheduledEventId,
        startedEventId: wt.startedEventId,
        cause: WFC.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
        identity: 'lastmile-devserver',
      });
    }
    s.wt = undefined;
    this.flushBuffered(ex);
    const closeEvent = this.append(ex, eventType, attrs);
    s.status = status;
    s.closeTime = this.now();
    s.closeEventId = Number(closeEvent.eventId);
    s.activities = {};
    s.timers = {};
    s.sticky = undefined;
    const children = Object.values(s.children);
    s.children = {};
    this.touch(ex);
    for (const child of children) {
      const target = child.runId ? this.runs.get(runKey(child.namespace, child.runId)) : undefined;
      const live = target ? this.current.get(workflowKey(target.s.namespace, target.s.workflowId)) : undefined;
      if (!live || !live.open || live.s.parent?.runId !== s.runId) continue;
      if (child.parentClosePolicy === PCP.PARENT_CLOSE_POLICY_ABANDON) continue;
      if (child.parentClosePolicy === PCP.PARENT_CLOSE_POLICY_REQUEST_CANCEL) {
        this.requestCancel(live, { reason: 'by parent close policy', identity: 'lastmile-devserver' });
      } else {
        this.terminate(live, 'by parent close policy', undefined, 'lastmile-devserver');
      }
    }
    if (s.parent && !s.nextRunId) this.notifyParent(ex, status, attrs);
    const closeTime = s.closeTime;
    this.afterCommit(() => {
      ex.notifyHistory();
      for (const watcher of ex.closeWatchers.splice(0)) watcher(status, closeTime);
      ex.notifyUpdates();
      for (const id of ex.pendingQueries) this.dispatchQuery(id);
      this.retainClosed(ex);
    });
    return closeEvent;
  }

  private retainClosed(ex: Execution): void {
    this.closedWithEvents.push(ex);
    while (this.closedWithEvents.length > 500) {
      const old = this.closedWithEvents.shift() as Execution;
      if (!old.open && old.historyWaiters.size === 0) old.events = undefined;
    }
  }

  private notifyParent(ex: Execution, status: number, attrs: Record<string, unknown>): void {
    const parentRef = ex.s.parent as ParentRef;
    const parent = this.runs.get(runKey(parentRef.namespace, parentRef.runId));
    if (!parent || !parent.open) return;
    const child = parent.s.children[String(parentRef.initiatedEventId)];
    if (!child) return;
    delete parent.s.children[String(parentRef.initiatedEventId)];
    this.touch(parent);
    const common = {
      namespace: ex.s.namespace,
      workflowExecution: { workflowId: ex.s.workflowId, runId: ex.s.runId },
      workflowType: { name: ex.s.workflowType },
      initiatedEventId: parentRef.initiatedEventId,
      startedEventId: child.startedEventId,
    };
    switch (status) {
      case ES.WORKFLOW_EXECUTION_STATUS_COMPLETED:
        this.deliver(parent, ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED, { ...common, result: attrs.result });
        break;
      case ES.WORKFLOW_EXECUTION_STATUS_FAILED:
        this.deliver(parent, ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED, {
          ...common,
          failure: attrs.failure,
          retryState: attrs.retryState,
        });
        break;
      case ES.WORKFLOW_EXECUTION_STATUS_CANCELED:
        this.deliver(parent, ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED, { ...common, details: attrs.details });
        break;
      case ES.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
        this.deliver(parent, ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT, { ...common, retryState: attrs.retryState });
        break;
      case ES.WORKFLOW_EXECUTION_STATUS_TERMINATED:
        this.deliver(parent, ET.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED, common);
        break;
      default:
        break;
    }
  }

  terminate(ex: Execution, reason: string, details: Payloads | null | undefined, identity: string): void {
    if (!ex.open) return;
    this.close(ex, ES.WORKFLOW_EXECUTION_STATUS_TERMINATED, ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, {
      reason,
      details: details ?? undefined,
      identity,
    });
  }

  requestCancel(
    ex: Execution,
    o: { reason?: string; identity?: string; external?: { initiatedEventId: number; workflowId: string; runId: string } },
  ): void {
    if (!ex.open || ex.s.cancelRequested) return;
    ex.s.cancelRequested = true;
    this.touch(ex);
    this.deliver(ex, ET.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, {
      cause: o.reason ?? '',
      identity: o.identity ?? '',
      externalInitiatedEventId: o.external?.initiatedEventId,
      externalWorkflowExecution: o.external ? { workflowId: o.external.workflowId, runId: o.external.runId } : undefined,
    });
  }

  signal(
    ex: Execution,
    o: { name: string; input?: Payloads | null; header?: unknown; identity?: string; requestId?: string; external?: boolean },
  ): void {
    if (o.requestId) {
      if (ex.s.signalRequestIds.includes(o.requestId)) return;
      ex.s.signalRequestIds.push(o.requestId);
      if (ex.s.signalRequestIds.length > 100) ex.s.signalRequestIds.shift();
    }
    this.deliver(ex, ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, {
      signalName: o.name,
      input: o.input ?? undefined,
      identity: o.identity ?? '',
      header: o.header ?? undefined,
    });
  }

  /** Run or execution timeout: the run times out; a retry policy may start the next run. */
  private timeoutRun(ex: Execution): void {
    const now = this.now();
    const executionExpired = ex.s.executionExpiresAt > 0 && now >= ex.s.executionExpiresAt;
    const policy = unpack(api.common.v1.RetryPolicy, ex.s.retryPolicy);
    const decision = executionExpired
      ? { retry: false, delayMs: 0, state: RS.RETRY_STATE_TIMEOUT }
      : decideRetry(policy, ex.s.attempt, undefined, now, ex.s.executionExpiresAt);
    const next = decision.retry ? this.prepareNextRun(ex) : undefined;
    const cron = next || executionExpired ? undefined : cronContinuation(this, ex);
    this.close(ex, ES.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, ET.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, {
      retryState: decision.retry ? RS.RETRY_STATE_IN_PROGRESS : decision.retry === false && policy ? decision.state : RS.RETRY_STATE_TIMEOUT,
      newExecutionRunId: next?.runId ?? cron?.runId,
    });
    cron?.start({ failure: api.failure.v1.Failure.fromObject({ message: 'workflow run timed out', timeoutFailureInfo: { timeoutType: api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE } }) });
    if (next) {
      const failure = api.failure.v1.Failure.fromObject({
        message: 'workflow run timed out',
        timeoutFailureInfo: { timeoutType: api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE },
      });
      next.start({ attempt: ex.s.attempt + 1, delayMs: decision.delayMs, failure, initiator: api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY });
    }
  }

  /**
   * Reserves the id of the run that follows `ex` (retry, continue-as-new) so the close event can name it; `start`
   * creates it from the first event of `ex` plus overrides.
   */
  prepareNextRun(ex: Execution): {
    runId: string;
    start: (o: {
      attempt: number;
      delayMs: number;
      failure?: Failure | null;
      lastCompletionResult?: Payloads | null;
      initiator: number;
      overrides?: Partial<StartOptions>;
    }) => Execution;
  } {
    const runId = randomUUID();
    ex.s.nextRunId = runId;
    const first = (ex.events ?? [])[0];
    const started = first?.workflowExecutionStartedEventAttributes;
    return {
      runId,
      start: (o) => {
        const memo = unpack(api.common.v1.Memo, ex.s.memo);
        const attrs = new Map<string, Payload | null>(Object.entries(this.searchAttributePayloads(ex)));
        const next = this.startRun({
          namespace: ex.s.namespace,
          workflowId: ex.s.workflowId,
          workflowType: ex.s.workflowType,
          taskQueue: ex.s.taskQueue,
          input: started?.input as Payloads | null,
          header: started?.header,
          memo,
          searchAttributes: attrs,
          runTimeoutMs: ex.s.runTimeoutMs,
          executionTimeoutMs: ex.s.executionTimeoutMs,
          taskTimeoutMs: ex.s.taskTimeoutMs,
          executionExpiresAt: ex.s.executionExpiresAt,
          retryPolicy: unpack(api.common.v1.RetryPolicy, ex.s.retryPolicy),
          attempt: o.attempt,
          parent: ex.s.parent,
          firstTaskDelayMs: o.delayMs,
          identity: 'lastmile-devserver',
          requestId: '',
          firstRunId: ex.s.firstRunId,
          continuedExecutionRunId: ex.s.runId,
          continuedFailure: o.failure,
          lastCompletionResult: o.lastCompletionResult,
          initiator: o.initiator,
          cronSchedule: ex.s.cronSchedule,
          ...o.overrides,
          runId,
        });
        if (ex.s.parent) {
          const parent = this.runs.get(runKey(ex.s.parent.namespace, ex.s.parent.runId));
          const child = parent?.s.children[String(ex.s.parent.initiatedEventId)];
          if (parent && child) {
            child.runId = runId;
            this.touch(parent);
          }
        }
        return next;
      },
    };
  }

  // ---------------------------------------------------------------- queries

  /** Queries run as "legacy query tasks" once no workflow task is outstanding for the run. */
  enqueueQuery(ex: Execution, query: PendingQuery): void {
    this.queries.set(query.id, query);
    ex.pendingQueries.push(query.id);
    this.dispatchQueries(ex);
  }

  dispatchQueries(ex: Execution): void {
    if (ex.open && (ex.s.wt || ex.s.lastCompletedStartedEventId === 0)) return;
    for (const id of ex.pendingQueries) this.dispatchQuery(id);
  }

  private dispatchQuery(id: string): void {
    const q = this.queries.get(id);
    if (!q || q.dispatched) return;
    const ex = this.runs.get(q.runKey);
    if (!ex) return;
    q.dispatched = true;
    this.workflowQueues.push(queueKey(ex.s.namespace, ex.s.taskQueue), { kind: 'query', id });
  }

  forgetQuery(id: string): void {
    const q = this.queries.get(id);
    if (!q) return;
    this.queries.delete(id);
    const ex = this.runs.get(q.runKey);
    if (ex) ex.pendingQueries = ex.pendingQueries.filter((p) => p !== id);
  }

  async queryTaskResponse(
    id: string,
  ): Promise<Record<string, unknown> | undefined> {
    const q = this.queries.get(id);
    const ex = q ? this.runs.get(q.runKey) : undefined;
    if (!q || !ex) return undefined;
    const events = await this.history(ex);
    const last = ex.s.lastCompletedStartedEventId;
    return {
      taskToken: encodeToken({ k: 'q', q: id }),
      workflowExecution: { workflowId: ex.s.workflowId, runId: ex.s.runId },
      workflowType: { name: ex.s.workflowType },
      previousStartedEventId: last,
      startedEventId: last,
      attempt: 1,
      history: { events },
      query: q.query,
      workflowExecutionTaskQueue: { name: ex.s.taskQueue, kind: TQK.TASK_QUEUE_KIND_NORMAL },
      scheduledTime: msTs(this.now()),
      startedTime: msTs(this.now()),
    };
  }

  // ---------------------------------------------------------------- visibility

  visibilityRecord(ex: Execution): VisibilityRecord {
    if (!ex.visibilityCache) {
      const registry = this.queryableAttributes(ex.s.namespace);
      const decoded: Record<string, unknown> = {};
      for (const [name, payload] of Object.entries(this.searchAttributePayloads(ex))) {
        const value = visibilityValue(registry.get(name), payload);
        if (value !== undefined) decoded[name] = value;
      }
      ex.visibilityCache = decoded;
    }
    return {
      workflowId: ex.s.workflowId,
      runId: ex.s.runId,
      workflowType: ex.s.workflowType,
      status: STATUS_NAMES[ex.s.status] ?? 'Running',
      startTime: new Date(ex.s.startTime),
      executionTime: new Date(ex.s.executionTime),
      closeTime: ex.s.closeTime !== undefined ? new Date(ex.s.closeTime) : undefined,
      taskQueue: ex.s.taskQueue,
      searchAttributes: ex.visibilityCache,
    };
  }

  executionInfo(ex: Execution): Record<string, unknown> {
    const s = ex.s;
    const attrs = this.searchAttributePayloads(ex);
    return {
      execution: { workflowId: s.workflowId, runId: s.runId },
      type: { name: s.workflowType },
      startTime: msTs(s.startTime),
      closeTime: s.closeTime !== undefined ? msTs(s.closeTime) : undefined,
      status: s.status,
      historyLength: s.nextEventId - 1,
      parentNamespaceId: s.parent ? this.namespaces.get(s.parent.namespace)?.id : undefined,
      parentExecution: s.parent ? { workflowId: s.parent.workflowId, runId: s.parent.runId } : undefined,
      executionTime: msTs(s.executionTime),
      memo: unpack(api.common.v1.Memo, s.memo) ?? { fields: {} },
      searchAttributes: { indexedFields: attrs },
      taskQueue: s.taskQueue,
      stateTransitionCount: s.stampSeq,
      historySizeBytes: s.historyBytes,
      firstRunId: s.firstRunId,
      executionDuration: s.closeTime !== undefined ? msDur(s.closeTime - s.executionTime) : undefined,
    };
  }

  stop(): void {
    this.timers.stop();
    for (const q of this.queries.values()) q.reject(new RpcError(14, 'the devserver is shutting down'));
    this.queries.clear();
  }

}

function isNewer(a: Execution, b: Execution): boolean {
  if (a.open !== b.open) return a.open;
  return a.s.startTime > b.s.startTime;
}

export function queueKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}

export const STATUS_NAMES: Record<number, VisibilityRecord['status']> = {
  [ES.WORKFLOW_EXECUTION_STATUS_RUNNING]: 'Running',
  [ES.WORKFLOW_EXECUTION_STATUS_COMPLETED]: 'Completed',
  [ES.WORKFLOW_EXECUTION_STATUS_FAILED]: 'Failed',
  [ES.WORKFLOW_EXECUTION_STATUS_CANCELED]: 'Canceled',
  [ES.WORKFLOW_EXECUTION_STATUS_TERMINATED]: 'Terminated',
  [ES.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW]: 'ContinuedAsNew',
  [ES.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]: 'TimedOut',
};

// ---------------------------------------------------------------- task tokens

export type Token = { k: 'wt'; r: string; s: number } | { k: 'q'; q: string } | { k: 'act'; r: string; e: number; s: number };

export function encodeToken(token: Token): Buffer {
  return Buffer.from(JSON.stringify(token));
}

export function decodeToken(bytes: Uint8Array | null | undefined): Token {
  try {
    const parsed = JSON.parse(Buffer.from(bytes ?? []).toString()) as Token;
    if (parsed && typeof parsed === 'object' && typeof parsed.k === 'string') return parsed;
  } catch {
    // fall through
  }
  throw invalid('task token is malformed');
}


/** History event type → the name of its attributes field. */
const ATTRIBUTE_FIELDS: Record<number, string> = (() => {
  const map: Record<number, string> = {};
  for (const [name, value] of Object.entries(ET)) {
    if (typeof value !== 'number' || name === 'EVENT_TYPE_UNSPECIFIED') continue;
    const camel = name
      .replace(/^EVENT_TYPE_/, '')
      .toLowerCase()
      .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    map[value] = `${camel}EventAttributes`;
  }
  return map;
})();


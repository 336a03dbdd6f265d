/**
 * Temporal Schedules for the devserver: CreateSchedule, DescribeSchedule, UpdateSchedule,
 * PatchSchedule, DeleteSchedule, ListSchedules, CountSchedules and ListScheduleMatchingTimes,
 * plus the scheduler that takes the actions.
 *
 * Model (semantics from the docs of `temporal.api.schedule.v1` and Temporal's Schedule docs):
 *
 * - Each schedule keeps `lastNominalMs`: every spec time <= it has been considered. When the
 *   clock passes the jittered time of the next spec time, that time is "due": it is dropped if
 *   the schedule is paused (or out of remaining actions), counted in `missed_catchup_window`
 *   if it is older than the catch-up window (default 365 days, never less than 10 s), and
 *   otherwise admitted to the buffer according to the overlap policy. Starts from
 *   trigger-immediately and backfill are admitted the same way with their own overlap policy
 *   (default: the schedule's) and are "manual": exempt from pause and from the
 *   remaining-actions limit, and not counted against it.
 * - Admission while another start is running or pending:
 *     SKIP: dropped (overlap_skipped). BUFFER_ONE: kept if nothing else is waiting, else dropped.
 *     BUFFER_ALL: kept (up to MAX_BUFFER, then buffer_dropped). CANCEL_OTHER / TERMINATE_OTHER:
 *     replace whatever is waiting (the replaced ones count as overlap_skipped).
 *     ALLOW_ALL: always kept, and started at once.
 * - Processing the buffer (in order): a start runs when nothing started by the schedule is
 *   running; otherwise TERMINATE_OTHER terminates the running workflows and starts,
 *   CANCEL_OTHER requests their cancellation and waits for them to close, the rest wait.
 * - A start is StartWorkflowExecution with id `<workflowId>-<nominal time, RFC 3339, seconds>`
 *   (or the plain id with `keep_original_workflow_id`), the action's memo and search
 *   attributes plus `TemporalScheduledById` (Keyword) and `TemporalScheduledStartTime`
 *   (Datetime, the nominal time), a request id derived from the schedule and the start's
 *   sequence number (so a start retried after a crash is deduplicated by the engine), and the
 *   previous run's completion result / failure when the host reports them.
 * - Persistence: every state change is saved with `host.saveSchedule` before the RPC that
 *   caused it returns; due starts are saved in the buffer before they are attempted and the
 *   results are saved after, so after a restart (`load`) a schedule neither repeats an action
 *   nor loses one: spec times passed while the server was down are taken once if they are
 *   still inside the catch-up window.
 *
 * Time: the service reads the clock only through `host.now()`. With the default
 * `{ timers: true }` it keeps one unref'ed setTimeout per schedule, armed for its next due
 * time (or a retry). With `{ timers: false }` nothing happens on its own: call `runDue()` to
 * process everything that is due at `host.now()` (tests drive time that way), and `idle()`
 * to wait until work triggered by workflow closes has finished.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { temporal } from '@temporalio/proto';
import { RpcError, invalid, failedPrecondition, notFound } from '../errors.js';
import { api, decodePayloadValue, durMs, toNum, tsMs } from '../proto.js';
import { ListFilterError, parseListFilter, type SearchAttributeType, type VisibilityRecord } from '../visibility/query.js';
import { canonicalizeSpec, compileCanonical } from './canonical.js';
import { pbDuration, pbLong, pbTimestamp } from './pb.js';
import { ScheduleSpecError, type CompiledSpec } from '../../calendar/index.js';
import {
  MAX_BUFFER,
  MAX_RECENT_ACTIONS,
  Overlap,
  STATE_VERSION,
  decodeConflictToken,
  derivedUuid,
  encodeConflictToken,
  packFailure,
  packMemo,
  packPayloads,
  packSchedule,
  packSearchAttributes,
  parseState,
  serializeState,
  unpackFailure,
  unpackMemo,
  unpackPayloads,
  unpackSchedule,
  unpackSearchAttributes,
  type BufferedStart,
  type PersistedSchedule,
  type ScheduleMsg,
} from './state.js';


/** Request / response shapes of the RPCs (requests may be decoded messages or plain objects). */
export type CreateScheduleRequest = temporal.api.workflowservice.v1.CreateScheduleRequest.$Properties;
export type CreateScheduleResponse = temporal.api.workflowservice.v1.CreateScheduleResponse.$Properties;
export type DescribeScheduleRequest = temporal.api.workflowservice.v1.DescribeScheduleRequest.$Properties;
export type DescribeScheduleResponse = temporal.api.workflowservice.v1.DescribeScheduleResponse.$Properties;
export type UpdateScheduleRequest = temporal.api.workflowservice.v1.UpdateScheduleRequest.$Properties;
export type UpdateScheduleResponse = temporal.api.workflowservice.v1.UpdateScheduleResponse.$Properties;
export type PatchScheduleRequest = temporal.api.workflowservice.v1.PatchScheduleRequest.$Properties;
export type PatchScheduleResponse = temporal.api.workflowservice.v1.PatchScheduleResponse.$Properties;
export type DeleteScheduleRequest = temporal.api.workflowservice.v1.DeleteScheduleRequest.$Properties;
export type DeleteScheduleResponse = temporal.api.workflowservice.v1.DeleteScheduleResponse.$Properties;
export type ListSchedulesRequest = temporal.api.workflowservice.v1.ListSchedulesRequest.$Properties;
export type ListSchedulesResponse = temporal.api.workflowservice.v1.ListSchedulesResponse.$Properties;
export type CountSchedulesRequest = temporal.api.workflowservice.v1.CountSchedulesRequest.$Properties;
export type CountSchedulesResponse = temporal.api.workflowservice.v1.CountSchedulesResponse.$Properties;
export type ListScheduleMatchingTimesRequest = temporal.api.workflowservice.v1.ListScheduleMatchingTimesRequest.$Properties;
export type ListScheduleMatchingTimesResponse = temporal.api.workflowservice.v1.ListScheduleMatchingTimesResponse.$Properties;

export type StartWorkflowRequest = temporal.api.workflowservice.v1.StartWorkflowExecutionRequest.$Properties;
export type SearchAttributesProps = temporal.api.common.v1.SearchAttributes.$Properties;

/** What the host may report about a closed run, besides its status (both optional). */
export interface CloseOutcome {
  /** completion result of a COMPLETED run; passed to the next start as last_completion_result */
  result?: temporal.api.common.v1.Payloads.$Properties | null;
  /** failure of a FAILED / TIMED_OUT run; passed to the next start as continued_failure */
  failure?: temporal.api.failure.v1.Failure.$Properties | null;
}

export interface ScheduleHost {
  /** ms since epoch */
  now(): number;
  /** throws namespaceNotFound */
  assertNamespace(namespace: string): void;
  /** starts a workflow like StartWorkflowExecution would; rejects with RpcError code ALREADY_EXISTS if the id is taken */
  startWorkflow(namespace: string, request: StartWorkflowRequest): Promise<{ runId: string }>;
  /**
   * Calls back once when that run closes (at once if already closed) with its
   * WorkflowExecutionStatus number. Should follow continue-as-new / retry chains and report the
   * close of the chain (the schedule's "running workflow" is the chain). `outcome` is optional.
   */
  watchClose(
    namespace: string,
    workflowId: string,
    runId: string,
    onClose: (status: number, closeTimeMs: number, outcome?: CloseOutcome) => void,
  ): void;
  terminate(namespace: string, workflowId: string, runId: string, reason: string): Promise<void>;
  requestCancel(namespace: string, workflowId: string, runId: string, reason: string): Promise<void>;
  /** durably saves (or, with null, deletes) a schedule's JSON state; resolves after commit */
  saveSchedule(namespace: string, scheduleId: string, state: string | null): Promise<void>;
  /** validates search attributes as StartWorkflowExecution would; throws RpcError INVALID_ARGUMENT naming the bad one */
  validateSearchAttributes(namespace: string, attributes: SearchAttributesProps | null | undefined): void;
  /** Optional: registered custom search attribute types, used to type ListSchedules queries. */
  searchAttributeTypes?(namespace: string): ReadonlyMap<string, SearchAttributeType>;
}

export interface ScheduleServiceOptions {
  /** Arm a timer per schedule (default true). With false, call runDue() to make time pass. */
  timers?: boolean;
  /** Delay before retrying a start that failed with a transient error (default 1000 ms, times the attempt). */
  retryDelayMs?: number;
}

export interface StoredScheduleRow {
  namespace: string;
  scheduleId: string;
  state: string;
}

/** ListSchedules pages by schedule id: the token is this prefix plus the last id of the previous page. */
const PAGE_TOKEN_PREFIX = 'schedules-after:';

export const DEFAULT_CATCHUP_WINDOW_MS = 365 * 24 * 3600 * 1000;
export const MIN_CATCHUP_WINDOW_MS = 10_000;
/** Futures / matching times / backfill sizes. */
export const FUTURE_ACTION_TIMES = 10;
export const MAX_MATCHING_TIMES = 1000;
export const MAX_BACKFILL_STARTS = 10_000;
const MAX_START_ATTEMPTS = 5;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const Status = api.enums.v1.WorkflowExecutionStatus;
const PERMANENT_START_ERRORS = new Set<number>([
  GrpcStatus.ALREADY_EXISTS,
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.NOT_FOUND,
  GrpcStatus.FAILED_PRECONDITION,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNIMPLEMENTED,
]);

interface Sched {
  namespace: string;
  id: string;
  state: PersistedSchedule;
  /** canonical schedule; state.schedule is its packed form as of the last save */
  schedule: ScheduleMsg;
  compiled: CompiledSpec;
  timer?: NodeJS.Timeout;
  chain: Promise<void>;
  deleted: boolean;
  retryAtMs?: number;
}

type ValidSchedule = { schedule: temporal.api.schedule.v1.Schedule.$Properties; compiled: CompiledSpec };

const key = (namespace: string, id: string): string => `${namespace}\u0000${id}`;

/** RFC 3339 in UTC with whole seconds, as the real server appends to workflow ids. */
export function rfc3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function typedPayload(value: unknown, type: string): temporal.api.common.v1.Payload.$Properties {
  return {
    metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from(type) },
    data: Buffer.from(JSON.stringify(value)),
  };
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function validOverlap(value: number | null | undefined, field: string): number {
  const v = value ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) {
    throw invalid(`${field}: unknown overlap policy ${String(v)}`);
  }
  return v;
}

function bytesOf(b: Uint8Array | string | null | undefined): Uint8Array {
  if (!b) return new Uint8Array();
  return typeof b === 'string' ? Buffer.from(b, 'base64') : b;
}

export class ScheduleService {
  private readonly schedules = new Map<string, Sched>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly timers: boolean;
  private readonly retryDelayMs: number;
  private stopped = false;

  constructor(
    private readonly host: ScheduleHost,
    private readonly log: (line: string) => void,
    options: ScheduleServiceOptions = {},
  ) {
    this.timers = options.timers ?? true;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
  }

  // ---------------------------------------------------------------------------------------
  // lifecycle

  /** Restores persisted schedules at server start; re-arms timers and re-watches running workflows. */
  load(rows: StoredScheduleRow[]): void {
    for (const row of rows) {
      let sched: Sched;
      try {
        const state = parseState(row.state);
        const schedule = unpackSchedule(state.schedule);
        sched = {
          namespace: row.namespace,
          id: row.scheduleId,
          state,
          schedule,
          compiled: compileCanonical(schedule.spec ?? {}),
          chain: Promise.resolve(),
          deleted: false,
        };
      } catch (e) {
        this.log(`schedule ${row.namespace}/${row.scheduleId}: cannot load saved state, skipped: ${errorMessage(e)}`);
        continue;
      }
      this.schedules.set(key(sched.namespace, sched.id), sched);
      if (sched.state.buffer.length > 0) sched.retryAtMs = this.host.now();
      for (const r of sched.state.running) this.watch(sched, r.workflowId, r.runId);
      this.arm(sched);
    }
  }

  /** Clears all timers; later workflow-close notifications are ignored. */
  stop(): void {
    this.stopped = true;
    for (const s of this.schedules.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
    }
  }

  /** Processes every schedule as of host.now(): takes due actions, retries failed starts. */
  async runDue(): Promise<void> {
    await Promise.all([...this.schedules.values()].map((s) => this.locked(s, () => this.tick(s))));
    await this.idle();
  }

  /** Resolves when no schedule has work queued (e.g. reactions to workflow closes). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  // ---------------------------------------------------------------------------------------
  // RPCs

  async createSchedule(req: CreateScheduleRequest): Promise<CreateScheduleResponse> {
    const namespace = req.namespace ?? '';
    this.host.assertNamespace(namespace);
    const id = req.scheduleId ?? '';
    if (id === '') throw invalid('schedule_id is required');
    const existing = this.schedules.get(key(namespace, id));
    if (existing) {
      if (req.requestId && existing.state.createRequestId === req.requestId) {
        return { conflictToken: encodeConflictToken(existing.state.conflictToken) };
      }
      throw this.alreadyExists(existing);
    }
    const { schedule, compiled } = this.validateSchedule(namespace, req.schedule);
    this.host.validateSearchAttributes(namespace, req.searchAttributes);
    const patch = req.initialPatch ?? undefined;
    if (patch) this.validatePatch(patch);

    const now = this.host.now();
    const state: PersistedSchedule = {
      v: STATE_VERSION,
      schedule: packSchedule(schedule),
      memo: packMemo(req.memo),
      searchAttributes: packSearchAttributes(req.searchAttributes),
      createRequestId: req.requestId || undefined,
      schedulerRunId: derivedUuid('scheduler', namespace, id, now, req.requestId ?? ''),
      createTimeMs: now,
      conflictToken: 1,
      lastNominalMs: now,
      startSeq: 0,
      actionCount: 0,
      missedCatchupWindow: 0,
      overlapSkipped: 0,
      bufferDropped: 0,
      buffer: [],
      running: [],
      recent: [],
    };
    const s: Sched = {
      namespace,
      id,
      state,
      schedule: unpackSchedule(state.schedule),
      compiled,
      chain: Promise.resolve(),
      deleted: false,
    };
    // Reserve the id before the first await so a concurrent create sees it.
    this.schedules.set(key(namespace, id), s);
    try {
      await this.locked(s, async () => {
        if (patch) this.applyPatch(s, patch, now);
        await this.persist(s);
      });
    } catch (e) {
      this.schedules.delete(key(namespace, id));
      s.deleted = true;
      throw e;
    }
    this.log(`schedule ${namespace}/${id}: created`);
    await this.locked(s, async () => {
      await this.afterChange(s, false);
    });
    return { conflictToken: encodeConflictToken(s.state.conflictToken) };
  }

  async describeSchedule(req: DescribeScheduleRequest): Promise<DescribeScheduleResponse> {
    const s = this.get(req.namespace, req.scheduleId);
    const st = s.state;
    const sch = s.schedule;
    return {
      schedule: { spec: sch.spec, action: sch.action, policies: sch.policies, state: sch.state },
      info: {
        actionCount: pbLong(st.actionCount),
        missedCatchupWindow: pbLong(st.missedCatchupWindow),
        overlapSkipped: pbLong(st.overlapSkipped),
        bufferDropped: pbLong(st.bufferDropped),
        bufferSize: pbLong(st.buffer.length),
        runningWorkflows: st.running.map((r) => ({ workflowId: r.workflowId, runId: r.runId })),
        recentActions: this.recentActions(s),
        futureActionTimes: this.futureActionTimes(s, FUTURE_ACTION_TIMES).map(pbTimestamp),
        createTime: pbTimestamp(st.createTimeMs),
        ...(st.updateTimeMs !== undefined ? { updateTime: pbTimestamp(st.updateTimeMs) } : {}),
      },
      memo: unpackMemo(st.memo) ?? null,
      searchAttributes: unpackSearchAttributes(st.searchAttributes) ?? null,
      conflictToken: encodeConflictToken(st.conflictToken),
    };
  }

  async updateSchedule(req: UpdateScheduleRequest): Promise<UpdateScheduleResponse> {
    const s = this.get(req.namespace, req.scheduleId);
    const { schedule, compiled } = this.validateSchedule(s.namespace, req.schedule);
    if (req.searchAttributes) this.host.validateSearchAttributes(s.namespace, req.searchAttributes);
    const token = bytesOf(req.conflictToken);
    await this.locked(s, async () => {
      this.assertLive(s);
      if (token.length > 0 && decodeConflictToken(token) !== s.state.conflictToken) {
        throw failedPrecondition('mismatched conflict token: the schedule was modified since it was described');
      }
      await this.mutate(s, (now) => {
        this.advance(s, now);
        s.schedule = unpackSchedule(packSchedule(schedule));
        s.compiled = compiled;
        // The new spec applies from now on: its earlier times are not "missed".
        s.state.lastNominalMs = Math.max(s.state.lastNominalMs, now);
        if (req.memo) s.state.memo = packMemo(req.memo);
        if (req.searchAttributes) s.state.searchAttributes = packSearchAttributes(req.searchAttributes);
        s.state.conflictToken++;
        s.state.updateTimeMs = now;
      });
      this.log(`schedule ${s.namespace}/${s.id}: updated`);
      await this.afterChange(s, false);
    });
    return {};
  }

  async patchSchedule(req: PatchScheduleRequest): Promise<PatchScheduleResponse> {
    const s = this.get(req.namespace, req.scheduleId);
    const patch = req.patch ?? {};
    this.validatePatch(patch);
    await this.locked(s, async () => {
      this.assertLive(s);
      await this.mutate(s, (now) => {
        this.advance(s, now);
        this.applyPatch(s, patch, now);
        s.state.updateTimeMs = now;
      });
      await this.afterChange(s, false);
    });
    return {};
  }

  async deleteSchedule(req: DeleteScheduleRequest): Promise<DeleteScheduleResponse> {
    const s = this.get(req.namespace, req.scheduleId);
    await this.locked(s, async () => {
      this.assertLive(s);
      await this.host.saveSchedule(s.namespace, s.id, null);
      s.deleted = true;
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      this.schedules.delete(key(s.namespace, s.id));
      this.log(`schedule ${s.namespace}/${s.id}: deleted`);
    });
    return {};
  }

  async listSchedules(req: ListSchedulesRequest): Promise<ListSchedulesResponse> {
    const namespace = req.namespace ?? '';
    this.host.assertNamespace(namespace);
    const matching = this.matching(namespace, req.query ?? '');
    const pageSize = req.maximumPageSize && req.maximumPageSize > 0 ? req.maximumPageSize : 1000;
    const token = bytesOf(req.nextPageToken);
    const text = Buffer.from(token).toString('utf8');
    if (token.length > 0 && !text.startsWith(PAGE_TOKEN_PREFIX)) throw invalid('ListSchedules: next_page_token is malformed');
    const after = token.length > 0 ? text.slice(PAGE_TOKEN_PREFIX.length) : undefined;
    const rest = after === undefined ? matching : matching.filter((s) => s.id > after);
    const page = rest.slice(0, pageSize);
    const more = rest.length > page.length;
    return {
      schedules: page.map((s) => ({
        scheduleId: s.id,
        memo: unpackMemo(s.state.memo) ?? null,
        searchAttributes: unpackSearchAttributes(s.state.searchAttributes) ?? null,
        info: {
          spec: s.schedule.spec,
          workflowType: s.schedule.action?.startWorkflow?.workflowType ?? null,
          notes: s.schedule.state?.notes ?? '',
          paused: s.schedule.state?.paused ?? false,
          recentActions: this.recentActions(s),
          futureActionTimes: this.futureActionTimes(s, FUTURE_ACTION_TIMES).map(pbTimestamp),
        },
      })),
      nextPageToken: more ? Buffer.from(PAGE_TOKEN_PREFIX + page[page.length - 1]!.id, 'utf8') : Buffer.alloc(0),
    };
  }

  async countSchedules(req: CountSchedulesRequest): Promise<CountSchedulesResponse> {
    const namespace = req.namespace ?? '';
    this.host.assertNamespace(namespace);
    return { count: pbLong(this.matching(namespace, req.query ?? '').length) };
  }

  async listScheduleMatchingTimes(req: ListScheduleMatchingTimesRequest): Promise<ListScheduleMatchingTimesResponse> {
    const s = this.get(req.namespace, req.scheduleId);
    const start = tsMs(req.startTime);
    const end = tsMs(req.endTime);
    if (start === undefined || end === undefined) throw invalid('start_time and end_time are required');
    if (end < start) throw invalid('end_time is before start_time');
    const out: number[] = [];
    for (const n of s.compiled.between(new Date(start - 1), new Date(end), MAX_MATCHING_TIMES)) {
      const t = this.jittered(s, n.getTime());
      if (t <= end) out.push(t);
    }
    return { startTime: out.map(pbTimestamp) };
  }

  // ---------------------------------------------------------------------------------------
  // validation

  private validateSchedule(
    namespace: string,
    input: temporal.api.schedule.v1.Schedule.$Properties | null | undefined,
  ): ValidSchedule {
    if (!input) throw invalid('schedule is required');
    const sw = input.action?.startWorkflow;
    if (!sw) throw invalid('schedule.action.start_workflow is required');
    if (!sw.workflowId) throw invalid('schedule.action.start_workflow.workflow_id is required');
    if (!sw.workflowType?.name) throw invalid('schedule.action.start_workflow.workflow_type is required');
    if (!sw.taskQueue?.name) throw invalid('schedule.action.start_workflow.task_queue is required');
    if (sw.cronSchedule) throw invalid('schedule.action.start_workflow.cron_schedule is not allowed in a schedule');
    for (const [name, d] of [
      ['workflow_execution_timeout', sw.workflowExecutionTimeout],
      ['workflow_run_timeout', sw.workflowRunTimeout],
      ['workflow_task_timeout', sw.workflowTaskTimeout],
    ] as const) {
      if (durMs(d) < 0) throw invalid(`schedule.action.start_workflow.${name} must not be negative`);
    }
    this.host.validateSearchAttributes(namespace, sw.searchAttributes);

    let spec: temporal.api.schedule.v1.ScheduleSpec.$Properties;
    let compiled: CompiledSpec;
    try {
      spec = canonicalizeSpec(input.spec);
      compiled = compileCanonical(spec);
    } catch (e) {
      if (e instanceof ScheduleSpecError) throw invalid(`Invalid schedule spec: ${e.message}`);
      throw e;
    }

    const p = input.policies ?? {};
    const overlap = validOverlap(p.overlapPolicy, 'schedule.policies.overlap_policy') || Overlap.SCHEDULE_OVERLAP_POLICY_SKIP;
    const catchup = p.catchupWindow ? durMs(p.catchupWindow) : DEFAULT_CATCHUP_WINDOW_MS;
    if (catchup < 0) throw invalid('schedule.policies.catchup_window must not be negative');

    const st = input.state ?? {};
    const remaining = toNum(st.remainingActions);
    if (st.limitedActions && remaining < 0) throw invalid('schedule.state.remaining_actions must not be negative');

    return {
      compiled,
      schedule: {
        spec,
        action: { startWorkflow: sw },
        policies: {
          overlapPolicy: overlap,
          catchupWindow: pbDuration(Math.max(MIN_CATCHUP_WINDOW_MS, catchup)),
          pauseOnFailure: !!p.pauseOnFailure,
          keepOriginalWorkflowId: !!p.keepOriginalWorkflowId,
        },
        state: {
          notes: st.notes ?? '',
          paused: !!st.paused,
          limitedActions: !!st.limitedActions,
          remainingActions: pbLong(st.limitedActions ? remaining : 0),
        },
      },
    };
  }

  private validatePatch(patch: temporal.api.schedule.v1.SchedulePatch.$Properties): void {
    if (patch.triggerImmediately) validOverlap(patch.triggerImmediately.overlapPolicy, 'patch.trigger_immediately.overlap_policy');
    (patch.backfillRequest ?? []).forEach((b, i) => {
      validOverlap(b.overlapPolicy, `patch.backfill_request[${i}].overlap_policy`);
      const start = tsMs(b.startTime);
      const end = tsMs(b.endTime);
      if (start === undefined || end === undefined) throw invalid(`patch.backfill_request[${i}]: start_time and end_time are required`);
      if (end < start) throw invalid(`patch.backfill_request[${i}]: end_time is before start_time`);
    });
  }

  // ---------------------------------------------------------------------------------------
  // state machine (all called under the schedule's lock)

  /** Applies pause / unpause / trigger / backfill to the in-memory state. */
  private applyPatch(s: Sched, patch: temporal.api.schedule.v1.SchedulePatch.$Properties, now: number): void {
    const state = s.schedule.state ?? (s.schedule.state = api.schedule.v1.ScheduleState.create());
    if (patch.pause) {
      state.paused = true;
      state.notes = patch.pause;
      s.state.conflictToken++;
      this.log(`schedule ${s.namespace}/${s.id}: paused`);
    }
    if (patch.unpause) {
      state.paused = false;
      state.notes = patch.unpause;
      s.state.conflictToken++;
      this.log(`schedule ${s.namespace}/${s.id}: unpaused`);
    }
    if (patch.triggerImmediately) {
      const t = patch.triggerImmediately;
      const nominal = tsMs(t.scheduledTime) ?? Math.floor(now / 1000) * 1000;
      this.admit(s, this.newStart(s, nominal, now, t.overlapPolicy || this.policy(s), true));
    }
    for (const b of patch.backfillRequest ?? []) {
      const start = tsMs(b.startTime)!;
      const end = tsMs(b.endTime)!;
      const times = s.compiled.between(new Date(start), new Date(end), MAX_BACKFILL_STARTS + 1);
      if (times.length > MAX_BACKFILL_STARTS) {
        throw invalid(`backfill from ${new Date(start).toISOString()} to ${new Date(end).toISOString()} has more than ${MAX_BACKFILL_STARTS} actions`);
      }
      for (const n of times) {
        const actual = this.jittered(s, n.getTime());
        if (actual > end) continue;
        this.admit(s, this.newStart(s, n.getTime(), actual, b.overlapPolicy || this.policy(s), true));
      }
    }
  }

  private newStart(s: Sched, nominalMs: number, actualMs: number, overlap: number, manual: boolean): BufferedStart {
    const seq = s.state.startSeq++;
    // A scheduled start's request id depends only on its nominal time, so even a start whose
    // buffering was never saved gets the same id when it comes due again after a crash.
    const requestId = manual
      ? derivedUuid('schedule-manual-start', s.namespace, s.id, s.state.schedulerRunId, seq)
      : derivedUuid('schedule-start', s.namespace, s.id, s.state.schedulerRunId, nominalMs);
    return { nominalMs, actualMs, overlap, manual, requestId, attempts: 0 };
  }

  /** Considers every spec time whose jittered time is <= now; true if the state changed. */
  private advance(s: Sched, now: number): boolean {
    const st = s.state;
    const before = st.lastNominalMs;
    const state = s.schedule.state;
    const paused = !!state?.paused;
    const exhausted = () => !!state?.limitedActions && toNum(state.remainingActions) - this.pendingLimited(s) <= 0;
    const catchup = this.catchupMs(s);
    // Times this old are outside the catch-up window whatever their jitter: count, don't visit.
    const horizon = now - catchup - durMs(s.schedule.spec?.jitter) - 1000;
    if (st.lastNominalMs < horizon) {
      if (!paused && !exhausted()) {
        st.missedCatchupWindow += s.compiled.between(new Date(st.lastNominalMs), new Date(horizon)).length;
      }
      st.lastNominalMs = horizon;
    }
    for (;;) {
      const next = s.compiled.next(new Date(st.lastNominalMs));
      if (!next) break;
      const nominal = next.getTime();
      const actual = this.jittered(s, nominal);
      if (actual > now) break;
      st.lastNominalMs = nominal;
      if (paused || exhausted()) continue;
      if (now - actual > catchup) {
        st.missedCatchupWindow++;
        continue;
      }
      this.admit(s, this.newStart(s, nominal, actual, this.policy(s), false));
    }
    return st.lastNominalMs !== before;
  }

  /** Buffered starts that will count against remaining_actions. */
  private pendingLimited(s: Sched): number {
    return s.state.buffer.filter((b) => !b.manual).length;
  }

  /** Adds a start to the buffer according to its overlap policy. */
  private admit(s: Sched, start: BufferedStart): void {
    const st = s.state;
    const occupied = st.running.length > 0 || st.buffer.length > 0;
    const waiting = () => {
      const blocking = st.buffer.filter((b) => b.overlap !== Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
      return blocking.length - (st.running.length === 0 && blocking.length > 0 ? 1 : 0);
    };
    switch (start.overlap) {
      case Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL:
        st.buffer.push(start);
        return;
      case Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL:
        if (st.buffer.length >= MAX_BUFFER) st.bufferDropped++;
        else st.buffer.push(start);
        return;
      case Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE:
        if (occupied && waiting() >= 1) st.overlapSkipped++;
        else st.buffer.push(start);
        return;
      case Overlap.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER:
      case Overlap.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER: {
        // The newest start supersedes everything still waiting.
        const kept = st.buffer.filter((b) => b.overlap === Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
        st.overlapSkipped += st.buffer.length - kept.length;
        st.buffer = [...kept, start];
        return;
      }
      default: // SKIP
        if (occupied) st.overlapSkipped++;
        else st.buffer.push(start);
    }
  }

  /** Starts what can start; returns true if the state changed. */
  private async processBuffer(s: Sched): Promise<boolean> {
    const st = s.state;
    if (st.buffer.length === 0) return false;
    const queue = st.buffer;
    const keep: BufferedStart[] = [];
    let changed = false;
    let blocked = false;
    s.retryAtMs = undefined;
    for (let i = 0; i < queue.length; i++) {
      const e = queue[i]!;
      const state = s.schedule.state;
      if (!e.manual && (state?.paused || (state?.limitedActions && toNum(state.remainingActions) <= 0))) {
        changed = true; // scheduled start no longer allowed: dropped
        continue;
      }
      if (e.overlap !== Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) {
        if (blocked) {
          keep.push(e);
          continue;
        }
        if (st.running.length > 0) {
          if (e.overlap === Overlap.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER) {
            await this.terminateRunning(s);
            changed = true;
          } else {
            if (e.overlap === Overlap.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER && (await this.cancelRunning(s))) changed = true;
            blocked = true;
            keep.push(e);
            continue;
          }
        }
      }
      const result = await this.start(s, e);
      changed = true;
      if (result === 'retry') {
        keep.push(...queue.slice(i));
        s.retryAtMs = this.host.now() + this.retryDelayMs * e.attempts;
        break;
      }
    }
    st.buffer = keep;
    return changed;
  }

  private async start(s: Sched, e: BufferedStart): Promise<'started' | 'dropped' | 'retry'> {
    const st = s.state;
    const sw = s.schedule.action!.startWorkflow!;
    const baseId = sw.workflowId ?? '';
    const workflowId = s.schedule.policies?.keepOriginalWorkflowId ? baseId : `${baseId}-${rfc3339Seconds(e.nominalMs)}`;
    const request: StartWorkflowRequest = {
      namespace: s.namespace,
      workflowId,
      workflowType: sw.workflowType,
      taskQueue: sw.taskQueue,
      input: sw.input,
      workflowExecutionTimeout: sw.workflowExecutionTimeout,
      workflowRunTimeout: sw.workflowRunTimeout,
      workflowTaskTimeout: sw.workflowTaskTimeout,
      identity: `temporal-scheduler:${s.id}`,
      requestId: e.requestId,
      workflowIdReusePolicy: api.enums.v1.WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
      retryPolicy: sw.retryPolicy,
      memo: sw.memo,
      searchAttributes: {
        indexedFields: {
          ...(sw.searchAttributes?.indexedFields ?? {}),
          TemporalScheduledById: typedPayload(s.id, 'Keyword'),
          TemporalScheduledStartTime: typedPayload(rfc3339Seconds(e.nominalMs), 'Datetime'),
        },
      },
      header: sw.header,
      userMetadata: sw.userMetadata,
      priority: sw.priority,
      versioningOverride: sw.versioningOverride,
      lastCompletionResult: unpackPayloads(st.lastCompletionResult) ?? null,
      continuedFailure: unpackFailure(st.lastFailure) ?? null,
    };
    let runId: string;
    try {
      ({ runId } = await this.host.startWorkflow(s.namespace, request));
    } catch (err) {
      e.attempts++;
      const permanent = err instanceof RpcError && PERMANENT_START_ERRORS.has(err.code);
      if (permanent || e.attempts >= MAX_START_ATTEMPTS) {
        this.log(`schedule ${s.namespace}/${s.id}: start of ${workflowId} dropped: ${errorMessage(err)}`);
        return 'dropped';
      }
      this.log(`schedule ${s.namespace}/${s.id}: start of ${workflowId} failed (attempt ${e.attempts}), will retry: ${errorMessage(err)}`);
      return 'retry';
    }
    st.actionCount++;
    const state = s.schedule.state;
    if (!e.manual && state?.limitedActions) state.remainingActions = pbLong(Math.max(0, toNum(state.remainingActions) - 1));
    st.running.push({ workflowId, runId });
    st.recent.push({
      scheduleMs: e.actualMs,
      actualMs: this.host.now(),
      workflowId,
      runId,
      status: Status.WORKFLOW_EXECUTION_STATUS_RUNNING,
    });
    if (st.recent.length > MAX_RECENT_ACTIONS) st.recent.splice(0, st.recent.length - MAX_RECENT_ACTIONS);
    this.log(`schedule ${s.namespace}/${s.id}: started ${workflowId} (${runId})`);
    this.watch(s, workflowId, runId);
    return 'started';
  }

  private async terminateRunning(s: Sched): Promise<void> {
    for (const r of [...s.state.running]) {
      try {
        await this.host.terminate(s.namespace, r.workflowId, r.runId, `terminated by schedule ${s.id} (overlap policy TERMINATE_OTHER)`);
      } catch (err) {
        this.log(`schedule ${s.namespace}/${s.id}: terminate ${r.workflowId} failed: ${errorMessage(err)}`);
      }
    }
    s.state.running = [];
  }

  /** Requests cancellation of running workflows not yet asked; true if any was asked. */
  private async cancelRunning(s: Sched): Promise<boolean> {
    let asked = false;
    for (const r of s.state.running) {
      if (r.cancelRequested) continue;
      r.cancelRequested = true;
      asked = true;
      try {
        await this.host.requestCancel(s.namespace, r.workflowId, r.runId, `canceled by schedule ${s.id} (overlap policy CANCEL_OTHER)`);
      } catch (err) {
        this.log(`schedule ${s.namespace}/${s.id}: cancel ${r.workflowId} failed: ${errorMessage(err)}`);
      }
    }
    return asked;
  }

  private watch(s: Sched, workflowId: string, runId: string): void {
    const onClose = (status: number, _closeTimeMs: number, outcome?: CloseOutcome): void => {
      if (this.stopped || s.deleted || this.schedules.get(key(s.namespace, s.id)) !== s) return;
      this.locked(s, () => this.onClosed(s, workflowId, runId, status, outcome)).catch((err: unknown) =>
        this.log(`schedule ${s.namespace}/${s.id}: handling close of ${workflowId} failed: ${errorMessage(err)}`),
      );
    };
    try {
      this.host.watchClose(s.namespace, workflowId, runId, onClose);
    } catch (err) {
      // The engine does not know the run (any more): treat it as closed.
      this.log(`schedule ${s.namespace}/${s.id}: cannot watch ${workflowId} (${runId}): ${errorMessage(err)}`);
      onClose(api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED, this.host.now());
    }
  }

  private async onClosed(s: Sched, workflowId: string, runId: string, status: number, outcome: CloseOutcome | undefined): Promise<void> {
    if (s.deleted) return;
    const st = s.state;
    st.running = st.running.filter((r) => !(r.workflowId === workflowId && r.runId === runId));
    for (const r of st.recent) if (r.workflowId === workflowId && r.runId === runId) r.status = status;
    if (status === Status.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      st.lastFailure = undefined;
      if (outcome?.result) st.lastCompletionResult = packPayloads(outcome.result);
    } else if (outcome?.failure) {
      st.lastFailure = packFailure(outcome.failure);
    }
    const failed =
      status === Status.WORKFLOW_EXECUTION_STATUS_FAILED || status === Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
    if (failed && s.schedule.policies?.pauseOnFailure && !s.schedule.state?.paused) {
      const now = this.host.now();
      this.advance(s, now); // times up to now are judged unpaused
      const state = s.schedule.state ?? (s.schedule.state = api.schedule.v1.ScheduleState.create());
      state.paused = true;
      const what = status === Status.WORKFLOW_EXECUTION_STATUS_FAILED ? 'failed' : 'timed out';
      state.notes = `paused by pause_on_failure: workflow ${workflowId} ${what}`;
      st.conflictToken++;
      this.log(`schedule ${s.namespace}/${s.id}: ${state.notes}`);
    }
    await this.afterChange(s, true);
  }

  /** One scheduler step: take what is due, start what can start, save, re-arm. */
  private async tick(s: Sched): Promise<void> {
    if (s.deleted) return;
    const changed = this.advance(s, this.host.now());
    if (changed && s.state.buffer.length > 0) {
      // Due starts are saved before they are attempted.
      try {
        await this.persist(s);
      } catch (err) {
        this.log(`schedule ${s.namespace}/${s.id}: ${errorMessage(err)}`);
        s.retryAtMs = this.host.now() + this.retryDelayMs;
        this.arm(s);
        return;
      }
    }
    await this.afterChange(s, changed);
  }

  /** Processes the buffer, saves if `dirty` or anything changed, re-arms the timer. Errors are logged. */
  private async afterChange(s: Sched, dirty: boolean): Promise<void> {
    try {
      const changed = await this.processBuffer(s);
      if (dirty || changed) await this.persist(s);
    } catch (err) {
      this.log(`schedule ${s.namespace}/${s.id}: ${errorMessage(err)}`);
    } finally {
      this.arm(s);
    }
  }

  /** Applies `fn` and saves; if the save fails the in-memory state is rolled back and the error rethrown. */
  private async mutate(s: Sched, fn: (now: number) => void): Promise<void> {
    const before = { state: structuredClone(s.state), schedule: packSchedule(s.schedule), compiled: s.compiled };
    try {
      fn(this.host.now());
      await this.persist(s);
    } catch (err) {
      s.state = before.state;
      s.schedule = unpackSchedule(before.schedule);
      s.compiled = before.compiled;
      throw err;
    }
  }

  private async persist(s: Sched): Promise<void> {
    if (s.deleted) return;
    s.state.schedule = packSchedule(s.schedule);
    await this.host.saveSchedule(s.namespace, s.id, serializeState(s.state));
  }

  // ---------------------------------------------------------------------------------------
  // timers & helpers

  private arm(s: Sched): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    if (!this.timers || this.stopped || s.deleted) return;
    const wake = this.nextWake(s);
    if (wake === undefined) return;
    const delay = Math.min(MAX_TIMEOUT_MS, Math.max(0, wake - this.host.now() + 1));
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.locked(s, () => this.tick(s)).catch((err: unknown) => this.log(`schedule ${s.namespace}/${s.id}: ${errorMessage(err)}`));
    }, delay);
    s.timer.unref();
  }

  private nextWake(s: Sched): number | undefined {
    let wake = s.retryAtMs;
    const state = s.schedule.state;
    const active = !state?.paused && !(state?.limitedActions && toNum(state.remainingActions) - this.pendingLimited(s) <= 0);
    if (active) {
      const next = s.compiled.next(new Date(s.state.lastNominalMs));
      if (next) {
        const t = this.jittered(s, next.getTime());
        wake = wake === undefined ? t : Math.min(wake, t);
      }
    }
    return wake;
  }

  /** Serializes work on one schedule. */
  private locked<R>(s: Sched, fn: () => Promise<R>): Promise<R> {
    const run = s.chain.then(fn);
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    s.chain = done;
    this.inflight.add(done);
    void done.then(() => this.inflight.delete(done));
    return run;
  }

  private get(namespace: string | null | undefined, scheduleId: string | null | undefined): Sched {
    const ns = namespace ?? '';
    this.host.assertNamespace(ns);
    const id = scheduleId ?? '';
    if (id === '') throw invalid('schedule_id is required');
    const s = this.schedules.get(key(ns, id));
    if (!s) throw notFound(`schedule "${id}" not found in namespace "${ns}"`);
    return s;
  }

  private assertLive(s: Sched): void {
    if (s.deleted) throw notFound(`schedule "${s.id}" not found in namespace "${s.namespace}"`);
  }

  private alreadyExists(s: Sched): RpcError {
    const detail = api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure.encode({
      startRequestId: s.state.createRequestId ?? '',
      runId: s.state.schedulerRunId,
    }).finish();
    return new RpcError(GrpcStatus.ALREADY_EXISTS, `schedule with ID "${s.id}" is already registered`, [
      { typeName: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure', value: detail },
    ]);
  }

  private policy(s: Sched): number {
    return s.schedule.policies?.overlapPolicy || Overlap.SCHEDULE_OVERLAP_POLICY_SKIP;
  }

  private catchupMs(s: Sched): number {
    const c = s.schedule.policies?.catchupWindow;
    return c ? Math.max(MIN_CATCHUP_WINDOW_MS, durMs(c)) : DEFAULT_CATCHUP_WINDOW_MS;
  }

  private jittered(s: Sched, nominalMs: number): number {
    return s.compiled.jittered(new Date(nominalMs), s.id).getTime();
  }

  private recentActions(s: Sched): temporal.api.schedule.v1.ScheduleActionResult.$Properties[] {
    return s.state.recent.map((r) => ({
      scheduleTime: pbTimestamp(r.scheduleMs),
      actualTime: pbTimestamp(r.actualMs),
      startWorkflowResult: { workflowId: r.workflowId, runId: r.runId },
      startWorkflowStatus: r.status,
    }));
  }

  /** Next `limit` action times (jittered) after now. */
  private futureActionTimes(s: Sched, limit: number): number[] {
    const state = s.schedule.state;
    let n = limit;
    if (state?.limitedActions) n = Math.min(n, toNum(state.remainingActions) - this.pendingLimited(s));
    const out: number[] = [];
    if (n <= 0) return out;
    const now = this.host.now();
    let cursor = Math.max(s.state.lastNominalMs, now - durMs(s.schedule.spec?.jitter) - 1000);
    while (out.length < n) {
      const next = s.compiled.next(new Date(cursor));
      if (!next) break;
      cursor = next.getTime();
      const t = this.jittered(s, cursor);
      if (t > now) out.push(t);
    }
    return out;
  }

  /** Schedules of a namespace matching a List Filter, ordered by id. */
  private matching(namespace: string, query: string): Sched[] {
    const all = [...this.schedules.values()]
      .filter((s) => s.namespace === namespace)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (query.trim() === '') return all;
    const types = new Map<string, SearchAttributeType>(this.host.searchAttributeTypes?.(namespace) ?? []);
    const records = all.map((s) => ({ s, record: this.listRecord(s, types) }));
    types.set('ScheduleId', 'Keyword');
    types.set('TemporalSchedulePaused', 'Bool');
    let filter;
    try {
      filter = parseListFilter(query, types);
    } catch (e) {
      if (e instanceof ListFilterError) throw invalid(`invalid query: ${e.message}`);
      throw e;
    }
    return records.filter((r) => filter.matches(r.record)).map((r) => r.s);
  }

  /** A schedule as a visibility record; learns attribute types from payload metadata into `types`. */
  private listRecord(s: Sched, types: Map<string, SearchAttributeType>): VisibilityRecord {
    const attrs: Record<string, unknown> = {};
    const fields = unpackSearchAttributes(s.state.searchAttributes)?.indexedFields ?? {};
    for (const [name, payload] of Object.entries(fields)) {
      const metaType = payload.metadata?.type ? Buffer.from(payload.metadata.type).toString() : undefined;
      const value = decodePayloadValue(api.common.v1.Payload.fromObject(payload));
      let type = types.get(name) ?? (metaType as SearchAttributeType | undefined);
      if (!type) {
        if (typeof value === 'number') type = 'Double';
        else if (typeof value === 'boolean') type = 'Bool';
        else type = Array.isArray(value) ? 'KeywordList' : 'Keyword';
      }
      if (!types.has(name)) types.set(name, type);
      attrs[name] = type === 'Datetime' && typeof value === 'string' ? new Date(value) : value;
    }
    attrs.ScheduleId = s.id;
    attrs.TemporalSchedulePaused = !!s.schedule.state?.paused;
    const created = new Date(s.state.createTimeMs);
    return {
      workflowId: s.id,
      runId: s.state.schedulerRunId,
      workflowType: s.schedule.action?.startWorkflow?.workflowType?.name ?? '',
      status: 'Running',
      startTime: created,
      executionTime: created,
      taskQueue: s.schedule.action?.startWorkflow?.taskQueue?.name ?? '',
      searchAttributes: attrs,
    };
  }
}

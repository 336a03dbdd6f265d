/**
 * The durable state of one schedule, as saved through `ScheduleHost.saveSchedule` (JSON text).
 *
 * Protobuf pieces (the canonical Schedule, memo, search attributes, last completion result /
 * failure) are stored as base64 of their binary encoding, so a round trip is exact.
 * Everything else is plain numbers / strings. `parseState` validates a loaded row defensively:
 * a row that does not look like a version-1 state is rejected with a message (the service logs
 * it and skips the schedule) instead of crashing the server at start.
 */
import { createHash } from 'node:crypto';
import { api, pack, unb64 } from '../proto.js';
import type { T } from '../proto.js';

export const STATE_VERSION = 1;

/** How many recent actions are kept (ScheduleInfo.recent_actions: "most recent ten"). */
export const MAX_RECENT_ACTIONS = 10;
/** Upper bound on buffered starts (BUFFER_ALL); further starts count as buffer_dropped. */
export const MAX_BUFFER = 1000;

export const Overlap = api.enums.v1.ScheduleOverlapPolicy;
export type OverlapPolicy = T.api.enums.v1.ScheduleOverlapPolicy;

/** A start that is due (or manually requested) but not taken yet. */
export interface BufferedStart {
  /** nominal (un-jittered) time; names the workflow and sets TemporalScheduledStartTime */
  nominalMs: number;
  /** scheduled time including jitter (ScheduleActionResult.schedule_time) */
  actualMs: number;
  /** overlap policy resolved for this start (never UNSPECIFIED) */
  overlap: number;
  /** trigger-immediately or backfill: exempt from pause and remaining-actions limits */
  manual: boolean;
  /** StartWorkflowExecution request id, deterministic so a retry after a crash is deduplicated */
  requestId: string;
  /** failed start attempts so far (transient errors) */
  attempts: number;
}

export interface RunningWorkflow {
  workflowId: string;
  runId: string;
  cancelRequested?: boolean;
}

export interface RecentAction {
  scheduleMs: number;
  actualMs: number;
  workflowId: string;
  runId: string;
  /** WorkflowExecutionStatus number, RUNNING until the close is observed */
  status: number;
}

export interface PersistedSchedule {
  v: typeof STATE_VERSION;
  /** base64 temporal.api.schedule.v1.Schedule with the spec in canonical (structured) form */
  schedule: string;
  memo?: string;
  searchAttributes?: string;
  /** request id of the CreateSchedule call, for idempotent retries */
  createRequestId?: string;
  /** stands in for the run id of Temporal's per-schedule workflow (ALREADY_EXISTS details) */
  schedulerRunId: string;
  createTimeMs: number;
  updateTimeMs?: number;
  /** incremented on every update/pause/unpause; the wire conflict token encodes it */
  conflictToken: number;
  /** every spec time <= this has been considered (taken, skipped, or counted as missed) */
  lastNominalMs: number;
  /** sequence number of the next start, used to derive its request id */
  startSeq: number;
  actionCount: number;
  missedCatchupWindow: number;
  overlapSkipped: number;
  bufferDropped: number;
  buffer: BufferedStart[];
  running: RunningWorkflow[];
  recent: RecentAction[];
  /** base64 Payloads of the last successful run's result, passed to the next start */
  lastCompletionResult?: string;
  /** base64 Failure of the last failed run (cleared by a success), passed to the next start */
  lastFailure?: string;
}

export type ScheduleMsg = T.api.schedule.v1.Schedule;

export function packSchedule(schedule: T.api.schedule.v1.Schedule.$Properties): string {
  return pack(api.schedule.v1.Schedule, api.schedule.v1.Schedule.fromObject(schedule))!;
}

export function unpackSchedule(text: string): ScheduleMsg {
  return api.schedule.v1.Schedule.decode(unb64(text));
}

export function packMemo(memo: T.api.common.v1.Memo.$Properties | null | undefined): string | undefined {
  if (!memo) return undefined;
  return pack(api.common.v1.Memo, api.common.v1.Memo.fromObject(memo));
}

export function unpackMemo(text: string | undefined): T.api.common.v1.Memo | undefined {
  return text === undefined ? undefined : api.common.v1.Memo.decode(unb64(text));
}

export function packSearchAttributes(sa: T.api.common.v1.SearchAttributes.$Properties | null | undefined): string | undefined {
  if (!sa) return undefined;
  return pack(api.common.v1.SearchAttributes, api.common.v1.SearchAttributes.fromObject(sa));
}

export function unpackSearchAttributes(text: string | undefined): T.api.common.v1.SearchAttributes | undefined {
  return text === undefined ? undefined : api.common.v1.SearchAttributes.decode(unb64(text));
}

export function packPayloads(p: T.api.common.v1.Payloads.$Properties | null | undefined): string | undefined {
  if (!p) return undefined;
  return pack(api.common.v1.Payloads, api.common.v1.Payloads.fromObject(p));
}

export function unpackPayloads(text: string | undefined): T.api.common.v1.Payloads | undefined {
  return text === undefined ? undefined : api.common.v1.Payloads.decode(unb64(text));
}

export function packFailure(f: T.api.failure.v1.Failure.$Properties | null | undefined): string | undefined {
  if (!f) return undefined;
  return pack(api.failure.v1.Failure, api.failure.v1.Failure.fromObject(f));
}

export function unpackFailure(text: string | undefined): T.api.failure.v1.Failure | undefined {
  return text === undefined ? undefined : api.failure.v1.Failure.decode(unb64(text));
}

/** Wire form of a conflict token: 8 bytes, big-endian. */
export function encodeConflictToken(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

/** undefined for a token that was not produced by encodeConflictToken. */
export function decodeConflictToken(bytes: Uint8Array): number | undefined {
  if (bytes.length !== 8) return undefined;
  return Number(Buffer.from(bytes).readBigInt64BE());
}

/** A UUID-formatted id derived from its parts (stable across restarts). */
export function derivedUuid(...parts: (string | number)[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5-like
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function serializeState(state: PersistedSchedule): string {
  return JSON.stringify(state);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isOptStr = (v: unknown): boolean => v === undefined || typeof v === 'string';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`invalid schedule state: ${what}`);
}

/** Parses and validates a saved state; throws Error describing the first problem. */
export function parseState(text: string): PersistedSchedule {
  const raw = JSON.parse(text) as unknown;
  check(typeof raw === 'object' && raw !== null && !Array.isArray(raw), 'not an object');
  const s = raw as Record<string, unknown>;
  check(s.v === STATE_VERSION, `unsupported version ${String(s.v)}`);
  check(isStr(s.schedule), 'schedule');
  check(isOptStr(s.memo) && isOptStr(s.searchAttributes) && isOptStr(s.createRequestId), 'memo/searchAttributes');
  check(isOptStr(s.lastCompletionResult) && isOptStr(s.lastFailure), 'last result');
  check(isStr(s.schedulerRunId), 'schedulerRunId');
  for (const k of [
    'createTimeMs',
    'conflictToken',
    'lastNominalMs',
    'startSeq',
    'actionCount',
    'missedCatchupWindow',
    'overlapSkipped',
    'bufferDropped',
  ]) {
    check(isNum(s[k]), k);
  }
  check(s.updateTimeMs === undefined || isNum(s.updateTimeMs), 'updateTimeMs');
  check(Array.isArray(s.buffer), 'buffer');
  for (const b of s.buffer as unknown[]) {
    const e = b as Record<string, unknown>;
    check(
      typeof e === 'object' &&
        e !== null &&
        isNum(e.nominalMs) &&
        isNum(e.actualMs) &&
        isNum(e.overlap) &&
        typeof e.manual === 'boolean' &&
        isStr(e.requestId) &&
        isNum(e.attempts),
      'buffer entry',
    );
  }
  check(Array.isArray(s.running), 'running');
  for (const r of s.running as unknown[]) {
    const e = r as Record<string, unknown>;
    check(typeof e === 'object' && e !== null && isStr(e.workflowId) && isStr(e.runId), 'running entry');
  }
  check(Array.isArray(s.recent), 'recent');
  for (const r of s.recent as unknown[]) {
    const e = r as Record<string, unknown>;
    check(
      typeof e === 'object' &&
        e !== null &&
        isNum(e.scheduleMs) &&
        isNum(e.actualMs) &&
        isStr(e.workflowId) &&
        isStr(e.runId) &&
        isNum(e.status),
      'recent entry',
    );
  }
  // Decoding must succeed too.
  unpackSchedule(s.schedule as string);
  return s as unknown as PersistedSchedule;
}

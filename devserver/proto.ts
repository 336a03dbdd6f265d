/**
 * Access to Temporal's API messages (a protobufjs root shipped by @temporalio/proto) and small conversions
 * between protobuf well-known types and plain numbers.
 */
import protoPkg from '@temporalio/proto';
import type { temporal as TemporalTypes, google as GoogleTypes } from '@temporalio/proto';

export const api: typeof TemporalTypes.api = protoPkg.temporal.api;
export const rpcStatus: typeof GoogleTypes.rpc.Status = protoPkg.google.rpc.Status;
export type { TemporalTypes as T };

export type HistoryEvent = TemporalTypes.api.history.v1.HistoryEvent;
export type Payloads = TemporalTypes.api.common.v1.Payloads;
export type Payload = TemporalTypes.api.common.v1.Payload;
export type Failure = TemporalTypes.api.failure.v1.Failure;
export type RetryPolicyMsg = TemporalTypes.api.common.v1.RetryPolicy;

export const EventType = api.enums.v1.EventType;
export const ExecStatus = api.enums.v1.WorkflowExecutionStatus;
export const RetryState = api.enums.v1.RetryState;
export const TimeoutType = api.enums.v1.TimeoutType;
export const TaskQueueKind = api.enums.v1.TaskQueueKind;
export const IndexedValueType = api.enums.v1.IndexedValueType;

/** An int64 as protobufjs decodes it: a number or a Long-like object. */
export type Int64 = number | { toNumber(): number } | null | undefined;

export function toNum(value: Int64 | string): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return value.toNumber();
}

export interface DurationLike {
  seconds?: Int64;
  nanos?: number | null;
}

/** Milliseconds of a google.protobuf.Duration; 0 when absent. */
export function durMs(d: DurationLike | null | undefined): number {
  if (!d) return 0;
  return toNum(d.seconds) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
}

export function msDur(ms: number): { seconds: number; nanos: number } {
  const whole = Math.floor(ms / 1000);
  return { seconds: whole, nanos: Math.round((ms - whole * 1000) * 1e6) };
}

/** Milliseconds since the epoch of a google.protobuf.Timestamp; undefined when absent. */
export function tsMs(t: DurationLike | null | undefined): number | undefined {
  if (!t) return undefined;
  return durMs(t);
}

export function msTs(ms: number): { seconds: number; nanos: number } {
  return msDur(ms);
}

export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function unb64(text: string): Buffer {
  return Buffer.from(text, 'base64');
}

interface Codec<M> {
  encode(message: M): { finish(): Uint8Array };
  decode(bytes: Uint8Array): M;
}

/** Encodes a message to base64 for JSON state; undefined stays undefined. */
export function pack<M>(type: Codec<M>, message: M | null | undefined): string | undefined {
  if (message === null || message === undefined) return undefined;
  return b64(type.encode(message).finish());
}

export function unpack<M>(type: Codec<M>, text: string | undefined): M | undefined {
  return text === undefined ? undefined : type.decode(unb64(text));
}

/** A JSON payload as the SDK's default converter writes it. */
export function jsonPayload(value: unknown): { metadata: Record<string, Buffer>; data: Buffer } {
  return { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) };
}

/** Decodes a payload written by the default converter (json/plain, binary/null); undefined for others. */
export function decodePayloadValue(payload: Payload | null | undefined): unknown {
  if (!payload) return undefined;
  const encoding = payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding).toString() : '';
  if (encoding === 'binary/null') return null;
  if (encoding !== 'json/plain') return undefined;
  const data = payload.data ? Buffer.from(payload.data).toString() : '';
  if (data === '') return null;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

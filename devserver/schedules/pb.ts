/**
 * Typed constructors for protobuf well-known values in `$Properties` objects (int64 fields are
 * typed as Long there; protobufjs' own fromObject produces them).
 */
import protoPkg from '@temporalio/proto';
import type { google } from '@temporalio/proto';
import { msDur } from '../proto.js';

export type Long = NonNullable<google.protobuf.Int64Value.$Properties['value']>;
export type PbDuration = google.protobuf.Duration;
export type PbTimestamp = google.protobuf.Timestamp;

const pbg = protoPkg.google.protobuf;

export function pbLong(n: number): Long {
  return pbg.Int64Value.fromObject({ value: n }).value;
}

export function pbDuration(ms: number): PbDuration {
  return pbg.Duration.fromObject(msDur(ms));
}

export function pbTimestamp(ms: number): PbTimestamp {
  return pbg.Timestamp.fromObject(msDur(ms));
}

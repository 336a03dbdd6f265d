/** The interface every destination of a `files` target implements (see ../destination.ts). */
import type { Readable, Writable } from 'node:stream';

export interface ObjectInfo {
  /** relative to the destination's root */
  key: string;
  bytes: number;
  /** hex; local `head` and `list` leave it out (the bytes are the truth: re-hash them), S3 `head` reads the `sha256` metadata */
  sha256?: string;
  modified: Date;
}

export interface WriteOptions {
  contentType?: string;
  /** The expected sha256 (hex) of the bytes: `done()` fails, and nothing appears, when they differ. */
  sha256?: string;
}

/** One object being written. End `stream` (or let `pipeline` end it), then await `done()`. */
export interface ObjectWrite {
  stream: Writable;
  /** Resolves once the object is in place, whole, with its size and sha256; rejects (leaving nothing) when the stream failed. */
  done(): Promise<ObjectInfo>;
  /** Stops the write; nothing appears, and a `done()` still pending rejects. After `done()` resolved it does nothing. */
  abort(): Promise<void>;
}

export interface Destination {
  /** For messages: `folder /abs/path` or `s3://bucket/prefix (endpoint http://…)` — never credentials. */
  readonly description: string;
  /**
   * A writable stream for `key`; the object appears only when `done()` resolves (local: temp file + fsync + rename;
   * S3: multipart upload completes, sha256 stored as metadata). On abort, nothing appears.
   */
  write(key: string, options?: WriteOptions): ObjectWrite;
  /** Atomic replace (local: temp file + fsync + rename; S3: one PUT). */
  putJson(key: string, value: unknown): Promise<ObjectInfo>;
  /** undefined when there is no such object. */
  getJson<T>(key: string): Promise<T | undefined>;
  /** undefined when there is no such object. S3: HEAD, sha256 from the object's `x-amz-meta-sha256`. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** The object's bytes; the stream fails with an error naming the key when there is no such object. */
  read(key: string): Readable;
  /** Objects whose key starts with `prefix` (a plain string prefix), in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Idempotent: keys already gone are fine. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Removes what writes interrupted by a crash left under `prefix` and no listing shows: the local temp files, the
   * unfinished S3 multipart uploads (which cost storage). Only while nothing writes under `prefix`. Returns how many.
   */
  sweep(prefix: string): Promise<number>;
  /** S3 only: a presigned GET URL. */
  presign?(key: string, expiresInSeconds: number): Promise<string>;
}

/**
 * The one interface every reverse ETL destination implements (as `src/files/destinations` does for folders and
 * buckets): a batch of operations in, one typed outcome per row out. An adapter never decides what to send — the
 * frozen plan does (src/reverse-etl/freeze.ts) — and never advances the synced state: src/reverse-etl/apply.ts does,
 * from the outcomes, only for rows the destination acknowledged.
 */
import type { RetryableError } from '../../errors.js';

export type JsonScalar = string | number | boolean | null;
export type JsonValue = JsonScalar | JsonValue[] | { [field: string]: JsonValue };

/** What one row of the plan asks the destination to do. */
export type SyncOp = 'insert' | 'update' | 'upsert' | 'delete';

export interface OutgoingRow {
  /** The row's position in the frozen plan: outcomes name rows by it. */
  seq: number;
  op: SyncOp;
  /** Destination key field → value (the mapped key columns). */
  key: Record<string, JsonScalar>;
  /** Destination field → value; for a delete, the record last synced (or null when unknown). */
  record: Record<string, JsonValue> | null;
  /** The destination's own id of the record, as it reported at the last sync (HubSpot's object id), when known. */
  remoteId: string | null;
}

/**
 * - `applied`: the destination holds the row as sent (or, for a delete, no longer holds it);
 * - `unchanged`: it already held exactly this (a delete of a record already gone);
 * - `rejected`: it refused the row for a reason a retry of the same row will not fix (validation, a missing record);
 * - `transient`: it could not take the row now (a lock, a timeout on its side): sent again.
 */
export type RowStatus = 'applied' | 'unchanged' | 'rejected' | 'transient';

export interface RowOutcome {
  seq: number;
  status: RowStatus;
  /** The destination's reason, for rejected and transient rows (never a secret). */
  reason?: string;
  /** The destination's id of the record, when it reports one. */
  remoteId?: string;
}

/** Counts an adapter keeps while it sends, for the run's summary and the benchmark. */
export interface SendStats {
  requests: number;
  /** answers that asked to slow down (HTTP 429): waited out, never counted as failures */
  throttled: number;
  /** requests sent again after a timeout, a network error or a 5xx */
  retries: number;
  /** rows looked up at the destination before a non-idempotent insert was sent again */
  lookedUp: number;
}

export interface SendBatch {
  /** Run id + batch number (+ round): the same key for the same rows, so a destination applies them once. */
  idempotencyKey: string;
  batch: number;
  rows: OutgoingRow[];
  /**
   * The same rows were sent under this key before and no answer was recorded (a timeout, a worker that died): the
   * destination may have applied them. Idempotent writes simply repeat; a non-idempotent insert looks up first.
   */
  resent: boolean;
  stats: SendStats;
  /** Waits for the target's pace before each request (rows: how many the request carries). */
  pace: Pace;
  signal?: AbortSignal;
}

/** The target's rate limit, shared by every batch in flight. */
export interface Pace {
  /** Resolves when a request carrying `rows` rows may be sent. */
  take(rows: number): Promise<void>;
  /** The destination asked to wait `ms` (a 429's Retry-After): nobody sends before then. */
  holdFor(ms: number): void;
}

export interface DestinationAdapter {
  /** For messages and the sync log: where the rows go, without credentials. */
  readonly label: string;
  /** The most rows one request may carry (HubSpot: 100). */
  readonly maxBatch: number;
  /** Checks the destination can take the rows (table and columns exist, the token is accepted) before a batch is sent. */
  prepare(): Promise<void>;
  /**
   * Sends one batch and returns one outcome per row. Throws a `RetryableError` when the whole batch has no outcome
   * (retryable: the destination is down or keeps timing out; not retryable: bad credentials, a missing table).
   */
  send(batch: SendBatch): Promise<RowOutcome[]>;
  close(): Promise<void>;
}

export type DestinationFailure = RetryableError;

import type { DurationText } from './duration.js';
import type { SecretRef } from './secret.js';

/** When a target runs: a five-field cron expression in an IANA time zone. */
export interface Schedule {
  readonly cron: string;
  readonly timezone: string;
}

/** Data classification of a contract column. */
export type Classification = 'public' | 'internal' | 'pii';

interface TargetBase {
  /** Unique within the product, snake_case. */
  readonly name: string;
  readonly schedule?: Schedule;
}

export type FileFormat = 'csv' | 'jsonl' | 'parquet' | 'xlsx';

export type FileCompression = 'none' | 'gzip' | 'snappy' | 'zstd';

/** S3-compatible object storage: where the bucket answers and who signs the requests. */
export interface ObjectStoreOptions {
  /** The store's URL when it is not AWS (MinIO, Ceph, R2…), e.g. `'http://minio.internal:9000'`. */
  readonly endpoint?: string;
  /** Default `us-east-1`. */
  readonly region?: string;
  /** Access key pair, both by reference; without them the default AWS credential chain applies. */
  readonly credentials?: { readonly accessKeyId: SecretRef; readonly secretAccessKey: SecretRef };
}

/** How long versions stay: the last N, and/or those younger than D. The current version always stays. */
export interface Retention {
  readonly keepLast?: number;
  readonly keepDays?: number;
}

/** File exchange: the product's rows written as files to a folder or bucket, published as versions. */
export interface FilesTarget<C extends string = string> extends TargetBase, ObjectStoreOptions {
  readonly kind: 'files';
  readonly format: FileFormat;
  /** `gzip` for csv / jsonl; `snappy` (default) or `zstd` for parquet; default `none` otherwise. */
  readonly compression?: FileCompression;
  /** A local folder (`./exchange/invoices`) or a bucket URL (`s3://bucket/prefix/`). */
  readonly to: string;
  /** Only these contract columns; all when omitted. */
  readonly columns?: readonly C[];
  /** One file per value of this column (e.g. one per partner). */
  readonly splitBy?: C;
  /** At most this many rows per file (split in the order of the contract key). */
  readonly rowsPerFile?: number;
  /**
   * File names, from `{product}`, `{target}`, `{partition}` (the splitBy value or the part number), `{part}`,
   * `{date}` (the run's UTC date) and `{ext}`; default `'{product}-{partition}.{ext}'`.
   */
  readonly fileName?: string;
  /** Who receives the files: for a bucket, each gets a presigned download link per version. */
  readonly consumers?: readonly string[];
  /** How long a download link works (default `7d`). */
  readonly linkExpiry?: DurationText;
  /** Which published versions are kept; default all. */
  readonly retention?: Retention;
}

/** Data sharing: read grants on the product for named consumers. */
export interface ShareTarget<C extends string = string> extends TargetBase {
  readonly kind: 'share';
  /** Who receives the grants, e.g. `suppliers` or `finance_team`. */
  readonly to: string;
  /** The consumers' ids; with `rowFilter` each sees only the rows whose column equals its id. */
  readonly consumers?: readonly string[];
  /** Row-level filtering: each consumer sees only rows where this column equals its id. */
  readonly rowFilter?: C;
  /** Columns of these classifications are masked for consumers. */
  readonly mask?: readonly Classification[];
  /** Grants expire after this long unless renewed by the next run. */
  readonly expiresAfter?: DurationText;
}

/** A database object a dashboard reads: the named metrics grouped by dimensions, refreshed on every run. */
export interface DashboardObject<C extends string = string, M extends string = string> {
  readonly name: string;
  readonly metrics: readonly M[];
  readonly by?: readonly C[];
}

/** Dashboard refresh: the objects behind a dashboard, rebuilt from the product's metrics. */
export interface DashboardTarget<C extends string = string, M extends string = string> extends TargetBase {
  readonly kind: 'dashboard';
  readonly objects: readonly DashboardObject<C, M>[];
}

/** An HTTP API receiving records in batches (a CRM, an ad platform). */
export interface HttpDestination {
  readonly type: 'http';
  readonly url: string;
  readonly method?: 'POST' | 'PUT' | 'PATCH';
  /** Sent as a bearer token. */
  readonly auth?: SecretRef;
  readonly batchSize?: number;
}

/** A Postgres table receiving upserts. */
export interface PostgresDestination {
  readonly type: 'postgres';
  /** Connection URL, from the environment. */
  readonly url: SecretRef;
  /** `schema.table` at the destination. */
  readonly table: string;
}

export type Destination = HttpDestination | PostgresDestination;

/** Bounds on the values sent: a row outside them blocks the sync (the runaway-bid guard). */
export interface ValueGuardrail<C extends string = string> {
  readonly column: C;
  readonly min?: number;
  readonly max?: number;
}

export interface Guardrails<C extends string = string> {
  readonly values?: readonly ValueGuardrail<C>[];
  /** At most this many records per run. */
  readonly maxRows?: number;
}

/** Reverse ETL: rows pushed into an operational system. */
export interface ReverseEtlTarget<C extends string = string> extends TargetBase {
  readonly kind: 'reverseEtl';
  readonly destination: Destination;
  /** The column(s) identifying a record at the destination; idempotency keys derive from it. */
  readonly key: C | readonly C[];
  /** Destination field → contract column. */
  readonly mapping: Readonly<Record<string, C>>;
  readonly guardrails?: Guardrails<C>;
}

/** A serving target as written in a product module. */
export type TargetSpec<C extends string = string, M extends string = string> =
  | FilesTarget<C>
  | ShareTarget<C>
  | DashboardTarget<C, M>
  | ReverseEtlTarget<C>;

export type TargetKind = TargetSpec['kind'];

/** A validated target; reverse ETL keys are always lists. */
export type Target<C extends string = string, M extends string = string> =
  | FilesTarget<C>
  | ShareTarget<C>
  | DashboardTarget<C, M>
  | (Omit<ReverseEtlTarget<C>, 'key'> & { readonly key: readonly C[] });

type Options<T> = Omit<T, 'kind'>;

/** File exchange target. */
export function files<const C extends string = never>(options: Options<FilesTarget<C>>): FilesTarget<C> {
  return { kind: 'files', ...options };
}

/** Data sharing target. */
export function share<const C extends string = never>(options: Options<ShareTarget<C>>): ShareTarget<C> {
  return { kind: 'share', ...options };
}

/** Dashboard refresh target. */
export function dashboard<const C extends string = never, const M extends string = never>(
  options: Options<DashboardTarget<C, M>>,
): DashboardTarget<C, M> {
  return { kind: 'dashboard', ...options };
}

/** Reverse ETL target. */
export function reverseEtl<const C extends string = never>(options: Options<ReverseEtlTarget<C>>): ReverseEtlTarget<C> {
  return { kind: 'reverseEtl', ...options };
}

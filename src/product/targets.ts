import type { DurationText } from '../time/duration.js';
import type { SecretRef } from './secret.js';
import type { Source } from './source.js';

/** When a target runs: a five-field cron expression in an IANA time zone. */
export interface Schedule {
  readonly cron: string;
  readonly timezone: string;
  /**
   * Why the schedule is paused: a deploy keeps its Temporal schedule, paused with this note, so it starts nothing
   * until the field is removed (then the next deploy resumes it). A pause an operator set by hand is left alone.
   */
  readonly paused?: string;
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

/** How a shared column is masked; see src/sharing/masks.ts. */
export type MaskMethod = 'hash' | 'redact' | 'null' | { readonly truncate: 'day' | 'week' | 'month' | 'year' } | { readonly keepLast: number };

/**
 * Which columns are masked, and how: a list of classifications (their columns redacted), or classifications and
 * column names mapped to a method — a column named wins over its classification.
 */
export type MaskSpec<C extends string = string> = readonly Classification[] | { readonly [K in Classification | C]?: MaskMethod };

/** One consumer of a share: who it is, which role reads for it, and what it may see. */
export interface ShareConsumerSpec<C extends string = string> {
  /** Its id, e.g. a supplier code `SUP-001`. */
  readonly id: string;
  /** The database role its grants go to; default `<to>_<id>` (made NOLOGIN in the embedded warehouse). */
  readonly role?: string;
  /** The value of the row filter's column it sees; default its id; `null`: every row. */
  readonly tenant?: string | null;
  /** Values a `rowFilter: { where }` predicate refers to as `:name` (`:id` and `:tenant` are always there). */
  readonly attributes?: { readonly [name: string]: string | number | boolean };
  /** Only these contract columns (default all). */
  readonly columns?: readonly C[];
  /** Its own masks instead of the target's. */
  readonly mask?: MaskSpec<C>;
  /** When its access ends: a date (`'2027-03-31'`) or a duration from its first grant (`'90d'`). */
  readonly expires?: string;
}

/** Data sharing: read-only, least-privilege views of the product for named consumers. */
export interface ShareTarget<C extends string = string> extends TargetBase {
  readonly kind: 'share';
  /** The share's schema in the warehouse (a logical name, mapped per environment), e.g. `suppliers`. */
  readonly to: string;
  /** The consumers: ids, or entries with their role, tenant, columns, masks and expiry. */
  readonly consumers?: readonly (string | ShareConsumerSpec<C>)[];
  /**
   * Row-level filtering: each consumer sees only rows where this column equals its tenant (default its id), or
   * only rows where a predicate over the source's columns holds, its `:name`s taken from the consumer.
   */
  readonly rowFilter?: C | { readonly where: string };
  /** Masked columns: by classification or by column, each with a method (a list of classifications redacts). */
  readonly mask?: MaskSpec<C>;
  /** Access lasts this long after the last run that served the share (each run renews it); then it is revoked. */
  readonly expiresAfter?: DurationText;
  /**
   * A consumer that has not read its view for this long (since its first grant or its last read, as the warehouse's
   * `pg_stat_statements` reports) loses its access, its owner told `noticeBefore` ahead. Never applied while usage
   * is unknown.
   */
  readonly sunsetAfter?: DurationText;
  /** The owner is told this long before an access expires or is sunset (default `7d`). */
  readonly noticeBefore?: DurationText;
}

/**
 * How a dashboard object is brought up to date, readers never seeing a half-done refresh:
 * - `concurrently`: a materialized view with a unique index, refreshed by `REFRESH MATERIALIZED VIEW CONCURRENTLY`
 *   (readers are never blocked; the refresh costs a diff against the old contents);
 * - `swap`: a table built anew under another name, indexed, then swapped in by renames in one transaction (readers
 *   wait only for the renames).
 */
export type RefreshStrategy = 'concurrently' | 'swap';

interface DashboardObjectBase {
  /** The object's name in the target's schema, snake_case. */
  readonly name: string;
  /** Default `concurrently` when the object has a unique key, else `swap`. */
  readonly refresh?: RefreshStrategy;
  /** Other objects of this dashboard it reads (references written as `table('<schema>.<name>')` count as well). */
  readonly dependsOn?: readonly string[];
  /** Extra indexes for the dashboard's filters, each a list of columns. */
  readonly indexes?: readonly (readonly string[])[];
}

/** A database object holding the named metrics of the product, grouped by dimensions (the semantic layer's SQL). */
export interface MetricObject<C extends string = string, M extends string = string> extends DashboardObjectBase {
  readonly metrics: readonly M[];
  /** Dimensions; they are also the object's unique key. */
  readonly by?: readonly C[];
}

/** A database object built from SQL: it may read warehouse tables and other objects of the dashboard. */
export interface SqlObject extends DashboardObjectBase {
  readonly sql: Source;
  /** Columns identifying a row: the unique index `concurrently` needs. */
  readonly uniqueKey?: readonly string[];
}

/** A database object a dashboard reads, refreshed on every run. */
export type DashboardObject<C extends string = string, M extends string = string> = MetricObject<C, M> | SqlObject;

/** Any BI tool: where it answers. */
interface BiToolBase {
  /** How the tool is named in results and errors; default the tool's kind. */
  readonly name?: string;
  /** The tool's base URL, e.g. `'https://metabase.example.com'`. */
  readonly url: string;
  /** How long one HTTP request may take (default `30s`). */
  readonly timeout?: DurationText;
}

/** A generic webhook: POSTs a JSON `dashboard.refreshed` event (bearer token from `token`). */
export interface WebhookTool extends Omit<BiToolBase, 'url'> {
  readonly tool: 'webhook';
  /** The URL, or `secret('...')` when the URL itself carries a token. */
  readonly url: string | SecretRef;
  readonly token?: SecretRef;
}

/** Metabase: invalidates the cached results of cards (questions) and dashboards (`POST /api/cache/invalidate`). */
export interface MetabaseTool extends BiToolBase {
  readonly tool: 'metabase';
  /** A Metabase API key (sent as `x-api-key`). */
  readonly apiKey: SecretRef;
  readonly dashboards?: readonly number[];
  readonly cards?: readonly number[];
}

/** Superset: warms the cache of charts (`PUT /api/v1/chart/warm_up_cache`), optionally with a dashboard's filters. */
export interface SupersetTool extends BiToolBase {
  readonly tool: 'superset';
  /** An access token (sent as a bearer token). */
  readonly token: SecretRef;
  readonly charts: readonly number[];
  /** The dashboard whose filters apply while warming. */
  readonly dashboard?: number;
}

/**
 * An asynchronous refresh (the pattern of Power BI dataset refresh and Tableau extract refresh): a request starts it,
 * then lastmile polls until the tool reports done or failed, waiting on durable timers, within `timeout`.
 */
export interface AsyncRefreshTool extends Omit<BiToolBase, 'url'> {
  readonly tool: 'asyncRefresh';
  readonly name: string;
  /** Where the refresh is started, e.g. `'https://api.powerbi.com/v1.0/myorg/datasets/<id>/refreshes'`. */
  readonly url: string;
  readonly token?: SecretRef;
  /** Default `POST`. */
  readonly method?: 'POST' | 'PUT';
  /** JSON body of the start request. */
  readonly body?: Readonly<Record<string, unknown>>;
  /**
   * Where to poll: a URL with `{id}` (the refresh id from the start response), absolute or relative to `url`.
   * Default: the start response's `Location` header.
   */
  readonly pollUrl?: string;
  /** Dotted path of the refresh id in the start response's JSON (default `id`, else the `RequestId` header). */
  readonly idField?: string;
  /** Dotted path of the status in a poll response (default `status`). */
  readonly statusField?: string;
  /** Status values meaning done (default `done`, `succeeded`, `success`, `completed`; compared case-insensitively). */
  readonly done?: readonly string[];
  /** Status values meaning failed (default `failed`, `error`, `cancelled`, `canceled`, `disabled`). */
  readonly failed?: readonly string[];
  /** Time between polls (default `30s`). */
  readonly pollEvery?: DurationText;
  /** The refresh fails when it is not done within this long (default `1h`). */
  readonly maxWait?: DurationText;
}

export type BiTool = WebhookTool | MetabaseTool | SupersetTool | AsyncRefreshTool;

/** Where the dashboard's data age is read: the newest value of a date or timestamp column of one object. */
export interface DashboardFreshness {
  readonly object: string;
  readonly column: string;
}

/**
 * Dashboard refresh: the objects behind a dashboard, refreshed in dependency order; then the BI tools are told, and
 * the dashboard's queries are timed.
 */
export interface DashboardTarget<C extends string = string, M extends string = string> extends TargetBase {
  readonly kind: 'dashboard';
  /** Logical schema the objects live in, mapped per environment like any other (default `dashboards`). */
  readonly schema?: string;
  readonly objects: readonly DashboardObject<C, M>[];
  /** BI tools to notify once the objects are refreshed. */
  readonly bi?: readonly BiTool[];
  /** The SQL the dashboard runs, by name: run after each refresh to warm caches and time it (the latency SLI). */
  readonly queries?: { readonly [name: string]: Source };
  /** How often each query is timed per run (default 5). */
  readonly samples?: number;
  /** The data's age after a refresh is the run's freshness SLI. */
  readonly freshness?: DashboardFreshness;
}

/** An HTTP JSON API receiving records in batches, under lastmile's request/response contract (docs/reverse-etl.md). */
export interface HttpDestination {
  readonly type: 'http';
  readonly url: string;
  readonly method?: 'POST' | 'PUT' | 'PATCH';
  /** Sent as a bearer token. */
  readonly auth?: SecretRef;
  /** Records per request (default 200); the target's `batchSize` wins when both are set. */
  readonly batchSize?: number;
  /** How long one request may take before its outcome counts as unknown (default 30s); it is then sent again under the same idempotency key. */
  readonly timeout?: DurationText;
}

/** A PostgreSQL table in an operational database: rows are staged with COPY, then applied in one transaction per batch. */
export interface PostgresDestination {
  readonly type: 'postgres';
  /** Connection URL, from the environment. */
  readonly url: SecretRef;
  /** `schema.table` at the destination. */
  readonly table: string;
}

/** HubSpot's CRM v3 objects API: batch upsert / create / update / archive of one object type, records matched by a unique property. */
export interface HubspotDestination {
  readonly type: 'hubspot';
  /** `contacts`, `companies`, `deals`, a custom object's type id (`2-1234567`)… */
  readonly objectType: string;
  /** The unique HubSpot property the key is written to (e.g. `email`, or a custom `lead_id` property); it must be a mapped field. */
  readonly idProperty: string;
  /** A private app's access token, sent as a bearer token. */
  readonly token: SecretRef;
  /** Default `https://api.hubapi.com`. */
  readonly baseUrl?: string;
  /** How long one request may take before its outcome counts as unknown (default 30s). */
  readonly timeout?: DurationText;
}

export type Destination = HttpDestination | PostgresDestination | HubspotDestination;

/** Bounds on the values sent: a row outside them holds the sync for a decision (the runaway-bid guard). */
export interface ValueGuardrail<C extends string = string> {
  readonly column: C;
  readonly min?: number;
  readonly max?: number;
}

/** The change of a numeric column's total against what the destination last received, as a fraction (0.2 = 20 %). */
export interface TotalGuardrail<C extends string = string> {
  readonly column: C;
  readonly maxIncrease?: number;
  readonly maxDecrease?: number;
}

/** Checked on the frozen plan before anything is written; a guardrail that trips holds the sync for a human decision. */
export interface Guardrails<C extends string = string> {
  readonly values?: readonly ValueGuardrail<C>[];
  /** At most this many operations per run. */
  readonly maxRows?: number;
  /** At most this share (0–1) of the records synced so far may change or be deleted in one run. */
  readonly maxChangedShare?: number;
  /** At most this share (0–1) of the records synced so far may be deleted in one run (mirror: 0.1 unless set). */
  readonly maxDeletedShare?: number;
  readonly totals?: readonly TotalGuardrail<C>[];
}

/**
 * How a sync writes: `insert` creates records lastmile has not synced, `update` changes existing records only,
 * `upsert` does both, `mirror` upserts and also deletes the records lastmile synced that left the result.
 */
export type SyncMode = 'insert' | 'update' | 'upsert' | 'mirror';

/** Reverse ETL: rows pushed into an operational system, by difference against what it last acknowledged. */
export interface ReverseEtlTarget<C extends string = string> extends TargetBase {
  readonly kind: 'reverseEtl';
  readonly destination: Destination;
  /** The column(s) identifying a record at the destination; each must be mapped to a destination field. */
  readonly key: C | readonly C[];
  /** Destination field → contract column. */
  readonly mapping: Readonly<Record<string, C>>;
  /** Default `upsert`. */
  readonly mode?: SyncMode;
  /** `skip`: a NULL is not sent, so it never overwrites a value at the destination (default `send`). */
  readonly nulls?: 'send' | 'skip';
  /** Records per request or transaction (default: the destination's: HTTP 200, HubSpot 100, PostgreSQL 1000). */
  readonly batchSize?: number;
  /** Pace of requests and rows; a destination's 429 slows it further and never counts as a failure. */
  readonly rateLimit?: { readonly requestsPerSecond?: number; readonly rowsPerSecond?: number };
  /** Batches in flight at once (default 1). */
  readonly concurrency?: number;
  /** A rejected row is sent again at the next sync (`next-sync`, the default) or only once its values change (`on-change`). */
  readonly retryRejected?: 'next-sync' | 'on-change';
  readonly guardrails?: Guardrails<C>;
  /** How long a held sync waits for `lastmile approve` / `lastmile reject` before it is abandoned (default 24h). */
  readonly approvalTimeout?: DurationText;
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

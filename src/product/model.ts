import type { Check } from './checks.js';
import type { ColumnType } from './column-types.js';
import type { DurationText } from '../time/duration.js';
import type { SemVer } from './names.js';
import type { Source } from './source.js';
import type { Classification, Target } from './targets.js';

export type Audience = 'internal' | 'external';

export interface Owner {
  readonly team: string;
  readonly email: `${string}@${string}`;
}

/** Who uses the product and what action the data triggers. */
export interface ProductUser {
  readonly who: string;
  readonly action: string;
}

/** `'07:00 Europe/Berlin'` (or `'07:00:30 Europe/Berlin'`): a time of day and an IANA time zone. */
export type DeliverBy = `${string}:${string} ${string}`;

/** The latency objective: the p95 of each named serving query stays within `p95`. */
export interface LatencySloSpec {
  /** Largest allowed 95th percentile of each query's duration, e.g. `'800ms'`. */
  readonly p95: DurationText;
  /**
   * The queries the consumers run (what an API or a report sends), by name. Each run times them after serving. A
   * dashboard target's `queries` are timed as well; without either, there is nothing to time.
   */
  readonly queries?: { readonly [name: string]: Source };
  /** How often each query runs per measurement (default 5). */
  readonly samples?: number;
}

/**
 * The product's promises (service level objectives), measured over a rolling `window`. Each run records its
 * indicators (SLIs) in `lastmile.sli_measurements`; the SLO monitor measures freshness and deadlines between runs.
 */
export interface SloSpec {
  /** Data age: the served data is never older than this (the newest value of a dashboard's freshness column, else the time since the previous delivery). */
  readonly freshness?: DurationText;
  /** Share of scheduled runs in the window that deliver successfully and on time, in (0, 1], e.g. 0.99. */
  readonly availability?: number;
  /** Share of rows free of defects in every run, in (0, 1], e.g. 0.95; a run below it is blocked. */
  readonly defectFree?: number;
  /** Delivered by this time of day on each day the product's schedules run, e.g. `'07:00 Europe/Berlin'`. */
  readonly deliverBy?: DeliverBy;
  /** p95 latency of named serving queries. */
  readonly latency?: LatencySloSpec;
  /** Share of measurements that must meet the freshness, deliverBy and latency thresholds (default 0.99). */
  readonly objective?: number;
  /** The window the objectives are measured over, e.g. `'28d'`. */
  readonly window: DurationText;
}

/** What a product does with rows that fail a row-level check: stop serving, or serve only the valid rows. */
export type OnDefects = 'block' | 'quarantine';

export type Slo = SloSpec;

/** A column as validated: nullability and classification are always set. */
export interface Column<C extends string = string> {
  readonly name: C;
  readonly type: ColumnType;
  /** Default true: only `nullable: false` promises values. */
  readonly nullable: boolean;
  readonly description?: string;
  /** Default `internal`. */
  readonly classification: Classification;
}

export interface Contract<C extends string = string> {
  readonly key: readonly C[];
  readonly columns: readonly Column<C>[];
}

/** A named measure of the semantic layer: an aggregate SQL expression over the contract's columns. */
export interface Metric<C extends string = string> {
  readonly sql: string;
  readonly description?: string;
  /** Dimensions (contract columns) the metric may be grouped by; any contract column when omitted. */
  readonly by?: readonly C[];
}

/** A validated data product. */
export interface Product<C extends string = string, M extends string = string> {
  readonly name: string;
  readonly version: SemVer;
  readonly owner: Owner;
  readonly domain: string;
  readonly description: string;
  readonly audience: Audience;
  readonly users: readonly ProductUser[];
  readonly source: Source;
  readonly contract: Contract<C>;
  readonly metrics: Readonly<Record<M, Metric<C>>>;
  readonly checks: readonly Check<C>[];
  readonly slo?: Slo;
  /** `block` (default): failing rows block the run (by severity and `slo.defectFree`). `quarantine`: they are set aside and the rest is served. */
  readonly onDefects: OnDefects;
  readonly serve: readonly Target<C, M>[];
  /** Absolute path of the module the product was loaded from. */
  readonly file?: string;
}

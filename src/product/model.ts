import type { Check } from './checks.js';
import type { ColumnType } from './column-types.js';
import type { DurationText } from './duration.js';
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

/** `'07:00 Europe/Berlin'`: a time of day and an IANA time zone. */
export type DeliverBy = `${string}:${string} ${string}`;

export interface SloSpec {
  /** The served data is never older than this. */
  readonly freshness?: DurationText;
  /** Share of scheduled runs that deliver, in (0, 1], e.g. 0.99. */
  readonly availability?: number;
  /** Share of runs whose checks all pass, in (0, 1], e.g. 0.95. */
  readonly defectFree?: number;
  /** Delivered by this time of day, e.g. `'07:00 Europe/Berlin'`. */
  readonly deliverBy?: DeliverBy;
  /** A run takes at most this long. */
  readonly latency?: DurationText;
  /** The window the objectives are measured over, e.g. `'28d'`. */
  readonly window: DurationText;
}

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
  readonly serve: readonly Target<C, M>[];
  /** Absolute path of the module the product was loaded from. */
  readonly file?: string;
}

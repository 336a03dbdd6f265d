import type { DurationText } from '../time/duration.js';
import { MAX_NAME_LENGTH, toSnakeCase } from './names.js';
import { quoteQualified } from '../warehouse/quote.js';
import type { Source, TableRef } from './source.js';
import { renderSource } from './source.js';

/** `block` stops serving when the check fails; `warn` records the failure and serves anyway. */
export type Severity = 'block' | 'warn';

export interface CheckOptions {
  /** Unique within the product, snake_case; derived from the check when omitted. */
  name?: string;
  /** Default `block`. */
  severity?: Severity;
}

interface CheckBase {
  readonly kind: 'check';
  readonly name?: string;
  readonly severity?: Severity;
}

export type ScalarValue = string | number | boolean;

export interface NotNullCheck<C extends string = string> extends CheckBase {
  readonly type: 'notNull';
  readonly columns: readonly C[];
}
export interface UniqueCheck<C extends string = string> extends CheckBase {
  readonly type: 'unique';
  /** The combination of these columns is unique. */
  readonly columns: readonly C[];
}
export interface AcceptedValuesCheck<C extends string = string> extends CheckBase {
  readonly type: 'acceptedValues';
  readonly column: C;
  readonly values: readonly ScalarValue[];
}
export interface RangeCheck<C extends string = string> extends CheckBase {
  readonly type: 'range';
  readonly column: C;
  /** Bounds: numbers, or ISO dates/timestamps as strings; inclusive unless `exclusiveMin` / `exclusiveMax`. */
  readonly min?: number | string;
  readonly max?: number | string;
  /** When true, a value equal to `min` fails too (`value > min`). */
  readonly exclusiveMin?: boolean;
  /** When true, a value equal to `max` fails too (`value < max`). */
  readonly exclusiveMax?: boolean;
}
export interface PatternCheck<C extends string = string> extends CheckBase {
  readonly type: 'pattern';
  readonly column: C;
  /** A POSIX regular expression (Postgres `~`); every non-null value must match. */
  readonly pattern: string;
}
export interface RowCountCheck extends CheckBase {
  readonly type: 'rowCount';
  readonly min?: number;
  readonly max?: number;
  /**
   * Largest allowed change against the previous run's row count, as a share: 0.2 allows ±20%. Skipped when there
   * is no previous run (or it had no rows).
   */
  readonly maxChange?: number;
}
export interface FreshnessCheck<C extends string = string> extends CheckBase {
  readonly type: 'freshness';
  /** A date or timestamp column; its newest value must be younger than `maxAge`. */
  readonly column: C;
  readonly maxAge: DurationText;
}
export interface ReferencesCheck<C extends string = string> extends CheckBase {
  readonly type: 'references';
  readonly column: C;
  /** Every non-null value of `column` exists in this table's column. */
  readonly to: { readonly table: TableRef; readonly column: string };
}
export interface RowPredicateCheck extends CheckBase {
  readonly type: 'rowPredicate';
  /** A SQL boolean expression over the product's columns that every row satisfies, e.g. `returns <= units`. */
  readonly expression: string;
}
export interface AssertionCheck extends CheckBase {
  readonly type: 'assertion';
  /** A query that returns the offending rows: the check passes when it returns none. */
  readonly query: Source;
}

/** A check as written in a product module. */
export type CheckSpec<C extends string = string> =
  | NotNullCheck<C>
  | UniqueCheck<C>
  | AcceptedValuesCheck<C>
  | RangeCheck<C>
  | PatternCheck<C>
  | RowCountCheck
  | FreshnessCheck<C>
  | ReferencesCheck<C>
  | RowPredicateCheck
  | AssertionCheck;

export type CheckType = CheckSpec['type'];

/** A validated check: name and severity are always set. */
export type Check<C extends string = string> = CheckSpec<C> & { readonly name: string; readonly severity: Severity };

type Columns<C extends string> = C | readonly C[];

function columnList<C extends string>(columns: Columns<C>): readonly C[] {
  return typeof columns === 'string' ? [columns] : [...columns];
}

function base(options: CheckOptions | undefined): CheckBase {
  const out: { kind: 'check'; name?: string; severity?: Severity } = { kind: 'check' };
  if (options?.name !== undefined) out.name = options.name;
  if (options?.severity !== undefined) out.severity = options.severity;
  return out;
}

/** Builders for the checks a product declares; each returns plain data. */
export const check = {
  /** None of the columns is null. */
  notNull<const C extends string>(columns: Columns<C>, options?: CheckOptions): NotNullCheck<C> {
    return { ...base(options), type: 'notNull', columns: columnList(columns) };
  },
  /** No two rows share the same values of these columns (together). */
  unique<const C extends string>(columns: Columns<C>, options?: CheckOptions): UniqueCheck<C> {
    return { ...base(options), type: 'unique', columns: columnList(columns) };
  },
  /** Every non-null value is one of `values`. */
  acceptedValues<const C extends string>(
    column: C,
    values: readonly ScalarValue[],
    options?: CheckOptions,
  ): AcceptedValuesCheck<C> {
    return { ...base(options), type: 'acceptedValues', column, values: [...values] };
  },
  /** Every non-null value lies within [min, max]; `exclusiveMin` / `exclusiveMax` leave a bound out. */
  range<const C extends string>(
    column: C,
    bounds: { min?: number | string; max?: number | string; exclusiveMin?: boolean; exclusiveMax?: boolean } & CheckOptions,
  ): RangeCheck<C> {
    const { min, max, exclusiveMin, exclusiveMax, ...options } = bounds;
    return {
      ...base(options),
      type: 'range',
      column,
      ...(min !== undefined && { min }),
      ...(max !== undefined && { max }),
      ...(exclusiveMin !== undefined && { exclusiveMin }),
      ...(exclusiveMax !== undefined && { exclusiveMax }),
    };
  },
  /** Every non-null value matches a regular expression. */
  pattern<const C extends string>(column: C, pattern: string | RegExp, options?: CheckOptions): PatternCheck<C> {
    return { ...base(options), type: 'pattern', column, pattern: typeof pattern === 'string' ? pattern : pattern.source };
  },
  /** The number of rows is within [min, max], and/or within ±maxChange (a share) of the previous run's. */
  rowCount(bounds: { min?: number; max?: number; maxChange?: number } & CheckOptions): RowCountCheck {
    const { min, max, maxChange, ...options } = bounds;
    return {
      ...base(options),
      type: 'rowCount',
      ...(min !== undefined && { min }),
      ...(max !== undefined && { max }),
      ...(maxChange !== undefined && { maxChange }),
    };
  },
  /** The newest value of a date/timestamp column is younger than `maxAge`. */
  freshness<const C extends string>(column: C, options: { maxAge: DurationText } & CheckOptions): FreshnessCheck<C> {
    const { maxAge, ...rest } = options;
    return { ...base(rest), type: 'freshness', column, maxAge };
  },
  /** Every non-null value of `column` exists in another table's column (a foreign key). */
  references<const C extends string>(
    column: C,
    options: { table: TableRef; column: string } & CheckOptions,
  ): ReferencesCheck<C> {
    const { table, column: targetColumn, ...rest } = options;
    return { ...base(rest), type: 'references', column, to: { table, column: targetColumn } };
  },
  /** Every row satisfies a SQL boolean expression over the product's columns. */
  rowPredicate(expression: string, options?: CheckOptions): RowPredicateCheck {
    return { ...base(options), type: 'rowPredicate', expression };
  },
  /** A query returning offending rows; the check passes when it returns none. */
  assertion(query: Source, options?: CheckOptions): AssertionCheck {
    return { ...base(options), type: 'assertion', query };
  },
};

/** The name a check gets when none is given: stable under reordering, derived from what it checks. */
export function defaultCheckName(spec: CheckSpec): string {
  const slug = (...parts: readonly string[]) => toSnakeCase(parts.join('_')).slice(0, MAX_NAME_LENGTH);
  switch (spec.type) {
    case 'notNull':
      return slug('not_null', ...spec.columns);
    case 'unique':
      return slug('unique', ...spec.columns);
    case 'acceptedValues':
      return slug('accepted_values', spec.column);
    case 'range':
      return slug('range', spec.column);
    case 'pattern':
      return slug('pattern', spec.column);
    case 'rowCount':
      return 'row_count';
    case 'freshness':
      return slug('freshness', spec.column);
    case 'references':
      return slug('references', spec.column);
    case 'rowPredicate':
      return `row_predicate_${shortHash(spec.expression)}`;
    case 'assertion':
      return `assertion_${shortHash(renderSource(spec.query, (ref) => quoteQualified(ref.schema, ref.name)))}`;
  }
}

/** 8 hex digits of FNV-1a: enough to tell checks of one product apart. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** Columns of the product a check names (not those of other tables). */
export function checkColumns(spec: CheckSpec): readonly { column: string; path: (string | number)[] }[] {
  switch (spec.type) {
    case 'notNull':
    case 'unique':
      return spec.columns.map((column, index) => ({ column, path: ['columns', index] }));
    case 'acceptedValues':
    case 'range':
    case 'pattern':
    case 'freshness':
    case 'references':
      return [{ column: spec.column, path: ['column'] }];
    default:
      return [];
  }
}

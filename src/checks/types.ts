import type { CheckType, Severity } from '../product/checks.js';
import type { SchemaMap } from '../product/source.js';
import type { ScanStrategy } from './compile.js';
import type { SqlParam } from './sql.js';

/** Anything with pg's `query(config)`: a `pg.Pool`, a `pg.Client`, a pool client — or a wrapper counting statements. */
export interface Queryable {
  query(config: { text: string; values?: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}

export type CheckStatus = 'passed' | 'failed' | 'error';

/** What a check observed besides its failing count. */
export interface CheckDetail {
  /** freshness: newest value of the column (text, as Postgres prints it), or null when there is none */
  newest?: string | null;
  /** freshness: age of the newest value at `now`, in seconds */
  ageSeconds?: number | null;
  /** freshness: the allowed age, in seconds */
  maxAgeSeconds?: number;
  /** rowCount: rows of this run */
  rows?: number;
  /** rowCount: the previous run's rows, when given */
  previousRowCount?: number | null;
  /** rowCount: relative change against the previous run (0.25 = +25%), when both are known */
  change?: number | null;
  /** unique: how many distinct keys occur more than once */
  duplicateKeys?: number;
  /** the sample query failed (the count stands) */
  sampleError?: string;
}

export interface CheckResult {
  name: string;
  type: CheckType;
  severity: Severity;
  status: CheckStatus;
  /**
   * Row-level checks: rows failing. unique: rows whose key occurs more than once. references: rows whose value is
   * missing from the other table. assertion: rows the query returned. rowCount, freshness: 1 when failed, else 0.
   */
  failing: number;
  /**
   * Up to 5 examples, ordered: row-level checks and references — the contract key of failing rows (references add
   * the missing value); unique — the duplicated key values; assertion — the first rows it returned.
   */
  sampleKeys: Record<string, unknown>[];
  /**
   * A statement listing what this check found — the failing rows, the duplicated keys, the assertion's rows (see
   * reproduce.ts) — for a person to look at (parameters in `params`; recorded with them inlined).
   */
  sql: string;
  params: SqlParam[];
  /** One sentence for people, when the check failed or could not run. */
  message?: string;
  /** With status `error`: the database's message. */
  error?: string;
  detail?: CheckDetail;
}

export interface CheckReport {
  product: string;
  rows: number;
  /** Rows failing at least one row-level check (notNull, acceptedValues, range, pattern, rowPredicate). */
  defects: number;
  /** 1 − defects / rows; 1 when there are no rows. */
  defectFreeFraction: number;
  /** In declaration order. */
  results: CheckResult[];
  /** Statements sent to the warehouse. */
  statements: number;
  /** Serving must stop: a block-severity check failed or could not run, or the defect-free share is below the SLO. */
  blocked: boolean;
  /** Why it is blocked, one sentence each (empty when not blocked). */
  reasons: string[];
  /** Failed or broken warn-severity checks, one sentence each. */
  warnings: string[];
  durationMs: number;
}

export interface RunChecksOptions {
  /** Logical → physical schema names of the environment. */
  schemas?: SchemaMap;
  /** Reference time of freshness checks (default: the caller's clock). */
  now?: Date;
  /** Row count of the previous run (from `lastmile.runs`), for `rowCount({ maxChange })`. */
  previousRowCount?: number | null;
  /**
   * `block` (default): row-level failures block by severity and the defect-free SLO applies. `quarantine`: the
   * product serves only valid rows (`validRowsQuery`), so failing rows do not block; they go to quarantine
   * (`quarantineQuery`). Errors and dataset-level checks (unique, references, assertion, rowCount, freshness) still
   * block by severity.
   */
  onRowDefects?: 'block' | 'quarantine';
  /** How the scan is written (default `grouped`); see compile.ts. */
  strategy?: ScanStrategy;
  /**
   * Fence the source so each row is computed once however often checks refer to its columns (see fromSource in
   * sql.ts). Default: for query sources, not for tables.
   */
  fence?: boolean;
  /**
   * Pattern checks over a table source match once per most common value of the column, read from pg_stats inside
   * the scan (default true; see `patternLookup` in compile.ts). False: every row is matched.
   */
  valueLookups?: boolean;
}

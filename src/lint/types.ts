/**
 * What `lastmile lint` reports: findings read from the source text of products/, lastmile.config.ts and workflows/
 * with the TypeScript compiler (ts-morph). Nothing is imported or run.
 */

export type Severity = 'error' | 'warning';

/** The stable ids of the rules (docs/static-analysis.md lists each). */
export type RuleId =
  | 'credentials/token-shape'
  | 'credentials/url-password'
  | 'credentials/literal-secret'
  | 'credentials/process-env'
  | 'side-effects/io'
  | 'side-effects/network'
  | 'side-effects/child-process'
  | 'side-effects/timer'
  | 'side-effects/process'
  | 'determinism/clock'
  | 'determinism/random'
  | 'determinism/io'
  | 'determinism/import'
  | 'lint/suppression'
  | 'lint/unused-suppression';

/** A place in a file, 1-based as editors show it; the end is exclusive (the column after the last character). */
export interface Region {
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface Finding extends Region {
  /** the file relative to the project root, with `/` (e.g. `products/ad_bids.ts`) */
  readonly file: string;
  readonly rule: RuleId;
  readonly severity: Severity;
  /** what is wrong, in one sentence; a credential appears masked at most (its first 4 characters and '…') */
  readonly message: string;
  /** how to fix it, in one sentence */
  readonly fix: string;
}

/** What a rule found before suppressions are applied: a finding without its file and severity. */
export interface RawFinding extends Region {
  readonly rule: RuleId;
  readonly message: string;
  readonly fix: string;
}

/** Which rules apply to a file, by where it is in the project. */
export type FileRole = 'product' | 'config' | 'workflow';

export interface LintResult {
  /** sorted by file, line and column */
  readonly findings: readonly Finding[];
  /** how many files were read */
  readonly files: number;
}

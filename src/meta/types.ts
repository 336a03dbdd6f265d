/** Records of the metadata store (`lastmile` schema), as the store API reads and writes them. */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'blocked', 'incomplete', 'partial', 'canceled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** How a run ended; `finishRun` takes one of these. */
export type FinalRunStatus = Exclude<RunStatus, 'running'>;

export const RUN_TRIGGERS = ['manual', 'schedule', 'dev'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

export const TARGET_STATUSES = ['running', 'succeeded', 'failed', 'skipped', 'blocked', 'partial', 'canceled'] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

export const CHECK_SEVERITIES = ['block', 'warn'] as const;
export type CheckSeverity = (typeof CHECK_SEVERITIES)[number];

export const CHECK_STATUSES = ['passed', 'failed', 'error', 'skipped'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface StartRunInput {
  runId: string;
  product: string;
  env: string;
  trigger: RunTrigger;
  productVersion?: string;
  gitSha?: string;
  workflowId?: string;
  /** Defaults to the database clock. */
  startedAt?: Date;
}

export interface FinishRunInput {
  runId: string;
  status: FinalRunStatus;
  /** Defaults to the database clock. */
  finishedAt?: Date;
  rows?: number;
  /** Share of rows failing error-severity checks, 0–1. */
  defectRate?: number;
  /** Summary of the checks, e.g. `{ passed: 4, failed: 1 }`. */
  checks?: JsonValue;
  /** Why the run was blocked, one sentence each. */
  reasons?: string[];
  error?: string;
}

export interface RunRecord {
  runId: string;
  product: string;
  env: string;
  productVersion: string | null;
  gitSha: string | null;
  status: RunStatus;
  trigger: RunTrigger;
  workflowId: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  rows: number | null;
  defectRate: number | null;
  checks: JsonValue | null;
  /** Why the run was blocked (empty otherwise). */
  reasons: string[];
  error: string | null;
}

export interface TargetRunInput {
  runId: string;
  target: string;
  /** Serving kind: 'dashboard', 'files', 'sharing', 'reverse_etl'… */
  kind: string;
  status: TargetStatus;
  startedAt?: Date;
  finishedAt?: Date;
  rows?: number;
  bytes?: number;
  detail?: JsonValue;
  error?: string;
}

export interface TargetRunRecord {
  runId: string;
  target: string;
  kind: string;
  status: TargetStatus;
  startedAt: Date;
  finishedAt: Date | null;
  rows: number | null;
  bytes: number | null;
  detail: JsonValue | null;
  error: string | null;
}

export interface CheckResultInput {
  checkName: string;
  /** Check kind: 'not_null', 'unique', 'row_predicate', 'freshness'… */
  kind: string;
  severity: CheckSeverity;
  status: CheckStatus;
  /** Rows failing the check. */
  failing?: number;
  /** A few failing rows, for people to look at. */
  sample?: JsonValue;
  /** The SQL that ran, for reproduction. */
  sql?: string;
}

export interface CheckResultRecord extends Required<Omit<CheckResultInput, 'sample' | 'sql'>> {
  runId: string;
  sample: JsonValue | null;
  sql: string | null;
  recordedAt: Date;
}

export interface SliInput {
  product: string;
  env: string;
  sli: string;
  value: number;
  good: boolean;
  /** When given, the measurement is recorded once per run (a second call updates it). */
  runId?: string;
  measuredAt?: Date;
  /** What was observed besides the value (the deadline judged, each query's latency…). */
  detail?: JsonValue;
}

export interface SliRecord {
  measurementId: number;
  product: string;
  env: string;
  runId: string | null;
  sli: string;
  value: number;
  good: boolean;
  measuredAt: Date;
  detail: JsonValue | null;
}

export interface DeploymentInput {
  env: string;
  product: string;
  version: string;
  gitSha?: string;
  manifest?: JsonValue;
  deployedAt?: Date;
}

export interface DeploymentRecord {
  deploymentId: number;
  env: string;
  product: string;
  version: string;
  gitSha: string | null;
  deployedAt: Date;
  manifest: JsonValue;
}

export interface ListRunsQuery {
  env?: string;
  product?: string;
  status?: RunStatus;
  /** only the runs of this version of the product */
  productVersion?: string;
  /** only finished runs (not `running`) */
  finished?: boolean;
  /** Most rows returned, newest first (default 50, at most 1000). */
  limit?: number;
}

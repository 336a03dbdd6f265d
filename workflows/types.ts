/** Inputs and results of lastmile's workflows; plain data, shared by workflows, activities and clients. */
import type { ServingKind } from './kinds.js';

export type RunTrigger = 'manual' | 'schedule' | 'dev';

export interface ServeProductInput {
  env: string;
  product: string;
  /** serve only these targets (default: all) */
  targets?: string[];
  trigger: RunTrigger;
  gitSha?: string;
  /** names this run's child workflows; scheduled runs derive it from their start time */
  runKey?: string;
}

export interface PlannedTarget {
  name: string;
  kind: ServingKind;
  /** child workflow type, or undefined when this version of lastmile cannot serve the kind yet */
  workflowType?: string;
}

export interface RunPlan {
  runId: string;
  version: string;
  owner: string;
  targets: PlannedTarget[];
  /** the product declares SLOs: the run records its SLIs */
  hasSlo: boolean;
  /** the product declares `slo.latency`: the run times its serving queries */
  measuresLatency: boolean;
  /** the environment emits OpenLineage events: planRun recorded the START, and the run wakes their delivery */
  lineage?: boolean;
}

export interface ServeTargetInput {
  env: string;
  product: string;
  target: string;
  runId: string;
  /** what the run's checks found (a files manifest carries it) */
  checks?: CheckOutcome;
}

export interface TargetResult {
  name: string;
  kind: ServingKind;
  /** `partial`: served, but some rows were rejected or not delivered (reverse ETL) — not a full delivery */
  status: 'succeeded' | 'failed' | 'skipped' | 'blocked' | 'partial';
  rows?: number;
  bytes?: number;
  error?: string;
  detail?: string;
  /** dashboard targets: the p50 / p95 of each dashboard query, timed after the refresh */
  latency?: Record<string, QueryLatency>;
  /** dashboard targets: how old the newest data was once refreshed */
  dataAge?: DataAge;
  /** when the run began serving this target (workflow time) */
  startedAt?: string;
  /** reverse ETL targets: the plan's counts and what the destination said */
  sync?: SyncResult;
}

/** What a sync planned and what came of it. */
export interface SyncResult {
  planned: { rows: number; insert: number; update: number; upsert: number; delete: number; nullKeys: number; unchanged: number; synced: number };
  applied: number;
  unchanged: number;
  rejected: number;
  transient: number;
  requests: number;
  throttled: number;
  retries: number;
  lookedUp: number;
  batches: number;
  durationMs: number;
}

/** A human decision on a held sync, delivered as a signal. */
export interface SyncDecisionInput {
  by?: string;
  reason?: string;
}

/** How long one named query took: p50 and p95 over `samples` runs, in milliseconds. */
export type QueryLatency = {
  p50Ms: number;
  p95Ms: number;
  samples: number;
};

/** The newest value of a date or timestamp column of a refreshed object, and its age when measured. */
export type DataAge = {
  target: string;
  object: string;
  column: string;
  /** ISO time of the newest value */
  newest: string;
  ageSeconds: number;
  measuredAt: string;
};

/** What the checks of a run found (the verdict of `runChecks`, without the SQL). */
export interface CheckOutcome {
  rows: number;
  /** rows failing at least one row-level check */
  defects: number;
  /** 1 − defects / rows */
  defectFreeFraction: number;
  /** serving stops: a blocking check failed or could not run, or the defect-free share is below the SLO */
  blocked: boolean;
  reasons: string[];
  warnings: string[];
  passed: number;
  failed: number;
  errors: number;
  /** rows copied to lastmile.quarantine (products with `onDefects: 'quarantine'`) */
  quarantined: number;
  statements: number;
  durationMs: number;
  checks: { name: string; type: string; severity: 'block' | 'warn'; status: 'passed' | 'failed' | 'error'; failing: number }[];
}

/** The p50 / p95 of each named serving query of `slo.latency`, in milliseconds. */
export interface LatencyOutcome {
  p95Ms: number;
  good: boolean;
  queries: Record<string, QueryLatency>;
}

/**
 * `incomplete`: nothing failed, but not every target was served (one was skipped): not a delivery. `partial`: every
 * target was served, but a sync's destination rejected rows (or some were not delivered): not a full delivery either.
 */
export type RunStatus = 'succeeded' | 'failed' | 'blocked' | 'incomplete' | 'partial';

export interface RunSummary {
  runId: string;
  workflowId: string;
  env: string;
  product: string;
  version: string;
  status: RunStatus;
  rows: number;
  startedAt: string;
  finishedAt: string;
  targets: TargetResult[];
  /** the checks' verdict; absent when the source could not be read */
  checks?: CheckOutcome;
  latency?: LatencyOutcome;
  error?: string;
}

export interface SloMonitorInput {
  env: string;
  product: string;
  /** ISO time the monitor was first started: deadlines before it are not judged (nobody promised them yet) */
  since: string;
  /** continue as new once the history has this many events (default MONITOR_HISTORY_LIMIT) */
  historyLimit?: number;
}

/** What one evaluation of the SLO monitor found and what it asks the workflow to do. */
export interface MonitorEvaluation {
  /** how long to sleep before the next evaluation (the next deadline or the monitor interval, whichever is first) */
  sleepMs: number;
  /** alert deliveries not yet made */
  pending: { alertId: number; event: 'open' | 'resolve'; channel: string }[];
  /** the product is gone from the project: the monitor ends */
  retired: boolean;
}

/** One file of a files target: which rows, and the file name under the version's folder. */
export interface PartitionPlan {
  /** `all`, the splitBy value, or the part number */
  id: string;
  /** the file name under `v=<runId>/` */
  file: string;
  filter: { kind: 'all' } | { kind: 'value'; value: string | null } | { kind: 'rows'; offset: number; limit: number };
}

export interface ExportPlan {
  /** where the files go, for people (no credentials) */
  destination: string;
  partitions: PartitionPlan[];
}

/** A partition written: its object key (relative to the destination) and what it holds. */
export interface ExportedFile {
  key: string;
  partition: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** What a dashboard refresh will do: its objects with their dependencies, the BI tools to tell, the queries to time. */
export interface RefreshPlan {
  /** the physical schema of the objects */
  schema: string;
  objects: { name: string; strategy: 'concurrently' | 'swap'; dependsOn: string[] }[];
  tools: { index: number; name: string; async: boolean; pollEveryMs: number; maxWaitMs: number }[];
  /** BI tools this environment does not call (another environment's), and why */
  notCalled?: { name: string; reason: string }[];
  queries: string[];
}

/** One object refreshed: how, how many rows, how long it took, and when (workflow tests read the order from it). */
export interface ObjectRefreshed {
  name: string;
  strategy: 'concurrently' | 'swap';
  action: 'refreshed' | 'rebuilt' | 'created';
  reason?: string;
  rows: number;
  durationMs: number;
  startedAt: string;
  finishedAt: string;
  /** a replaced relation still read by others, kept for now */
  kept?: { relation: string; readBy: string[] };
}

/** What an asynchronous BI refresh reported when polled. */
export interface BiRefreshState {
  state: 'running' | 'done' | 'failed';
  status: string;
  message?: string;
}

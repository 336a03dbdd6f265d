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
}

export interface ServeTargetInput {
  env: string;
  product: string;
  target: string;
  runId: string;
}

export interface TargetResult {
  name: string;
  kind: ServingKind;
  status: 'succeeded' | 'failed' | 'skipped';
  rows?: number;
  bytes?: number;
  error?: string;
  detail?: string;
}

export interface RunSummary {
  runId: string;
  workflowId: string;
  env: string;
  product: string;
  version: string;
  status: 'succeeded' | 'failed';
  rows: number;
  startedAt: string;
  finishedAt: string;
  targets: TargetResult[];
  error?: string;
}

import { api, type HistoryEvent } from '../proto.js';
import type { ExecutionState } from './state.js';

/** An update request waiting for the workflow to accept or reject it. */
export interface AdmittedUpdate {
  updateId: string;
  /** encoded temporal.api.update.v1.Request */
  request: Uint8Array;
  /** the stamp of the workflow task that carried it to a worker (it is carried again until answered) */
  deliveredIn?: number;
  /** set when the workflow's validator rejected it: the encoded temporal.api.update.v1.Outcome */
  rejection?: Uint8Array;
}

const ES = api.enums.v1.WorkflowExecutionStatus;

/** One workflow run: its durable state, its history while it is in memory, and who waits on it. */
export class Execution {
  /** History events; undefined once evicted from memory (closed runs), then read from the database. */
  events: HistoryEvent[] | undefined;
  /** set while a workflow task completion is being applied: follow-up events wait for the end of the batch */
  completing = false;
  /** a workflow task should be scheduled when the current batch of changes ends */
  needsTask = false;
  /** the history passed the size limit; the run is being terminated */
  oversized = false;
  readonly historyWaiters = new Set<() => void>();
  readonly closeWatchers: ((status: number, closeTime: number) => void)[] = [];
  pendingQueries: string[] = [];
  /**
   * Updates admitted but not yet accepted or rejected by the workflow. Kept in memory only, as Temporal does: an
   * admitted update is not durable, and the client retries it if the server goes away before acceptance.
   */
  readonly admittedUpdates = new Map<string, AdmittedUpdate>();
  readonly updateWaiters = new Set<() => void>();
  /** decoded search attributes for visibility, rebuilt lazily */
  visibilityCache: Record<string, unknown> | undefined;

  constructor(
    public s: ExecutionState,
    events: HistoryEvent[] | undefined,
  ) {
    this.events = events;
  }

  get key(): string {
    return runKey(this.s.namespace, this.s.runId);
  }

  get open(): boolean {
    return this.s.status === ES.WORKFLOW_EXECUTION_STATUS_RUNNING;
  }

  notifyUpdates(): void {
    for (const waiter of [...this.updateWaiters]) waiter();
  }

  notifyHistory(): void {
    for (const waiter of [...this.historyWaiters]) waiter();
  }
}

export function runKey(namespace: string, runId: string): string {
  return `${namespace}\u0000${runId}`;
}

export function workflowKey(namespace: string, workflowId: string): string {
  return `${namespace}\u0000${workflowId}`;
}

export function newState(init: Omit<ExecutionState, 'activities' | 'timers' | 'children' | 'buffered' | 'stampSeq' | 'signalRequestIds' | 'cancelRequested' | 'lastCompletedStartedEventId' | 'nextEventId' | 'historyBytes'>): ExecutionState {
  return {
    ...init,
    nextEventId: 1,
    historyBytes: 0,
    signalRequestIds: [],
    cancelRequested: false,
    buffered: [],
    lastCompletedStartedEventId: 0,
    activities: {},
    timers: {},
    children: {},
    stampSeq: 0,
  };
}

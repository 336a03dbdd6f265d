import { api, type HistoryEvent } from '../proto.js';
import type { ExecutionState } from './state.js';

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

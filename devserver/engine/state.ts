/**
 * The mutable state of one workflow run. It is kept in memory, saved as JSON with every change, and rebuilt from the
 * database at start. Payload-carrying parts of commands (inputs, headers, timeouts) stay in the history events that
 * scheduled them; the state keeps only what changes, keyed by those events' ids.
 */
export interface ActivityState {
  scheduledEventId: number;
  activityId: string;
  attempt: number;
  /** first scheduling time, start of the schedule-to-close timeout */
  scheduledAt: number;
  /** when the current attempt became dispatchable (after its retry backoff) */
  attemptScheduledAt: number;
  state: 'scheduled' | 'started';
  startedAt?: number;
  identity?: string;
  requestId?: string;
  heartbeatAt?: number;
  /** base64 Payloads of the last heartbeat */
  heartbeatDetails?: string;
  /** base64 Failure of the last failed attempt */
  lastFailure?: string;
  cancelRequested?: boolean;
  cancelRequestedEventId?: number;
  timeouts: { scheduleToClose: number; scheduleToStart: number; startToClose: number; heartbeat: number };
  /** bumps with every start / retry, so stale timers and tokens are recognised */
  stamp: number;
}

export interface TimerState {
  timerId: string;
  startedEventId: number;
  fireAt: number;
}

export interface ChildState {
  initiatedEventId: number;
  namespace: string;
  workflowId: string;
  workflowType: string;
  runId?: string;
  startedEventId?: number;
  parentClosePolicy: number;
}

export interface WorkflowTaskState {
  scheduledEventId: number;
  startedEventId?: number;
  attempt: number;
  scheduledAt: number;
  startedAt?: number;
  /** dispatched to the sticky queue named here */
  stickyQueue?: string;
  /** attempt > 1: scheduled/started events are not written to history until the task completes */
  transient: boolean;
  identity?: string;
  requestId?: string;
  stamp: number;
  /**
   * scheduled only to deliver updates (no new events): when the worker answers with rejections only, the task leaves
   * no trace in history and the worker is told to forget it (reset_history_event_id). Absent in older state.
   */
  speculative?: boolean;
}

/** An accepted update (the request itself lives in its WorkflowExecutionUpdateAccepted event). */
export interface UpdateRecord {
  acceptedEventId: number;
  completedEventId?: number;
}

export interface ParentRef {
  namespace: string;
  workflowId: string;
  runId: string;
  initiatedEventId: number;
}

export interface ExecutionState {
  namespace: string;
  workflowId: string;
  runId: string;
  firstRunId: string;
  workflowType: string;
  taskQueue: string;
  status: number;
  startTime: number;
  executionTime: number;
  closeTime?: number;
  closeEventId?: number;
  /** next run created by retry, cron or continue-as-new */
  nextRunId?: string;
  nextEventId: number;
  historyBytes: number;
  requestIds: string[];
  signalRequestIds: string[];
  /** base64 Memo */
  memo?: string;
  /** name → base64 Payload */
  searchAttributes: Record<string, string>;
  runTimeoutMs: number;
  executionTimeoutMs: number;
  taskTimeoutMs: number;
  /** absolute deadline of the whole chain of runs (execution timeout), 0 = none */
  executionExpiresAt: number;
  runExpiresAt: number;
  /** base64 RetryPolicy of the workflow itself */
  retryPolicy?: string;
  attempt: number;
  parent?: ParentRef;
  /** when set, the first workflow task waits until this time (start delay, retry / cron backoff) */
  firstTaskAt?: number;
  lastCompletedStartedEventId: number;
  wt?: WorkflowTaskState;
  sticky?: { queue: string; scheduleToStartMs: number };
  cancelRequested: boolean;
  /** events that arrived while a workflow task was running, base64 HistoryEvent without id; written after it completes */
  buffered: string[];
  activities: Record<string, ActivityState>;
  timers: Record<string, TimerState>;
  children: Record<string, ChildState>;
  stampSeq: number;
  /** accepted updates by update id; absent in state written before updates were supported */
  updates?: Record<string, UpdateRecord>;
  /** cron_schedule of the chain of runs (carried to every run); absent = not a cron workflow */
  cronSchedule?: string;
}

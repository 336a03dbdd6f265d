/**
 * The time in workflow code. Temporal's sandbox pins `Date` to the start of the current workflow task, so the value is
 * the same on every replay of the history; this is the one place workflows read it (lastmile lint flags any other).
 */
export function workflowNow(): Date {
  // lastmile-lint-ignore determinism/clock: the sandbox pins Date to the workflow task's time, the same on every replay
  return new Date();
}

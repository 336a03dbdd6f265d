/** Exit codes of the `lastmile` command (documented in the README). */
export const EXIT = {
  ok: 0,
  /** a run failed, or products / config are invalid */
  failed: 1,
  /** the command line itself is wrong */
  usage: 2,
  /** something lastmile needs is unavailable: warehouse, Temporal, a variable */
  environment: 3,
} as const;

export class UsageError extends Error {}

/**
 * A command could not do what it was asked, and its message says everything there is to say (a version that does
 * not exist, say): exit 1, no stack trace offered.
 */
export class CommandFailure extends Error {}

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

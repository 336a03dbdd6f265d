import { ApplicationFailure } from '@temporalio/workflow';

/** The message that says what went wrong: an activity's or child's own failure, not Temporal's wrapper around it. */
export function failureMessage(error: unknown): string {
  if (error instanceof ApplicationFailure || error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : error.message;
  }
  return String(error);
}

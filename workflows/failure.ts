import { ApplicationFailure } from '@temporalio/workflow';

/**
 * The message that says what went wrong: the innermost cause's — an activity's or child's own failure — not the
 * wrappers Temporal puts around it ("Child Workflow execution failed", "Activity task failed").
 */
export function failureMessage(error: unknown): string {
  if (error instanceof ApplicationFailure || error instanceof Error) {
    let innermost: Error = error;
    for (let depth = 0; depth < 10; depth++) {
      const cause = (innermost as { cause?: unknown }).cause;
      if (!(cause instanceof Error)) break;
      innermost = cause;
    }
    return innermost.message;
  }
  return String(error);
}

import { ApplicationFailure } from '@temporalio/activity';
import { INPUT_ERROR } from '../../src/errors.js';

/**
 * Temporal names an activity's failure by the error's class (`error.constructor.name`), not by `error.name`. lastmile's
 * errors carry the name the workflows match on in `name` (an input error is `LastmileInputError` whatever its class;
 * a version that does not match its manifest is `LastmileVerifyError`), so every activity's errors pass through here:
 * one whose name differs from its class becomes an ApplicationFailure of that type — non-retryable for an input error.
 */
export function asFailure(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof ApplicationFailure || error.name === error.constructor.name) return error;
  return ApplicationFailure.create({ message: error.message, type: error.name, nonRetryable: error.name === INPUT_ERROR });
}

type AsyncFunction = (...args: never[]) => Promise<unknown>;

/** The same activities, each reporting its errors through `asFailure`. */
export function withFailureTypes<T extends Record<string, AsyncFunction>>(activities: T): T {
  const wrapped: Record<string, AsyncFunction> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        throw asFailure(error);
      }
    };
  }
  return wrapped as T;
}

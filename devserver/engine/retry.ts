import type { temporal } from '@temporalio/proto';
import { api, durMs, toNum, type Failure } from '../proto.js';

type RetryPolicyMsg = temporal.api.common.v1.RetryPolicy.$Properties;
type FailureLike = Failure | temporal.api.failure.v1.Failure.$Properties;

export interface RetryDecision {
  retry: boolean;
  delayMs: number;
  /** RetryState enum value for the final event when not retrying */
  state: number;
}

const RS = api.enums.v1.RetryState;

/** Fills the defaults Temporal documents for an activity retry policy. */
export function withActivityDefaults(policy: RetryPolicyMsg | null | undefined): temporal.api.common.v1.RetryPolicy {
  const initialMs = durMs(policy?.initialInterval) || 1000;
  return api.common.v1.RetryPolicy.fromObject({
    initialInterval: msDuration(initialMs),
    backoffCoefficient: policy?.backoffCoefficient && policy.backoffCoefficient >= 1 ? policy.backoffCoefficient : 2,
    maximumInterval: msDuration(durMs(policy?.maximumInterval) || initialMs * 100),
    maximumAttempts: policy?.maximumAttempts ?? 0,
    nonRetryableErrorTypes: policy?.nonRetryableErrorTypes ?? [],
  });
}

function msDuration(ms: number): { seconds: number; nanos: number } {
  const s = Math.floor(ms / 1000);
  return { seconds: s, nanos: (ms - s * 1000) * 1e6 };
}

function failureType(failure: FailureLike | null | undefined): string | undefined {
  return failure?.applicationFailureInfo?.type ?? undefined;
}

/** True when the failure itself forbids retrying (non-retryable application failure or listed type). */
function nonRetryable(policy: RetryPolicyMsg, failure: FailureLike | null | undefined): boolean {
  if (!failure) return false;
  if (failure.applicationFailureInfo?.nonRetryable) return true;
  if (failure.terminatedFailureInfo || failure.canceledFailureInfo) return true;
  const type = failureType(failure);
  return type !== undefined && (policy.nonRetryableErrorTypes ?? []).includes(type);
}

/**
 * Whether attempt `attempt` (1-based, the one that just failed) is followed by another, and after how long.
 * `deadline` is an absolute time (ms) past which no attempt may start (0 = none).
 */
export function decideRetry(
  policy: RetryPolicyMsg | null | undefined,
  attempt: number,
  failure: FailureLike | null | undefined,
  now: number,
  deadline: number,
): RetryDecision {
  if (!policy) return { retry: false, delayMs: 0, state: RS.RETRY_STATE_RETRY_POLICY_NOT_SET };
  if (nonRetryable(policy, failure)) return { retry: false, delayMs: 0, state: RS.RETRY_STATE_NON_RETRYABLE_FAILURE };
  const max = policy.maximumAttempts ?? 0;
  if (max > 0 && attempt >= max) return { retry: false, delayMs: 0, state: RS.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED };
  const initial = durMs(policy.initialInterval) || 1000;
  const coefficient = policy.backoffCoefficient && policy.backoffCoefficient >= 1 ? policy.backoffCoefficient : 2;
  const maxInterval = durMs(policy.maximumInterval) || initial * 100;
  let delay = Math.min(initial * coefficient ** (attempt - 1), maxInterval);
  const requested = failure?.applicationFailureInfo?.nextRetryDelay;
  if (requested && toNum(requested.seconds) + (requested.nanos ?? 0) > 0) delay = durMs(requested);
  if (deadline > 0 && now + delay >= deadline) return { retry: false, delayMs: 0, state: RS.RETRY_STATE_TIMEOUT };
  return { retry: true, delayMs: Math.round(delay), state: RS.RETRY_STATE_IN_PROGRESS };
}

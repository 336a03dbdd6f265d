import { condition, defineSignal, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { MonitorActivities } from '../activities/slo/monitor-activities.js';
import type { ReverseEtlActivities } from '../activities/reverse-etl/reverse-etl-activities.js';
import { INPUT_ERROR } from './errors.js';
import { failureMessage } from './failure.js';
import type { ServeTargetInput, SyncDecisionInput, TargetResult } from './types.js';

/** `lastmile approve <run>`: apply the held sync's frozen plan. */
export const approveSyncSignal = defineSignal<[SyncDecisionInput]>('approveSync');
/** `lastmile reject <run>`: send nothing. */
export const rejectSyncSignal = defineSignal<[SyncDecisionInput]>('rejectSync');

const bookkeeping = proxyActivities<ReverseEtlActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 30, nonRetryableErrorTypes: [INPUT_ERROR] },
});

const sending = proxyActivities<ReverseEtlActivities>({
  startToCloseTimeout: '6 hours',
  // the apply step heartbeats every 2 s: a worker lost mid-sync is noticed within 10 s, and the next attempt resumes
  // at the first batch the destination did not acknowledge
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 20, nonRetryableErrorTypes: [INPUT_ERROR] },
});

const delivery = proxyActivities<MonitorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: [INPUT_ERROR] },
});

/**
 * Serves a `reverseEtl` target: freezes the run's plan (the difference against what the destination acknowledged),
 * judges the guardrails on it and — when one trips — holds, raises an alert and waits for `approveSync` /
 * `rejectSync` (abandoned after the target's approval timeout); then applies exactly the frozen plan. Rows the
 * destination rejected make the target `partial`, never plain success.
 */
export async function reverseEtlSync(input: ServeTargetInput): Promise<TargetResult> {
  const scope = { env: input.env, product: input.product, target: input.target, runId: input.runId };
  let decision: { approve: boolean; by?: string; reason?: string } | undefined;
  setHandler(approveSyncSignal, (d) => {
    decision ??= { approve: true, ...d };
  });
  setHandler(rejectSyncSignal, (d) => {
    decision ??= { approve: false, ...d };
  });

  const plan = await bookkeeping.freezeSync({ ...scope, workflowId: workflowInfo().workflowId });
  const planned = `${plan.counts.insert + plan.counts.update + plan.counts.upsert} to write, ${plan.counts.delete} to delete, ${plan.counts.unchanged} unchanged`;
  if (plan.held) {
    const tripped = plan.verdicts.filter((v) => v.tripped).map((v) => v.message);
    const { pending } = await bookkeeping.holdSync({ ...scope, timeoutMs: plan.approvalTimeoutMs });
    await deliver(input.env, pending);
    const decided = await condition(() => decision !== undefined, plan.approvalTimeoutMs);
    const choice = decided ? (decision!.approve ? 'approved' : 'rejected') : 'abandoned';
    const recorded = await bookkeeping.decideSync({
      ...scope,
      decision: choice,
      ...(decision?.by !== undefined && { by: decision.by }),
      ...(decision?.reason !== undefined && { reason: decision.reason }),
    });
    await deliver(input.env, recorded.pending);
    if (recorded.state !== 'approved') {
      const why = recorded.state === 'held' || recorded.state === choice ? choice : `${recorded.state} (a newer plan superseded it)`;
      return {
        name: input.target,
        kind: 'reverseEtl',
        status: 'blocked',
        rows: 0,
        detail: `held by guardrails (${tripped.join('; ')}), then ${why}${decision?.by ? ` by ${decision.by}` : ''}: nothing was sent (${planned})`,
      };
    }
  }
  if (plan.batches === 0) {
    const idle = { applied: 0, unchanged: 0, rejected: plan.counts.nullKeys, transient: 0, requests: 0, throttled: 0, retries: 0, lookedUp: 0, batches: 0, durationMs: 0 };
    return {
      name: input.target,
      kind: 'reverseEtl',
      status: plan.counts.nullKeys > 0 ? 'partial' : 'succeeded',
      rows: 0,
      detail: `nothing to send: ${plan.counts.unchanged} records already in sync at ${plan.destination}${plan.counts.nullKeys > 0 ? `; ${plan.counts.nullKeys} rows rejected for a NULL key` : ''}`,
      sync: { ...idle, planned: plan.counts },
    };
  }
  const outcome = await sending.applySync(scope);
  const notDelivered = outcome.rejected + outcome.transient;
  const detail =
    `${outcome.applied} applied, ${outcome.unchanged} unchanged, ${outcome.rejected} rejected${outcome.transient > 0 ? `, ${outcome.transient} not delivered (transient; sent again next sync)` : ''}` +
    ` at ${plan.destination} in ${outcome.requests} requests${outcome.throttled > 0 ? ` (${outcome.throttled} throttled)` : ''}` +
    (plan.held ? '; approved after its guardrails held it' : plan.verdicts.length > 0 ? `; guardrails passed: ${plan.verdicts.map((v) => v.message).join('; ')}` : '');
  return {
    name: input.target,
    kind: 'reverseEtl',
    status: notDelivered > 0 ? 'partial' : 'succeeded',
    rows: outcome.applied,
    detail,
    sync: { ...outcome, planned: plan.counts },
  };
}

async function deliver(env: string, pending: { alertId: number; event: 'open' | 'resolve'; channel: string }[]): Promise<void> {
  await Promise.all(
    pending.map((p) =>
      delivery.deliverAlert({ env, ...p }).catch((error: unknown) => {
        // recorded as pending: the SLO monitor's next evaluation delivers it
        log.warn(`alert ${p.alertId} (${p.event}) to ${p.channel} was not delivered: ${failureMessage(error)}`);
      }),
    ),
  );
}

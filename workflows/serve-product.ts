import { ApplicationFailure, executeChild, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { workflowNow } from './clock.js';
import type { CheckActivities } from '../activities/checks/check-activities.js';
import type { CoreActivities } from '../activities/core/run-activities.js';
import type { LineageActivities } from '../activities/lineage/lineage-activities.js';
import type { RunSloActivities } from '../activities/slo/run-slis.js';
import { failureMessage } from './failure.js';
import { runKeyOf, targetWorkflowId } from './ids.js';
import { runSearchAttributes } from './search-attributes.js';
import type {
  CheckOutcome,
  LatencyOutcome,
  PlannedTarget,
  QueryLatency,
  RunPlan,
  RunStatus,
  RunSummary,
  ServeProductInput,
  ServeTargetInput,
  TargetResult,
} from './types.js';
import { INPUT_ERROR } from './errors.js';
import { unservable } from './kinds.js';

const bookkeeping = proxyActivities<CoreActivities & RunSloActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: [INPUT_ERROR] },
});

const warehouse = proxyActivities<CheckActivities & RunSloActivities>({
  startToCloseTimeout: '30 minutes',
  // both heartbeat while the warehouse works: a worker lost mid-scan is noticed in seconds, not after 30 minutes
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [INPUT_ERROR] },
});

// waking the lineage delivery is a signal: tried a few times, and a run never waits for the lineage receiver
const lineage = proxyActivities<LineageActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: [INPUT_ERROR] },
});

/** Wakes the environment's lineage delivery (workflows/lineage-delivery.ts); its events are in the outbox already. */
async function notifyLineage(env: string, runId: string): Promise<void> {
  await lineage.notifyLineage({ env }).catch((error: unknown) => {
    // the events wait in the outbox: the next run's notification, or the delivery's own retries, send them
    log.warn(`the lineage delivery of ${env} was not told about run ${runId}: ${failureMessage(error)}`, { env, runId });
  });
}

async function serveTarget(input: ServeProductInput, plan: RunPlan, runKey: string, target: PlannedTarget, checks: CheckOutcome): Promise<TargetResult> {
  const runId = plan.runId;
  const startedAt = workflowNow().toISOString();
  if (!target.workflowType) {
    const skipped: TargetResult = {
      name: target.name,
      kind: target.kind,
      status: 'skipped',
      detail: unservable(target.kind) ?? 'not served',
      startedAt,
    };
    await bookkeeping.recordTarget({ env: input.env, runId, result: skipped });
    return skipped;
  }
  const childInput: ServeTargetInput = { env: input.env, product: input.product, target: target.name, runId, checks };
  try {
    const result = await executeChild<(i: ServeTargetInput) => Promise<TargetResult>>(target.workflowType, {
      args: [childInput],
      workflowId: targetWorkflowId(input.env, input.product, target.name, runKey, target.kind),
      typedSearchAttributes: runSearchAttributes({ product: input.product, env: input.env, target: target.name, owner: plan.owner }),
    });
    const served: TargetResult = { ...result, startedAt };
    await bookkeeping.recordTarget({ env: input.env, runId, result: served });
    return served;
  } catch (error) {
    const failed: TargetResult = { name: target.name, kind: target.kind, status: 'failed', error: failureMessage(error), startedAt };
    await bookkeeping.recordTarget({ env: input.env, runId, result: failed });
    return failed;
  }
}

/**
 * One run of a data product in one environment: record the run, run its checks (one scan), and — unless they block —
 * serve each target as a child workflow of its kind; then time the serving queries, record the outcome and the SLIs,
 * and tell the product's SLO monitor. A blocked or failed run fails the workflow (so operators see it), carrying the
 * summary.
 */
export async function serveProduct(input: ServeProductInput): Promise<RunSummary> {
  const info = workflowInfo();
  const startedAt = workflowNow().toISOString();
  const runKey = input.runKey ?? runKeyOf(info.startTime, info.runId);
  const plan = await bookkeeping.planRun({ ...input, workflowId: info.workflowId, temporalRunId: info.runId });
  const { env, product } = input;
  if (plan.lineage && patched('lineage-events')) await notifyLineage(env, plan.runId);
  let checks: CheckOutcome | undefined;
  let error: string | undefined;
  try {
    checks = await warehouse.checkProduct({ env, product, runId: plan.runId });
  } catch (failure) {
    error = `reading the source failed: ${failureMessage(failure)}`;
  }

  let status: RunStatus;
  let targets: TargetResult[];
  if (!checks) {
    status = 'failed';
    targets = await notServed(env, plan, 'skipped', 'not served: the source could not be read');
  } else if (checks.blocked) {
    status = 'blocked';
    error = `blocked by checks: ${checks.reasons.join('; ')}`;
    targets = await notServed(env, plan, 'blocked', `not served: ${checks.reasons.join('; ')}`);
  } else {
    const verdict = checks;
    targets = await Promise.all(plan.targets.map((t) => serveTarget(input, plan, runKey, t, verdict)));
    const failedTargets = targets.filter((t) => t.status === 'failed');
    const skippedTargets = targets.filter((t) => t.status === 'skipped');
    const heldTargets = targets.filter((t) => t.status === 'blocked');
    const partialTargets = targets.filter((t) => t.status === 'partial');
    if (failedTargets.length > 0) {
      error = `target ${failedTargets.map((t) => t.name).join(', ')} failed: ${failedTargets[0]!.error}`;
      status = 'failed';
    } else if ((heldTargets.length > 0 || partialTargets.length > 0) && patched('held-and-partial-targets')) {
      // a sync its guardrails held and nobody approved delivered nothing; one whose rows were rejected, not all
      if (heldTargets.length > 0) {
        status = 'blocked';
        error = `not served: ${heldTargets.map((t) => `${t.name} ${t.detail ?? 'was held'}`).join('; ')}`;
      } else {
        status = 'partial';
        error = `not every row was delivered: ${partialTargets.map((t) => `${t.name} (${t.detail ?? 'partial'})`).join('; ')}`;
      }
    } else if (skippedTargets.length > 0 && patched('skipped-targets-are-not-delivered')) {
      // a target nobody served delivered nothing: the run is no delivery, however well the others went
      error = `not every target was served: ${skippedTargets.map((t) => `${t.name} (${t.detail ?? 'skipped'})`).join('; ')}`;
      status = 'incomplete';
    } else {
      status = 'succeeded';
    }
  }

  let latency: LatencyOutcome | undefined;
  const warnings = [...(checks?.warnings ?? [])];
  // a dashboard target times its queries and reads its data's age; they join the run's latency and freshness SLIs
  const measured = Object.assign({}, ...targets.map((t) => t.latency ?? {})) as Record<string, QueryLatency>;
  const dataAge = targets.map((t) => t.dataAge).find((age) => age !== undefined);
  if (status === 'succeeded' && (plan.measuresLatency || Object.keys(measured).length > 0)) {
    try {
      latency = await warehouse.measureLatency({ env, product, runId: plan.runId, ...(Object.keys(measured).length > 0 && { measured }) });
    } catch (failure) {
      warnings.push(`the serving queries could not be timed: ${failureMessage(failure)}`);
    }
  }
  const rows = checks?.rows ?? 0;
  await bookkeeping.finishRun({ env, runId: plan.runId, status, rows, error, checks: checks && { ...checks, warnings } });
  if (plan.lineage && patched('lineage-events')) await notifyLineage(env, plan.runId);
  if (plan.hasSlo) await bookkeeping.recordRunSlis({ env, product, runId: plan.runId, ...(dataAge && { dataAge }) });
  await bookkeeping.notifyMonitor({ env, product }).catch((error: unknown) => {
    // the run is done either way; the monitor (when it runs) sees the run at its next evaluation
    log.warn(`the SLO monitor of ${product} in ${env} was not told that run ${plan.runId} finished: ${failureMessage(error)}`, { product, env, runId: plan.runId });
  });

  const summary: RunSummary = {
    runId: plan.runId,
    workflowId: info.workflowId,
    env,
    product,
    version: plan.version,
    status,
    rows,
    startedAt,
    finishedAt: workflowNow().toISOString(),
    targets,
    ...(checks && { checks: { ...checks, warnings } }),
    ...(latency && { latency }),
    ...(error !== undefined && { error }),
  };
  if (status === 'blocked') {
    const why = checks?.blocked ? checks.reasons.join('; ') : (error ?? 'blocked');
    throw ApplicationFailure.nonRetryable(`${product} in ${env} was blocked: ${why}`, 'LastmileRunBlocked', summary);
  }
  if (status === 'partial') {
    throw ApplicationFailure.nonRetryable(`${product} in ${env}: ${error}`, 'LastmileRunPartial', summary);
  }
  if (status === 'failed') {
    throw ApplicationFailure.nonRetryable(`${product} in ${env}: ${error}`, 'LastmileRunFailed', summary);
  }
  if (status === 'incomplete') {
    throw ApplicationFailure.nonRetryable(`${product} in ${env}: ${error}`, 'LastmileRunIncomplete', summary);
  }
  return summary;
}

/** Records every planned target as not served, with the reason. */
async function notServed(env: string, plan: RunPlan, status: 'skipped' | 'blocked', detail: string): Promise<TargetResult[]> {
  const startedAt = workflowNow().toISOString();
  const targets = plan.targets.map((t): TargetResult => ({ name: t.name, kind: t.kind, status, detail, startedAt }));
  for (const result of targets) await bookkeeping.recordTarget({ env, runId: plan.runId, result });
  return targets;
}

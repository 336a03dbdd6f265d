import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CoreActivities } from '../activities/core/run-activities.js';
import { runKeyOf, workflowId } from './ids.js';
import type { PlannedTarget, RunPlan, RunSummary, ServeProductInput, ServeTargetInput, TargetResult } from './types.js';

const bookkeeping = proxyActivities<CoreActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: ['LastmileInputError'] },
});

const warehouse = proxyActivities<CoreActivities>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: ['LastmileInputError'] },
});

function message(error: unknown): string {
  if (error instanceof ApplicationFailure || error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : error.message;
  }
  return String(error);
}

async function serveTarget(input: ServeProductInput, plan: RunPlan, runKey: string, target: PlannedTarget): Promise<TargetResult> {
  const runId = plan.runId;
  if (!target.workflowType) {
    const skipped: TargetResult = {
      name: target.name,
      kind: target.kind,
      status: 'skipped',
      detail: `this version of lastmile cannot serve '${target.kind}' targets yet`,
    };
    await bookkeeping.recordTarget({ env: input.env, runId, result: skipped });
    return skipped;
  }
  const childInput: ServeTargetInput = { env: input.env, product: input.product, target: target.name, runId };
  try {
    const result = await executeChild<(i: ServeTargetInput) => Promise<TargetResult>>(target.workflowType, {
      args: [childInput],
      workflowId: workflowId(input.env, input.product, target.name, runKey),
      searchAttributes: {
        LastmileProduct: [input.product],
        LastmileEnv: [input.env],
        LastmileTarget: [target.name],
        LastmileOwner: [plan.owner],
      },
    });
    await bookkeeping.recordTarget({ env: input.env, runId, result });
    return result;
  } catch (error) {
    const failed: TargetResult = { name: target.name, kind: target.kind, status: 'failed', error: message(error) };
    await bookkeeping.recordTarget({ env: input.env, runId, result: failed });
    return failed;
  }
}

/**
 * One run of a data product in one environment: record the run, measure the source, serve each target as a child
 * workflow of its kind, record the outcome. A failed run fails the workflow (so operators see it), carrying the summary.
 */
export async function serveProduct(input: ServeProductInput): Promise<RunSummary> {
  const info = workflowInfo();
  const startedAt = new Date().toISOString();
  const runKey = input.runKey ?? runKeyOf(info.startTime, info.runId);
  const plan = await bookkeeping.planRun({ ...input, workflowId: info.workflowId, temporalRunId: info.runId });
  let rows = 0;
  let error: string | undefined;
  let targets: TargetResult[];
  try {
    rows = await warehouse.measureSource({ env: input.env, product: input.product });
    targets = await Promise.all(plan.targets.map((t) => serveTarget(input, plan, runKey, t)));
  } catch (failure) {
    error = `reading the source failed: ${message(failure)}`;
    targets = plan.targets.map((t) => ({ name: t.name, kind: t.kind, status: 'skipped', detail: 'not served: the source could not be read' }));
    for (const t of targets) await bookkeeping.recordTarget({ env: input.env, runId: plan.runId, result: t });
  }
  const failedTargets = targets.filter((t) => t.status === 'failed');
  if (!error && failedTargets.length > 0) error = `target ${failedTargets.map((t) => t.name).join(', ')} failed: ${failedTargets[0].error}`;
  const status = error ? 'failed' : 'succeeded';
  await bookkeeping.finishRun({ env: input.env, runId: plan.runId, status, rows, error });
  const summary: RunSummary = {
    runId: plan.runId,
    workflowId: info.workflowId,
    env: input.env,
    product: input.product,
    version: plan.version,
    status,
    rows,
    startedAt,
    finishedAt: new Date().toISOString(),
    targets,
    ...(error !== undefined && { error }),
  };
  if (status === 'failed') {
    throw ApplicationFailure.nonRetryable(`${input.product} in ${input.env}: ${error}`, 'LastmileRunFailed', summary);
  }
  return summary;
}

import { ApplicationFailure, patched, proxyActivities, sleep } from '@temporalio/workflow';
import { workflowNow } from './clock.js';
import type { DashboardActivities } from '../activities/dashboards/dashboard-activities.js';
import type { SharingActivities } from '../activities/sharing/sharing-activities.js';
import { failureMessage } from './failure.js';
import type { ObjectRefreshed, RefreshPlan, ServeTargetInput, TargetResult } from './types.js';
import { INPUT_ERROR } from './errors.js';

/** How many objects are refreshed at the same time (when their dependencies allow). */
export const REFRESH_CONCURRENCY = 4;

const NON_RETRYABLE = [INPUT_ERROR, 'LastmileRefreshError', 'LastmileBiRejected'];

const dashboards = proxyActivities<DashboardActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

const sharing = proxyActivities<SharingActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [INPUT_ERROR] },
});

// A refresh may run long; its heartbeats tell Temporal the worker is alive, so a killed worker is noticed within the
// heartbeat timeout and the object is refreshed again (the half-built relation of the lost attempt is dropped first).
const refresher = proxyActivities<DashboardActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Serves a `dashboard` target: refreshes its objects in dependency order (independent ones in parallel), drops the
 * relations that were replaced, tells the BI tools (waiting for asynchronous refreshes on durable timers), then runs
 * the dashboard's queries — warming caches and timing them — and reads the data's age. A failed refresh leaves the
 * object's previous data serving and fails the target with the SQL error.
 */
export async function dashboardRefresh(input: ServeTargetInput): Promise<TargetResult> {
  const plan = await dashboards.planRefresh(input);
  const refreshed = await refreshInOrder(plan, (object) => refresher.refreshDashboardObject({ ...input, object }));
  let stillRead = await dashboards.dropReplacedObjects(input);
  let shares: string | undefined;
  if (stillRead.length > 0 && patched('share-views-follow-rebuilds')) {
    // a data share's views read the replaced relation: the share reconcile makes them again on the rebuilt one (in one
    // transaction, their grants with them), and then the replaced relation can go
    try {
      shares = (await sharing.reconcileShares({ env: input.env, runId: input.runId })).summary;
      stillRead = await dashboards.dropReplacedObjects(input);
    } catch (error) {
      shares = `the data shares reading these objects were not moved onto the rebuilt ones (${failureMessage(error)}); they keep reading the replaced ones until their next run`;
    }
  }
  const told = await Promise.all(
    plan.tools.map((tool) => (tool.async ? awaitRefresh(input, tool) : dashboards.notifyBiTool({ ...input, tool: tool.index }))),
  );
  const measured = await refresher.measureDashboard(input);

  const rows = refreshed.reduce((sum, object) => sum + object.rows, 0);
  const parts = [
    `refreshed ${refreshed.map((o) => `${plan.schema}.${o.name} (${o.action === 'refreshed' ? 'concurrently' : o.action}, ${o.rows} ${o.rows === 1 ? 'row' : 'rows'}, ${seconds(o.durationMs)})`).join(', ')}`,
    ...told,
    ...(plan.notCalled ?? []).map((tool) => `${tool.name}: not called — ${tool.reason}`),
    ...(measured.latency ? [`queries p95 ${Object.entries(measured.latency).map(([name, q]) => `${name} ${q.p95Ms} ms`).join(', ')}`] : []),
    ...(measured.dataAge ? [`newest ${measured.dataAge.column} ${measured.dataAge.newest}`] : []),
    ...(shares !== undefined ? [`shares: ${shares}`] : []),
    ...stillRead.map((kept) => `kept ${kept.relation}: ${kept.readBy.join(', ')} still read it; recreate them on the refreshed object`),
  ];
  return {
    name: input.target,
    kind: 'dashboard',
    status: 'succeeded',
    rows,
    detail: parts.join('; '),
    ...(measured.latency && { latency: measured.latency }),
    ...(measured.dataAge && { dataAge: measured.dataAge }),
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`;
}

/**
 * Starts each object once every object it reads is done, up to REFRESH_CONCURRENCY at a time. After a failure no
 * new object starts (its dependents keep their previous data); the ones running finish, then the failure is thrown.
 */
async function refreshInOrder(plan: RefreshPlan, refresh: (object: string) => Promise<ObjectRefreshed>): Promise<ObjectRefreshed[]> {
  const done = new Map<string, ObjectRefreshed>();
  const running = new Map<string, Promise<void>>();
  let failure: { object: string; error: unknown } | undefined;
  for (;;) {
    if (!failure) {
      for (const object of plan.objects) {
        if (running.size >= REFRESH_CONCURRENCY) break;
        if (done.has(object.name) || running.has(object.name) || !object.dependsOn.every((d) => done.has(d))) continue;
        const task = refresh(object.name).then(
          (result) => void done.set(object.name, result),
          (error: unknown) => void (failure ??= { object: object.name, error }),
        );
        running.set(object.name, task.finally(() => running.delete(object.name)));
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (failure) {
    const waiting = plan.objects.filter((o) => !done.has(o.name) && o.name !== failure!.object).map((o) => o.name);
    throw ApplicationFailure.nonRetryable(
      `${failureMessage(failure.error)}${waiting.length > 0 ? ` (not refreshed, keeping their previous data: ${waiting.join(', ')})` : ''}`,
      'LastmileRefreshFailed',
    );
  }
  const stuck = plan.objects.filter((object) => !done.has(object.name)).map((object) => object.name);
  if (stuck.length > 0) {
    throw ApplicationFailure.nonRetryable(`the objects ${stuck.join(', ')} wait for each other (a dependency cycle); run lastmile validate`, INPUT_ERROR);
  }
  return plan.objects.map((object) => done.get(object.name)!);
}

/** Starts an asynchronous BI refresh and polls it on durable timers until it is done, failed, or out of time. */
async function awaitRefresh(input: ServeTargetInput, tool: RefreshPlan['tools'][number]): Promise<string> {
  const started = await dashboards.startBiRefresh({ ...input, tool: tool.index });
  const deadline = workflowNow().getTime() + tool.maxWaitMs;
  for (;;) {
    await sleep(Math.min(tool.pollEveryMs, Math.max(0, deadline - workflowNow().getTime())));
    const polled = await dashboards.pollBiRefresh({ ...input, tool: tool.index, pollUrl: started.pollUrl });
    if (polled.state === 'done') return `${tool.name}: refresh done (${polled.status})`;
    if (polled.state === 'failed') {
      throw ApplicationFailure.nonRetryable(`${tool.name}: the refresh failed (status ${polled.status})${polled.message ? `: ${polled.message}` : ''}`, 'LastmileBiRefreshFailed');
    }
    if (workflowNow().getTime() >= deadline) {
      throw ApplicationFailure.nonRetryable(
        `${tool.name}: the refresh was not done within ${Math.round(tool.maxWaitMs / 1000)} s (last status ${polled.status || 'none'})`,
        'LastmileBiTimeout',
      );
    }
  }
}

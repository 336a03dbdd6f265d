/**
 * The reverse ETL serving kind against one environment: freeze a run's plan, hold it for a decision when a guardrail
 * trips (an alert on the environment's channels), record the decision, apply the plan. What the activities call.
 */
import { alertChannels, type AlertStore, type PendingDelivery } from '../alerts/index.js';
import type { Environment } from '../config/spec.js';
import { InputError } from '../errors.js';
import type { ServingContext } from '../runtime/serving-context.js';
import type { Warehouse } from '../runtime/warehouse.js';
import { applyPlan, type ApplyOptions, type SyncOutcome } from './apply.js';
import { openDestination } from './destination.js';
import { freezePlan, storedPlan, type FrozenPlan, type SyncRunState } from './freeze.js';
import { describePlace, syncPlace, type SyncPlace } from './places.js';
import { syncSpec, type SyncSpec } from './spec.js';

/** Rows per batch into a stand-in table. */
const STANDIN_BATCH = 1000;

export interface SyncTarget {
  env: string;
  product: string;
  target: string;
}

export interface SyncSession {
  spec: SyncSpec;
  place: SyncPlace;
  warehouse: Warehouse;
  freeze(input: { runId: string; workflowId?: string; dryRun?: boolean }): Promise<FrozenPlan>;
  apply(runId: string, options?: ApplyOptions): Promise<SyncOutcome>;
}

export async function syncSession(ctx: ServingContext, input: SyncTarget): Promise<SyncSession> {
  const product = ctx.product(input.product);
  if (!product) throw new InputError(`product ${input.product} is not known to this worker`);
  const declared = syncSpec(product, input.target);
  const place = syncPlace(ctx.resolved(input.env), product.name, input.target, declared.destination);
  // a stand-in is a local table: the real destination's pace and batch limit do not apply to it
  const spec: SyncSpec = place.kind === 'standin' ? { ...declared, batchSize: STANDIN_BATCH, rateLimit: {} } : declared;
  const warehouse = await ctx.warehouse(input.env);
  return {
    spec,
    place,
    warehouse,
    async freeze(options) {
      const query = await ctx.servedQuery(product.name, input.env);
      return freezePlan(warehouse.pool, spec, {
        env: input.env,
        runId: options.runId,
        ...(options.workflowId !== undefined && { workflowId: options.workflowId }),
        destination: describePlace(place),
        query,
        ...(options.dryRun && { dryRun: true }),
      });
    },
    async apply(runId, options) {
      const adapter = openDestination(spec, place, warehouse, input.env);
      try {
        return await applyPlan(warehouse.pool, spec, runId, adapter, options);
      } finally {
        await adapter.close();
      }
    },
  };
}

export type SyncDecision = 'approved' | 'rejected' | 'abandoned';

/** Opens the alert of a held sync (once per run) and returns the deliveries to make. */
export async function holdSync(warehouse: Warehouse, store: AlertStore, environment: Environment, input: SyncTarget & { runId: string; timeoutMs: number }): Promise<Pick<PendingDelivery, 'alertId' | 'event' | 'channel'>[]> {
  const plan = await storedPlan(warehouse.pool, input.runId);
  if (!plan) throw new InputError(`run ${input.runId} has no frozen sync plan`);
  const tripped = plan.verdicts.filter((v) => v.tripped);
  const hours = Math.round((input.timeoutMs / 3_600_000) * 10) / 10;
  await store.open(
    {
      env: input.env,
      product: input.product,
      kind: 'sync',
      severity: 'page',
      key: syncAlertKey(input),
      message:
        `${input.product}/${input.target} in ${input.env}: the sync of run ${input.runId} is held — ${tripped.map((v) => v.message).join('; ')}. ` +
        `Nothing was sent. Decide with lastmile approve ${input.runId} or lastmile reject ${input.runId} --env ${input.env} within ${hours} h, or it is abandoned.`,
      detail: { runId: input.runId, target: input.target, verdicts: tripped.map((v) => ({ guardrail: v.guardrail, message: v.message })) },
    },
    alertChannels(environment.alerts),
  );
  return (await store.pending({ env: input.env, product: input.product })).map((p) => ({ alertId: p.alertId, event: p.event, channel: p.channel }));
}

/**
 * Records the decision on a held sync (the workflow's, from a signal or its timeout) and resolves the run's alert.
 * A decision on a run that is no longer held (superseded by a newer plan) changes nothing and says so.
 */
export async function decideSync(
  warehouse: Warehouse,
  store: AlertStore,
  environment: Environment,
  input: SyncTarget & { runId: string; decision: SyncDecision; by?: string; reason?: string },
): Promise<{ state: SyncRunState; pending: Pick<PendingDelivery, 'alertId' | 'event' | 'channel'>[] }> {
  const result = await warehouse.pool.query<{ state: SyncRunState }>(
    `update lastmile.sync_runs set state = $2, decided_by = $3, decision_reason = $4, decided_at = now(),
            finished_at = case when $2 = 'approved' then null else now() end
      where run_id = $1 and state = 'held' returning state`,
    [input.runId, input.decision, input.by ?? null, input.reason ?? null],
  );
  const state = result.rows[0]?.state ?? (await storedPlan(warehouse.pool, input.runId))?.state ?? 'abandoned';
  const words = input.decision === 'approved' ? `approved${input.by ? ` by ${input.by}` : ''}: the frozen plan is applied` : input.decision === 'rejected' ? `rejected${input.by ? ` by ${input.by}` : ''}: nothing is sent` : 'abandoned: no decision came in time; nothing is sent';
  await store.resolve(syncAlertKey(input), `${input.product}/${input.target} in ${input.env}: the held sync of run ${input.runId} was ${words}${input.reason ? ` (${input.reason})` : ''}`, alertChannels(environment.alerts));
  const pending = await store.pending({ env: input.env, product: input.product });
  return { state, pending: pending.map((p) => ({ alertId: p.alertId, event: p.event, channel: p.channel })) };
}

function syncAlertKey(input: SyncTarget & { runId: string }): string {
  return `${input.env}/${input.product}/sync/${input.target}/${input.runId}`;
}

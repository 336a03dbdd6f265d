/**
 * Applying a deployment plan (src/deploy/plan.ts) to an environment, product by product: its Temporal schedules
 * created, updated or deleted, its SLO monitor started or stopped, then its ledger row; last, the environment's
 * share grants reconciled with the products it now runs — so a deploy that stops
 * midway leaves a ledger saying exactly which products it applied, and running the same plan again applies the rest
 * (a product whose latest row came from this plan is done). A plan is refused when the environment moved on since
 * it was made (a product's latest row is neither the one the plan was made against nor one of this plan), when the
 * products changed since, or when it holds a breaking change without a major version bump, unless overridden with a
 * reason (recorded in the ledger).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { InputError } from '../errors.js';
import type { MetaStore } from '../meta/index.js';
import type { DeploymentRecord, JsonValue } from '../meta/types.js';
import type { Product } from '../product/model.js';
import { monitorId } from '../temporal/names.js';
import type { DeployContext } from './context.js';
import type { GrantsOutcome } from './grants.js';
import { FINGERPRINT_PARTS } from './fingerprint.js';
import { deployer, manifestOf } from './ledger.js';
import { ensureMonitors } from './monitors.js';
import type { DeployPlan, PlannedProduct } from './plan.js';
import { applyProductSchedules, deleteSchedules, productScheduleIds, scheduleIdsOf, type DeployedSchedule } from './schedules.js';
import { signalShareTimer } from './share-timer.js';

export interface ApplyOptions {
  client: Client;
  env: string;
  taskQueue: string;
  meta: MetaStore;
  gitSha?: string;
  plan: DeployPlan;
  /** the products as they are now (their fingerprints must be the plan's) */
  products: ReadonlyMap<string, Product>;
  context: DeployContext;
  /** apply breaking changes without a major bump, and removals; the reason goes into the ledger */
  override?: string;
  /** the git SHA each product's row records, when it is not `gitSha` (a promotion records the SHA the source ran) */
  gitShas?: ReadonlyMap<string, string | null>;
  /** what the rows record (default `deploy`); a rollback names the deployment it restores */
  action?: 'deploy' | 'rollback';
  restores?: number;
  onProduct?: (done: AppliedProduct) => void;
  /**
   * Makes the environment's share grants what the products it runs after the deploy declare (revoking a removed
   * product's); called once every product is applied, also when a re-run finds them all applied already.
   */
  reconcileGrants?: (products: readonly Product[]) => Promise<GrantsOutcome | undefined>;
}

export interface ApplyResult {
  products: AppliedProduct[];
  /** the share reconcile at the end (undefined: no product shares and nothing shared is left to revoke) */
  grants?: GrantsOutcome;
}

export interface AppliedProduct {
  product: string;
  action: 'deployed' | 'removed' | 'already applied';
  schedules: DeployedSchedule[];
  monitor?: 'started' | 'stopped';
  deploymentId?: number;
}

export async function applyDeployPlan(o: ApplyOptions): Promise<ApplyResult> {
  if (o.plan.env !== o.env) throw new InputError(`the plan was made for ${o.plan.env}, not ${o.env}: make a plan for ${o.env} (lastmile plan --env ${o.env})`);
  if (o.plan.problems && o.plan.problems.length > 0) {
    throw new InputError(`the plan ${o.plan.hash} says a deploy would fail, so nothing was applied:\n  ${o.plan.problems.join('\n  ')}\nFix that, then make a new plan (lastmile plan --env ${o.env}).`);
  }
  const todo = o.plan.products.filter((p) => p.status !== 'unchanged');
  const latest = new Map((await o.meta.latestDeployments(o.env)).map((d) => [d.product, d]));
  const problems: string[] = [];
  const done = new Set<string>();
  // every product of the plan, the unchanged ones too: the deploy's grants reconcile stands on them
  for (const planned of o.plan.products) {
    const row = latest.get(planned.product);
    if (planned.status !== 'unchanged' && row && manifestOf(row)?.planHash === o.plan.hash) {
      done.add(planned.product);
      continue;
    }
    if (row?.deploymentId !== planned.basedOn) {
      problems.push(
        `${planned.product}: its latest deployment in ${o.env} is ${row ? `#${row.deploymentId} (${row.version}, ${row.deployedAt.toISOString()})` : 'none'}, but the plan was made against ${planned.basedOn === undefined ? 'none' : `#${planned.basedOn}`}`,
      );
      continue;
    }
    if (planned.status === 'removed') {
      if (o.products.has(planned.product)) problems.push(`${planned.product}: the plan removes it, but products/ has it again`);
      continue;
    }
    const product = o.products.get(planned.product);
    if (!product) {
      problems.push(`${planned.product}: the plan ${planned.status === 'unchanged' ? 'keeps' : 'deploys'} it, but products/ no longer has it`);
      continue;
    }
    const now = o.context.fingerprint(product);
    const moved = FINGERPRINT_PARTS.filter((part) => planned.fingerprint?.[part] !== now[part]);
    if (moved.length > 0) problems.push(`${planned.product}: ${moved.join(', ')} changed since the plan was made`);
  }
  if (problems.length > 0) {
    throw new InputError(`the plan ${o.plan.hash} (made ${o.plan.createdAt}) is out of date, so nothing was applied:\n  ${problems.join('\n  ')}\nMake a new plan (lastmile plan --env ${o.env}) and apply that.`);
  }
  const refused = todo.filter((p) => !done.has(p.product) && p.contract && !p.contract.accepted);
  if (refused.length > 0 && o.override === undefined) {
    throw new InputError(
      `the plan holds changes the version does not allow, so nothing was applied:\n  ${refused.map((p) => `${p.product}: ${p.contract!.refusal ?? 'refused'}`).join('\n  ')}\n` +
        'Fix them, or apply anyway with --override "<reason>" (the reason is recorded in the ledger).',
    );
  }

  const applied: AppliedProduct[] = [];
  const existing = todo.some((p) => !done.has(p.product)) ? await scheduleIdsOf(o.client, o.env) : [];
  for (const planned of todo) {
    const result = done.has(planned.product)
      ? { product: planned.product, action: 'already applied' as const, schedules: [] }
      : await applyOne(o, planned, latest.get(planned.product), existing);
    applied.push(result);
    o.onProduct?.(result);
  }
  const deployed = todo.filter((p) => p.status !== 'removed').map((p) => o.products.get(p.product)!);
  await signalShareTimer({ client: o.client, env: o.env, taskQueue: o.taskQueue, products: deployed });
  // what the environment runs now: every product of the plan but the removed ones
  const running = o.plan.products.filter((p) => p.status !== 'removed').map((p) => o.products.get(p.product)!);
  const grants = o.reconcileGrants ? await o.reconcileGrants(running) : undefined;
  return { products: applied, ...(grants && { grants }) };
}

async function applyOne(o: ApplyOptions, planned: PlannedProduct, last: DeploymentRecord | undefined, existing: readonly string[]): Promise<AppliedProduct> {
  // every row a deploy with --override writes carries its reason, whichever gate it was meant for
  const override = o.override !== undefined ? { override: o.override } : {};
  if (planned.status === 'removed') {
    const schedules = await deleteSchedules(o.client, productScheduleIds(existing, o.env, planned.product));
    const stopped = await stopMonitor(o.client, o.env, planned.product);
    // a removal is planned against the product's latest row (checked above)
    const previous = last ? manifestOf(last) : undefined;
    const recorded = await o.meta.recordDeployment({
      env: o.env,
      product: planned.product,
      version: last?.version ?? planned.version.from ?? '',
      gitSha: o.gitSha,
      manifest: { ...(previous ?? {}), action: 'remove', planHash: o.plan.hash, deployedBy: deployer(), workerBuild: o.context.context.workflows, ...override } as unknown as JsonValue,
    });
    return { product: planned.product, action: 'removed', schedules, ...(stopped && { monitor: 'stopped' as const }), deploymentId: recorded.deployment.deploymentId };
  }
  const product = o.products.get(planned.product)!;
  const gitSha = o.gitShas?.has(product.name) ? (o.gitShas.get(product.name) ?? undefined) : o.gitSha;
  const schedules = await applyProductSchedules({ ...o, ...(gitSha === undefined ? { gitSha: undefined } : { gitSha }) }, product, existing);
  let monitor: AppliedProduct['monitor'];
  if (product.slo) {
    if ((await ensureMonitors({ client: o.client, env: o.env, taskQueue: o.taskQueue, products: [product] })).length > 0) monitor = 'started';
  } else if (await stopMonitor(o.client, o.env, product.name)) monitor = 'stopped';
  const recorded = await o.meta.recordDeployment({
    env: o.env,
    product: product.name,
    version: product.version,
    gitSha,
    manifest: {
      ...o.context.manifest(product, { planHash: o.plan.hash, action: o.action ?? 'deploy', ...(o.restores !== undefined && { restores: o.restores }) }),
      ...override,
    } as unknown as JsonValue,
  });
  return { product: product.name, action: 'deployed', schedules, ...(monitor && { monitor }), deploymentId: recorded.deployment.deploymentId };
}

/** Ends a product's SLO monitor (its product is removed, or has no SLOs any more); false when none ran. */
async function stopMonitor(client: Client, env: string, product: string): Promise<boolean> {
  const handle = client.workflow.getHandle(monitorId(env, product));
  try {
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') return false;
    await handle.terminate('lastmile deploy: the product has no SLOs in this environment any more');
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

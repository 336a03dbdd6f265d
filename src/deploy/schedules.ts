import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Product } from '../product/model.js';
import type { MetaStore } from '../meta/index.js';
import type { JsonValue } from '../meta/types.js';
import type { LedgerManifest } from './ledger.js';
import { runSearchAttributes, scheduleId } from '../temporal/names.js';
import { unservable } from '../../workflows/kinds.js';
import type { ServeProductInput } from '../../workflows/types.js';

export interface DeployedSchedule {
  scheduleId: string;
  product: string;
  target: string;
  cron: string;
  timezone: string;
  /** `unservable`: a scheduled target this version cannot serve gets no schedule (its runs would only skip it) */
  action: 'created' | 'updated' | 'deleted' | 'unservable';
  /** why, for `unservable` */
  reason?: string;
}

export interface DeployOptions {
  client: Client;
  env: string;
  taskQueue: string;
  products: readonly Product[];
  meta: MetaStore;
  gitSha?: string;
  /** the ledger manifest of each product deployed (src/deploy/ledger.ts) */
  manifest: (product: Product) => LedgerManifest;
}

/**
 * Makes the environment's Temporal schedules match the products: one schedule per scheduled target
 * (`lastmile/<env>/<product>/<target>`), created or updated in place; schedules of targets that no longer exist are
 * deleted. Each product's deployment is recorded in the ledger (`lastmile dev`; `lastmile deploy` applies a plan).
 */
export async function deploySchedules(o: DeployOptions): Promise<DeployedSchedule[]> {
  const changes: DeployedSchedule[] = [];
  for (const product of o.products) {
    changes.push(...(await applyProductSchedules(o, product)));
    await o.meta.recordDeployment({
      env: o.env,
      product: product.name,
      version: product.version,
      gitSha: o.gitSha,
      manifest: o.manifest(product) as unknown as JsonValue,
    });
  }
  const names = new Set(o.products.map((p) => p.name));
  for (const id of await scheduleIdsOf(o.client, o.env)) {
    const [, , product = ''] = id.split('/');
    if (!names.has(product)) changes.push(...(await deleteSchedules(o.client, [id])));
  }
  return changes;
}

export type ScheduleTarget = Pick<DeployOptions, 'client' | 'env' | 'taskQueue' | 'gitSha'>;

/**
 * One product's schedules: each scheduled target's created or updated, and the product's schedules of targets it no
 * longer has (or no longer schedules) deleted.
 */
export async function applyProductSchedules(o: ScheduleTarget, product: Product): Promise<DeployedSchedule[]> {
  const changes: DeployedSchedule[] = [];
  const wanted = new Set<string>();
  for (const target of product.serve) {
    if (!target.schedule) continue;
    const id = scheduleId(o.env, product.name, target.name);
    const reason = unservable(target.kind);
    if (reason) {
      changes.push({ scheduleId: id, product: product.name, target: target.name, cron: target.schedule.cron, timezone: target.schedule.timezone, action: 'unservable', reason });
      continue;
    }
    wanted.add(id);
    const input: ServeProductInput = {
      env: o.env,
      product: product.name,
      targets: [target.name],
      trigger: 'schedule',
      ...(o.gitSha !== undefined && { gitSha: o.gitSha }),
    };
    const action = {
      type: 'startWorkflow' as const,
      workflowType: 'serveProduct',
      workflowId: id,
      taskQueue: o.taskQueue,
      args: [input],
      typedSearchAttributes: runSearchAttributes({ product: product.name, env: o.env, target: target.name, owner: product.owner.team }),
      memo: { version: product.version },
    };
    const spec = { cronExpressions: [target.schedule.cron], timezone: target.schedule.timezone };
    const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' };
    const handle = o.client.schedule.getHandle(id);
    let exists = true;
    try {
      await handle.describe();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
      exists = false;
    }
    if (exists) {
      await handle.update((previous) => ({ ...previous, spec, action, policies }));
    } else {
      await o.client.schedule.create({ scheduleId: id, spec, action, policies, memo: { product: product.name } });
    }
    changes.push({ scheduleId: id, product: product.name, target: target.name, cron: target.schedule.cron, timezone: target.schedule.timezone, action: exists ? 'updated' : 'created' });
  }
  const own = (await scheduleIdsOf(o.client, o.env)).filter((id) => id.startsWith(`lastmile/${o.env}/${product.name}/`) && !wanted.has(id));
  changes.push(...(await deleteSchedules(o.client, own)));
  return changes;
}

/** Every lastmile schedule of the environment. */
export async function scheduleIdsOf(client: Client, env: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const schedule of client.schedule.list()) if (schedule.scheduleId.startsWith(`lastmile/${env}/`)) ids.push(schedule.scheduleId);
  return ids;
}

export async function deleteSchedules(client: Client, ids: readonly string[]): Promise<DeployedSchedule[]> {
  const changes: DeployedSchedule[] = [];
  for (const id of ids) {
    try {
      await client.schedule.getHandle(id).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
      continue;
    }
    const [, , product = '', target = ''] = id.split('/');
    changes.push({ scheduleId: id, product, target, cron: '', timezone: '', action: 'deleted' });
  }
  return changes;
}

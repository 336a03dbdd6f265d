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
  /**
   * `paused` / `resumed`: updated, and paused as the product now says (`schedule.paused`), or resumed from a pause
   * a deploy made; `unservable`: a scheduled target this version cannot serve gets no schedule (its runs would only
   * skip it)
   */
  action: 'created' | 'updated' | 'paused' | 'resumed' | 'deleted' | 'unservable';
  /** the schedule is paused after the deploy (declared, or by an operator, whose pause a deploy keeps) */
  paused?: boolean;
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
  // listed once: the schedules each product no longer has, and those of products gone, are found in it
  const existing = await scheduleIdsOf(o.client, o.env);
  for (const product of o.products) {
    changes.push(...(await applyProductSchedules(o, product, existing)));
    await o.meta.recordDeployment({
      env: o.env,
      product: product.name,
      version: product.version,
      gitSha: o.gitSha,
      manifest: o.manifest(product) as unknown as JsonValue,
    });
  }
  const names = new Set(o.products.map((p) => p.name));
  for (const id of existing) {
    const [, , product = ''] = id.split('/');
    if (!names.has(product)) changes.push(...(await deleteSchedules(o.client, [id])));
  }
  return changes;
}

export type ScheduleTarget = Pick<DeployOptions, 'client' | 'env' | 'taskQueue' | 'gitSha'>;

/**
 * One product's schedules: each scheduled target's created or updated, and the product's schedules of targets it no
 * longer has (or no longer schedules) deleted — found in `existing` (the environment's schedule ids, listed once by a
 * caller applying several products), else listed here. Whether a schedule exists is asked of it directly: a listing
 * may lag behind a schedule just created.
 */
export async function applyProductSchedules(o: ScheduleTarget, product: Product, existing?: readonly string[]): Promise<DeployedSchedule[]> {
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
    let before: { paused: boolean; note?: string } | undefined;
    try {
      before = (await handle.describe()).state;
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    const declared = target.schedule.paused;
    const state = pauseState(before, declared);
    if (before) {
      await handle.update((previous) => ({ ...previous, spec, action, policies, state: { ...previous.state, ...state } }));
    } else {
      await o.client.schedule.create({ scheduleId: id, spec, action, policies, memo: { product: product.name }, ...(state.paused && { state }) });
    }
    const done = !before ? 'created' : state.paused && !before.paused ? 'paused' : !state.paused && before.paused ? 'resumed' : 'updated';
    changes.push({ scheduleId: id, product: product.name, target: target.name, cron: target.schedule.cron, timezone: target.schedule.timezone, action: done, ...(state.paused && { paused: true }) });
  }
  const own = productScheduleIds(existing ?? (await scheduleIdsOf(o.client, o.env)), o.env, product.name).filter((id) => !wanted.has(id));
  changes.push(...(await deleteSchedules(o.client, own)));
  return changes;
}

/** The note of a pause a deploy made (a product's `schedule.paused`): only such a pause is resumed by a deploy. */
export const PAUSE_NOTE = 'paused in products/ (schedule.paused): ';

/**
 * The state a deploy leaves a schedule in: paused with the declared reason; else resumed when the pause was one a
 * deploy made; else as it was — an operator's pause (from the Temporal UI or CLI) is not undone by a deploy.
 */
function pauseState(before: { paused: boolean; note?: string } | undefined, declared: string | undefined): { paused: boolean; note: string } {
  if (declared !== undefined) return { paused: true, note: `${PAUSE_NOTE}${declared}` };
  if (before?.paused && !before.note?.startsWith(PAUSE_NOTE)) return { paused: true, note: before.note ?? '' };
  return { paused: false, note: before?.paused ? 'resumed by lastmile deploy: the product no longer pauses it' : '' };
}

/** The schedules of one product among the environment's. */
export function productScheduleIds(ids: readonly string[], env: string, product: string): string[] {
  return ids.filter((id) => id.startsWith(`lastmile/${env}/${product}/`));
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

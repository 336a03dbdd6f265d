import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Product } from '../product/model.js';
import type { MetaStore } from '../meta/index.js';
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
}

/**
 * Makes the environment's Temporal schedules match the products: one schedule per scheduled target
 * (`lastmile/<env>/<product>/<target>`), created or updated in place; schedules of targets that no longer exist are
 * deleted. Each product's deployment is recorded in the metadata store.
 */
export async function deploySchedules(o: DeployOptions): Promise<DeployedSchedule[]> {
  const changes: DeployedSchedule[] = [];
  const wanted = new Set<string>();
  for (const product of o.products) {
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
      changes.push({
        scheduleId: id,
        product: product.name,
        target: target.name,
        cron: target.schedule.cron,
        timezone: target.schedule.timezone,
        action: exists ? 'updated' : 'created',
      });
    }
    await o.meta.recordDeployment({
      env: o.env,
      product: product.name,
      version: product.version,
      gitSha: o.gitSha,
      manifest: {
        targets: product.serve.map((t) => ({ name: t.name, kind: t.kind, schedule: t.schedule ? `${t.schedule.cron} ${t.schedule.timezone}` : null })),
      },
    });
  }
  const prefix = `lastmile/${o.env}/`;
  for await (const schedule of o.client.schedule.list()) {
    if (!schedule.scheduleId.startsWith(prefix) || wanted.has(schedule.scheduleId)) continue;
    await o.client.schedule.getHandle(schedule.scheduleId).delete();
    const [, , product = '', target = ''] = schedule.scheduleId.split('/');
    changes.push({ scheduleId: schedule.scheduleId, product, target, cron: '', timezone: '', action: 'deleted' });
  }
  return changes;
}

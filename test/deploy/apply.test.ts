/**
 * Plans and their application on the real runtime (devserver, embedded PostgreSQL): schedules, monitors and the
 * ledger follow the plan; applying it twice changes nothing; a deploy that dies midway is completed by applying the
 * same plan again; a plan the environment moved past is refused; a removed product's schedules and monitor go.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDeployPlan } from '../../src/deploy/apply.js';
import { deployContext, type DeployContext } from '../../src/deploy/context.js';
import { runningProducts } from '../../src/deploy/ledger.js';
import { makePlan, type DeployPlan } from '../../src/deploy/plan.js';
import { scheduleIdsOf } from '../../src/deploy/schedules.js';
import type { Product } from '../../src/product/model.js';
import { monitorId } from '../../src/temporal/names.js';
import { productModule } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const ENV = 'dev';
const scheduled = (name: string, cron: string, extra = '') =>
  productModule({
    name,
    serve: [`files({ name: 'weekly_csv', format: 'csv', to: './exchange/${name}', schedule: { cron: '${cron}', timezone: 'UTC' } })`],
    extra,
  });

let rt: RuntimeHarness;
let context: DeployContext;

beforeAll(async () => {
  rt = await startRuntime({
    products: {
      alpha: scheduled('alpha', '0 5 * * *', "slo: { availability: 0.99, window: '28d' },"),
      beta: scheduled('beta', '0 6 * * *'),
      gamma: scheduled('gamma', '0 7 * * *'),
    },
  });
  context = await deployContext(rt.loaded.config, ENV, rt.session.warehouse.schemas);
}, 120_000);

afterAll(async () => {
  await rt?.close();
});

const products = (overrides: Record<string, Product | undefined> = {}): Map<string, Product> => {
  const all = new Map(['alpha', 'beta', 'gamma'].map((n) => [n, rt.product(n)]));
  for (const [name, product] of Object.entries(overrides)) {
    if (product) all.set(name, product);
    else all.delete(name);
  }
  return all;
};

async function plan(current: Map<string, Product>): Promise<DeployPlan> {
  const { running } = await runningProducts(rt.session.warehouse.meta, ENV);
  const list = [...current.values()].map((product) => ({ product, file: `products/${path.basename(product.file ?? `${product.name}.ts`)}` }));
  return makePlan({ env: ENV, products: list, fingerprints: new Map(list.map((p) => [p.product.name, context.fingerprint(p.product)])), running });
}

const apply = async (p: DeployPlan, current: Map<string, Product>, extra: Partial<Parameters<typeof applyDeployPlan>[0]> = {}) =>
  (await applyDeployPlan({ client: rt.session.client, env: ENV, taskQueue: rt.session.temporal.taskQueue, meta: rt.session.warehouse.meta, plan: p, products: current, context, ...extra })).products;

const schedules = async () => (await scheduleIdsOf(rt.session.client, ENV)).sort();

describe('deploying a plan', () => {
  it('a deploy that dies after one product is completed by applying the same plan again; then nothing is left to do', async () => {
    const current = products();
    const first = await plan(current);
    expect(first.summary).toMatchObject({ new: 3, changed: 0, removed: 0 });
    let seen = 0;
    await expect(
      apply(first, current, {
        onProduct: () => {
          seen += 1;
          if (seen === 1) throw new Error('the worker died');
        },
      }),
    ).rejects.toThrow('the worker died');
    // the ledger says exactly what was applied: one product
    const afterCrash = await runningProducts(rt.session.warehouse.meta, ENV);
    expect([...afterCrash.running.keys()]).toEqual(['alpha']);
    expect(await schedules()).toEqual(['lastmile/dev/alpha/weekly_csv']);

    const again = await apply(first, current);
    expect(again.map((a) => [a.product, a.action])).toEqual([
      ['alpha', 'already applied'],
      ['beta', 'deployed'],
      ['gamma', 'deployed'],
    ]);
    expect(await schedules()).toEqual(['lastmile/dev/alpha/weekly_csv', 'lastmile/dev/beta/weekly_csv', 'lastmile/dev/gamma/weekly_csv']);
    const monitor = await rt.session.client.workflow.getHandle(monitorId(ENV, 'alpha')).describe();
    expect(monitor.status.name).toBe('RUNNING');

    // re-planning finds nothing; applying that plan records nothing
    const rows = (await rt.session.warehouse.meta.listDeployments({ env: ENV })).length;
    const second = await plan(current);
    expect(second.summary).toMatchObject({ new: 0, changed: 0, removed: 0, unchanged: 3 });
    expect(await apply(second, current)).toEqual([]);
    expect(await apply(first, current)).toHaveLength(3);
    expect((await rt.session.warehouse.meta.listDeployments({ env: ENV })).length).toBe(rows);
  }, 120_000);

  it('says why a product changed, and applies a changed schedule in place', async () => {
    const beta = rt.product('beta');
    const changed: Product = { ...beta, version: '1.0.1', serve: beta.serve.map((t) => ({ ...t, schedule: { cron: '15 6 * * *', timezone: 'UTC' } })) };
    const current = products({ beta: changed });
    const p = await plan(current);
    const planned = p.products.find((x) => x.product === 'beta')!;
    expect(planned.status).toBe('changed');
    expect(planned.reasons.map((r) => r.part)).toEqual(['version', 'targets']);
    expect(planned.schedules).toEqual([{ target: 'weekly_csv', from: '0 6 * * * UTC', to: '15 6 * * * UTC' }]);
    expect(p.products.filter((x) => x.status === 'unchanged').map((x) => x.product)).toEqual(['alpha', 'gamma']);
    await apply(p, current);
    const described = await rt.session.client.schedule.getHandle('lastmile/dev/beta/weekly_csv').describe();
    expect(described.memo).toBeDefined();
    expect(JSON.stringify(described.spec)).toMatch(/"minute":\[\{"start":15/);
    expect((await plan(current)).summary.changed).toBe(0);
  }, 60_000);

  it('refuses a plan the environment moved past, applying nothing', async () => {
    const gamma = rt.product('gamma');
    const bumped = (version: Product['version']): Product => ({ ...gamma, version });
    const stale = await plan(products({ gamma: bumped('1.0.5') }));
    // someone else deploys gamma in between
    const other = await plan(products({ gamma: bumped('1.0.6') }));
    await apply(other, products({ gamma: bumped('1.0.6') }));
    const before = (await rt.session.warehouse.meta.listDeployments({ env: ENV })).length;
    await expect(apply(stale, products({ gamma: bumped('1.0.5') }))).rejects.toThrow(/is out of date, so nothing was applied:[\s\S]*\n {2}gamma: its latest deployment in dev is #\d+ \(1\.0\.6/);
    expect((await rt.session.warehouse.meta.listDeployments({ env: ENV })).length).toBe(before);
  }, 60_000);

  it('refuses a plan whose products changed after it was made', async () => {
    const gamma = rt.product('gamma');
    const p = await plan(products({ gamma: { ...gamma, version: '1.0.7' } }));
    await expect(apply(p, products({ gamma: { ...gamma, version: '1.0.8' } }))).rejects.toThrow(/gamma: version changed since the plan was made/);
  }, 60_000);

  it('removes a product only with an override: its schedules and its monitor go, the ledger records the removal and the reason', async () => {
    const current = products({ alpha: undefined });
    const p = await plan(current);
    expect(p.products.find((x) => x.product === 'alpha')).toMatchObject({ status: 'removed', contract: { accepted: false } });
    await expect(apply(p, current)).rejects.toThrow(/alpha: the product is removed/);
    expect(await schedules()).toContain('lastmile/dev/alpha/weekly_csv');

    const applied = await apply(p, current, { override: 'alpha is retired; its consumers moved to beta' });
    expect(applied.find((a) => a.product === 'alpha')).toMatchObject({ action: 'removed', monitor: 'stopped' });
    expect(await schedules()).not.toContain('lastmile/dev/alpha/weekly_csv');
    const [row] = await rt.session.warehouse.meta.listDeployments({ env: ENV, product: 'alpha', limit: 1 });
    expect(row!.manifest).toMatchObject({ action: 'remove', override: 'alpha is retired; its consumers moved to beta', planHash: p.hash });
    const monitor = await rt.session.client.workflow.getHandle(monitorId(ENV, 'alpha')).describe();
    expect(monitor.status.name).toBe('TERMINATED');
    expect((await runningProducts(rt.session.warehouse.meta, ENV)).running.has('alpha')).toBe(false);
    expect((await plan(current)).products.some((x) => x.product === 'alpha')).toBe(false);
  }, 60_000);

  it('pauses a schedule the product pauses, resumes it when the pause is removed, and keeps an operator\'s pause', async () => {
    const beta = (await runningProducts(rt.session.warehouse.meta, ENV)).running.get('beta')!.manifest!.product as Product;
    const paused: Product = { ...beta, serve: beta.serve.map((t) => ({ ...t, schedule: { ...t.schedule!, paused: 'the partner folder is migrating' } })) };
    const handle = rt.session.client.schedule.getHandle('lastmile/dev/beta/weekly_csv');
    const p = await plan(products({ alpha: undefined, beta: paused }));
    const planned = p.products.find((x) => x.product === 'beta')!;
    expect(planned.schedules).toEqual([{ target: 'weekly_csv', from: '0 6 * * * UTC', to: '0 6 * * * UTC (paused: the partner folder is migrating)' }]);
    const [applied] = (await apply(p, products({ alpha: undefined, beta: paused }))).filter((a) => a.product === 'beta');
    expect(applied!.schedules).toEqual([expect.objectContaining({ action: 'paused', paused: true })]);
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: 'paused in products/ (schedule.paused): the partner folder is migrating' });

    const resumed = await apply(await plan(products({ alpha: undefined, beta })), products({ alpha: undefined, beta }));
    expect(resumed.find((a) => a.product === 'beta')!.schedules).toEqual([expect.objectContaining({ action: 'resumed' })]);
    expect((await handle.describe()).state.paused).toBe(false);

    // an operator pauses it by hand; a deploy that changes the product leaves that pause in place
    await handle.pause('incident 4711: partner asked us to hold deliveries');
    const bumped: Product = { ...beta, version: '1.0.2' };
    const again = await apply(await plan(products({ alpha: undefined, beta: bumped })), products({ alpha: undefined, beta: bumped }));
    expect(again.find((a) => a.product === 'beta')!.schedules).toEqual([expect.objectContaining({ action: 'updated', paused: true })]);
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: 'incident 4711: partner asked us to hold deliveries' });
  }, 60_000);
});

/**
 * A plan whose grants could not be made as declared says so before anything is applied — on a warehouse lastmile
 * does not own (no consumer roles are made there), where a share's consumer has no role yet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDeployPlan } from '../../src/deploy/apply.js';
import { deployContext } from '../../src/deploy/context.js';
import { scheduleIdsOf } from '../../src/deploy/schedules.js';
import { planFor } from '../../src/cli/commands/plan.js';
import { productModule } from '../support/cli.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const CONFIG = `import { defineConfig } from 'lastmile';
export default defineConfig({
  environments: { dev: { warehouse: { urlEnv: 'LS_WAREHOUSE_URL' } }, prod: { warehouse: { urlEnv: 'LS_PROD_WAREHOUSE_URL' } } },
  promotion: ['dev', 'prod'],
});
`;

let rt: RuntimeHarness;

beforeAll(async () => {
  rt = await startRuntime({
    config: CONFIG,
    warehouseUrlEnv: 'LS_WAREHOUSE_URL',
    sql: `create schema scratch;
          create table scratch.weekly (supplier_id text, week date, units bigint);
          insert into scratch.weekly values ('SUP-001', '2026-11-23', 4);`,
    products: {
      shared: productModule({
        name: 'shared',
        source: "select supplier_id, week, units from ${table('scratch.weekly')}",
        serve: [`share({ name: 'portal', to: 'partner_share', consumers: ['acme'], schedule: { cron: '0 6 * * *', timezone: 'UTC' } })`],
      }),
    },
  });
}, 120_000);

afterAll(async () => {
  await rt?.close();
});

describe('a plan that could not be deployed', () => {
  it('names the missing role, counts as refused, and a deploy of it applies nothing', async () => {
    const products = [{ product: rt.product('shared'), file: 'products/shared.ts' }];
    const plan = await planFor({ config: rt.loaded.config, root: rt.project.root, env: 'dev', warehouse: rt.session.warehouse, products });
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems![0]).toMatch(/a share target's first run would fail: the warehouse of dev has no role partner_share_acme__dev/);
    expect(plan.summary.refused).toBe(1);

    const context = await deployContext(rt.loaded.config, 'dev', rt.session.warehouse.schemas);
    await expect(
      applyDeployPlan({ client: rt.session.client, env: 'dev', taskQueue: rt.session.temporal.taskQueue, meta: rt.session.warehouse.meta, plan, products: new Map([['shared', rt.product('shared')]]), context }),
    ).rejects.toThrow(/says a deploy would fail, so nothing was applied/);
    expect(await scheduleIdsOf(rt.session.client, 'dev')).toEqual([]);
    expect(await rt.session.warehouse.meta.latestDeployments('dev')).toEqual([]);

    // once the role exists, the same products plan cleanly
    await rt.warehouse.query('create role partner_share_acme__dev nologin');
    const fixed = await planFor({ config: rt.loaded.config, root: rt.project.root, env: 'dev', warehouse: rt.session.warehouse, products });
    expect(fixed.problems).toBeUndefined();
    expect(fixed.products[0]!.grants!.map((g) => [g.action, g.when])).toEqual(expect.arrayContaining([['create view', 'first run'], ['grant', 'first run']]));
  }, 120_000);
});

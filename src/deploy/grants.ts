/**
 * The data-sharing grants of an environment as a deploy leaves them: the share reconcile (src/sharing/reconcile.ts)
 * run over the products the environment runs after the deploy — so a consumer removed from a product, a mask
 * changed or a product removed is granted, revoked or dropped at the deploy, not at some later run. A share target
 * no run has served yet is granted by its own first run, after its checks, as always; a plan lists those grants as
 * waiting for that run. Nothing is done (no role, schema or extension made) where no product shares and the
 * warehouse holds no share schema of lastmile's.
 */
import type { Config } from '../config/spec.js';
import type { Product } from '../product/model.js';
import { ServingContext } from '../runtime/serving-context.js';
import type { Warehouse } from '../runtime/warehouse.js';
import { shareSchemasExist } from '../sharing/catalog.js';
import type { ShareChange } from '../sharing/change.js';
import { shareSession } from '../sharing/serve.js';

export interface GrantsOutcome {
  changes: ShareChange[];
  ddl: number;
  summary: string;
}

export interface GrantsInput {
  config: Config;
  root: string;
  warehouse: Warehouse;
  /** the products the environment runs once the deploy is done */
  products: readonly Product[];
}

/** The products' shares need a reconcile: some product shares, or lastmile's share schemas are there to be revoked. */
async function sharesInPlay(input: GrantsInput): Promise<boolean> {
  return input.products.some((p) => p.serve.some((t) => t.kind === 'share')) || (await shareSchemasExist(input.warehouse.pool));
}

function context(input: GrantsInput): ServingContext {
  const context = new ServingContext(input.config, new Map(input.products.map((p) => [p.name, p])), { root: input.root, seed: false });
  // the caller's warehouse, which it closes
  context.adopt(input.warehouse);
  return context;
}

/** Makes the environment's grants what `products` declare (for the targets served before); undefined: no shares. */
export async function reconcileDeployedGrants(input: GrantsInput & { runId?: string }): Promise<GrantsOutcome | undefined> {
  if (!(await sharesInPlay(input))) return undefined;
  const session = await shareSession(context(input), input.warehouse.env);
  const { result, summary } = await session.reconcile(input.runId === undefined ? {} : { runId: input.runId });
  return { changes: result.changes, ddl: result.ddl, summary };
}

export interface PlannedGrant extends ShareChange {
  /** `deploy`: the deploy makes it; `first run`: the share target's first run makes it, after its checks */
  when: 'deploy' | 'first run';
}

/**
 * What the grants would become (nothing is changed: both reconciles are rolled back): the changes a deploy makes,
 * and those that wait for a share target's first run.
 */
export async function plannedGrants(input: GrantsInput): Promise<PlannedGrant[]> {
  if (!(await sharesInPlay(input))) return [];
  const session = await shareSession(context(input), input.warehouse.env);
  const now = new Date();
  const atDeploy = (await session.reconcile({ dryRun: true, now }).catch(rethrow('the deploy'))).result.changes;
  const eventually = (await session.reconcile({ dryRun: true, allTargets: true, now }).catch(rethrow("a share target's first run"))).result.changes;
  const key = (c: ShareChange) => JSON.stringify([c.action, c.object, c.grantee ?? null, c.privileges ?? null, c.consumer ?? null]);
  const deployed = new Set(atDeploy.map(key));
  return [...atDeploy.map((c) => ({ ...c, when: 'deploy' as const })), ...eventually.filter((c) => !deployed.has(key(c))).map((c) => ({ ...c, when: 'first run' as const }))];
}

function rethrow(when: string): (error: unknown) => never {
  return (error) => {
    throw new Error(`${when} would fail: ${error instanceof Error ? error.message : String(error)}`);
  };
}

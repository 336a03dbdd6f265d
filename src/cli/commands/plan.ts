import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/spec.js';
import { deployContext } from '../../deploy/context.js';
import { runningProducts } from '../../deploy/ledger.js';
import { plannedGrants } from '../../deploy/grants.js';
import { makePlan, type DeployPlan, type PlanObservations } from '../../deploy/plan.js';
import { plannedSyncs } from '../../deploy/sync-preview.js';
import { planMarkdown, planText } from '../../deploy/plan-render.js';
import type { Product } from '../../product/model.js';
import { ValidationError } from '../../product/problems.js';
import { gitSha } from '../../runtime/project.js';
import type { Warehouse } from '../../runtime/warehouse.js';
import { readProducts } from '../../static/read.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { loadedNotes } from './diff.js';
import { readStore } from './read-store.js';

/**
 * The plan of `products` for `env` against its ledger, with what the deploy would do to the environment's share
 * grants and what each reverse ETL target would send next (both dry runs in the environment's warehouse).
 */
export async function planFor(input: { config: Config; root: string; env: string; warehouse: Warehouse; products: readonly { product: Product; file: string }[]; sha?: string }): Promise<DeployPlan> {
  const { config, env, warehouse, products } = input;
  const context = await deployContext(config, env, warehouse.schemas);
  const { running } = await runningProducts(warehouse.meta, env);
  const observed = await observeEnvironment({ config, root: input.root, warehouse, products: products.map((p) => p.product) });
  return makePlan({
    env,
    ...(input.sha !== undefined && { gitSha: input.sha }),
    products,
    fingerprints: new Map(products.map((p) => [p.product.name, context.fingerprint(p.product)])),
    running,
    observed,
  });
}

async function observeEnvironment(input: { config: Config; root: string; warehouse: Warehouse; products: readonly Product[] }): Promise<PlanObservations> {
  const problems: string[] = [];
  const grants = await plannedGrants(input).catch((error: unknown) => {
    problems.push(`the share grants of ${input.warehouse.env} cannot be reconciled as the products declare: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  });
  return { grants, syncs: await plannedSyncs(input), problems };
}

/**
 * `lastmile plan [--env E] [--revision REV] [--out FILE] [--markdown]`: the products (read without running them, at the
 * work tree or a revision) against what E runs. Exit 1 when the plan holds a change its version does not allow.
 */
export async function planCommand(root: string, options: { env: string; revision?: string; out?: string; markdown: boolean }, out: Output): Promise<number> {
  const config = await loadConfig(root);
  const read = await readProducts(root, options.revision === undefined ? {} : { revision: options.revision });
  if (read.problems.length > 0) throw new ValidationError([...read.problems]);
  for (const note of loadedNotes(read, options.revision ?? 'the work tree')) out.note(note);
  const sha = options.revision === undefined ? gitSha(root, config.seedModule) : read.revision;
  // an embedded environment gets its seed data first: the dry runs read it
  const plan = await readStore({ config, root }, options.env, (warehouse) => planFor({ config, root, env: options.env, warehouse, products: read.products, ...(sha !== undefined && { sha }) }), { seed: true });
  if (options.out) {
    const file = path.resolve(options.out);
    await writeFile(file, `${JSON.stringify(plan, null, 2)}\n`);
    out.note(`plan ${plan.hash} written to ${file}; apply it with lastmile deploy --env ${options.env} --plan ${options.out}`);
  }
  if (out.json) out.printJson(plan);
  else out.print(options.markdown ? planMarkdown(plan) : planText(plan));
  return plan.summary.refused > 0 ? EXIT.failed : EXIT.ok;
}


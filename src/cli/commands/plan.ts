import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/spec.js';
import { deployContext } from '../../deploy/context.js';
import { runningProducts } from '../../deploy/ledger.js';
import { makePlan, type DeployPlan } from '../../deploy/plan.js';
import { planMarkdown, planText } from '../../deploy/plan-render.js';
import type { MetaStore } from '../../meta/index.js';
import type { Product } from '../../product/model.js';
import { ValidationError } from '../../product/problems.js';
import type { SchemaMap } from '../../product/source.js';
import { gitSha } from '../../runtime/project.js';
import { readProducts } from '../../static/read.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { loadedNotes } from './diff.js';
import { readStore } from './read-store.js';

/** The plan of `products` for `env` against its ledger. */
export async function planFor(config: Config, env: string, meta: MetaStore, schemas: SchemaMap, products: readonly { product: Product; file: string }[], sha?: string): Promise<DeployPlan> {
  const context = await deployContext(config, env, schemas);
  const { running } = await runningProducts(meta, env);
  return makePlan({
    env,
    ...(sha !== undefined && { gitSha: sha }),
    products,
    fingerprints: new Map(products.map((p) => [p.product.name, context.fingerprint(p.product)])),
    running,
  });
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
  const plan = await readStore({ config, root }, options.env, (warehouse) => planFor(config, options.env, warehouse.meta, warehouse.schemas, read.products, sha));
  if (options.out) {
    const file = path.resolve(options.out);
    await writeFile(file, `${JSON.stringify(plan, null, 2)}\n`);
    out.note(`plan ${plan.hash} written to ${file}; apply it with lastmile deploy --env ${options.env} --plan ${options.out}`);
  }
  if (out.json) out.printJson(plan);
  else out.print(options.markdown ? planMarkdown(plan) : planText(plan));
  return plan.summary.refused > 0 ? EXIT.failed : EXIT.ok;
}


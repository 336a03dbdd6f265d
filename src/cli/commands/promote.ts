import { resolveEnvironment } from '../../config/resolve.js';
import { applyDeployPlan } from '../../deploy/apply.js';
import { recordCiResult, type CiStatus } from '../../deploy/ci-results.js';
import { deployContext } from '../../deploy/context.js';
import { reconcileDeployedGrants } from '../../deploy/grants.js';
import { promotionGates, type ProductGates } from '../../deploy/gates.js';
import { isRemoval, manifestOf, runningProducts, type LedgerEntry } from '../../deploy/ledger.js';
import { planText } from '../../deploy/plan-render.js';
import { InputError } from '../../errors.js';
import type { Product } from '../../product/model.js';
import { openSession, type Project, type Session } from '../../runtime/session.js';
import { openWarehouse, stopEmbeddedPostgres } from '../../runtime/warehouse.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { grantsLine } from './deploy.js';
import { planFor } from './plan.js';
import { readStore } from './read-store.js';

/** Deploys `products` (as a source ledger holds them) to the session's environment through a plan, and prints it. */
async function deploySnapshots(session: Session, project: Project, env: string, entries: readonly LedgerEntry[], options: { override?: string; action: 'deploy' | 'rollback'; restores?: number }, out: Output) {
  const products = new Map(entries.map((e) => [e.deployment.product, e.manifest!.product as Product]));
  const context = await deployContext(project.config, env, session.warehouse.schemas);
  const plan = await planFor({
    config: project.config,
    root: project.root,
    env,
    warehouse: session.warehouse,
    products: [...products.values()].map((product) => ({ product, file: `ledger #${entries.find((e) => e.deployment.product === product.name)!.deployment.deploymentId}` })),
  });
  if (!out.json) out.note(planText(plan));
  const result = await applyDeployPlan({
    client: session.client,
    env,
    taskQueue: session.temporal.taskQueue,
    meta: session.warehouse.meta,
    plan,
    products,
    context,
    gitShas: new Map(entries.map((e) => [e.deployment.product, e.deployment.gitSha])),
    action: options.action,
    ...(options.restores !== undefined && { restores: options.restores }),
    ...(options.override !== undefined && { override: options.override }),
    onProduct: (done) => out.json || out.note(`${done.action} ${done.product}${done.deploymentId !== undefined ? ` (ledger #${done.deploymentId})` : ''}`),
    reconcileGrants: (running) => reconcileDeployedGrants({ config: project.config, root: project.root, warehouse: session.warehouse, products: running }),
  });
  if (result.grants && !out.json) out.note(grantsLine(env, result.grants));
  return { plan, applied: result.products, grants: result.grants ?? null };
}

function gateLines(verdicts: readonly ProductGates[]): string[] {
  const lines: string[] = [];
  for (const v of verdicts) {
    lines.push(`${v.passed ? 'pass' : 'FAIL'}  ${v.product} ${v.version}${v.gitSha ? ` @ ${v.gitSha.slice(0, 12)}` : ''}`);
    for (const g of v.gates) lines.push(`      ${g.passed ? 'ok  ' : 'fail'} ${g.gate.padEnd(8)} ${g.detail}`);
  }
  return lines;
}

/**
 * `lastmile promote --from test --to prod [--runs N] [--suite S] [--override REASON]`: deploys to the next environment
 * exactly the versions (and SHAs) the source runs, if every product passes the gates.
 */
export async function promoteCommand(project: Project, options: { from: string; to: string; runs: number; suite: string; override?: string }, out: Output): Promise<number> {
  const source = resolveEnvironment(project.config, options.from);
  resolveEnvironment(project.config, options.to);
  if (source.promotion.next !== options.to) {
    throw new InputError(
      `${options.to} is not the environment ${options.from} promotes to: the promotion order in lastmile.config.ts is ${project.config.promotion.join(' → ')}` +
        (source.promotion.next ? `, so ${options.from} promotes to ${source.promotion.next}` : `, and ${options.from} is its last`),
    );
  }
  const warehouse = await openWarehouse(source, { root: project.root, seed: false });
  try {
    const { running: sourceRunning } = await runningProducts(warehouse.meta, options.from);
    const entries = [...sourceRunning.values()];
    const legacy = entries.filter((e) => !e.manifest);
    if (legacy.length > 0) throw new InputError(`${options.from} runs ${legacy.map((e) => e.deployment.product).join(', ')} from deployments made before plans existed; deploy them there with lastmile deploy --env ${options.from} first`);
    if (entries.length === 0) throw new InputError(`${options.from} runs no products yet (lastmile deploy --env ${options.from})`);
    const session = await openSession(project, { env: options.to, worker: false, checkContracts: entries.map((e) => e.manifest!.product as Product), log: (line) => out.note(line) });
    try {
      const { running } = await runningProducts(session.warehouse.meta, options.to);
      const verdicts = await promotionGates({ env: options.from, pool: warehouse.pool, meta: warehouse.meta }, entries, { env: options.to, running }, { runs: options.runs, suite: options.suite, now: new Date() });
      const failed = verdicts.filter((v) => !v.passed);
      if (!out.json) for (const line of gateLines(verdicts)) out.print(line);
      if (failed.length > 0 && options.override === undefined) {
        if (out.json) out.printJson({ promoted: false, from: options.from, to: options.to, gates: verdicts });
        else out.print(`promotion ${options.from} → ${options.to} refused: ${failed.map((f) => f.product).join(', ')} did not pass the gates; nothing was deployed (fix them, or promote with --override "<reason>", recorded in the ledger)`);
        return EXIT.failed;
      }
      const { plan, applied, grants } = await deploySnapshots(session, project, options.to, entries, { action: 'deploy', ...(options.override !== undefined && { override: `promotion ${options.from} → ${options.to}: ${options.override}` }) }, out);
      if (out.json) out.printJson({ promoted: true, from: options.from, to: options.to, gates: verdicts, plan: plan.hash, applied, grants });
      else out.print(`promoted ${options.from} → ${options.to}: ${applied.filter((a) => a.action !== 'already applied').length} product${applied.length === 1 ? '' : 's'} deployed as ${options.from} runs them${failed.length > 0 ? ` (gates overridden: ${options.override})` : ''}${applied.length === 0 ? ' (nothing to change)' : ''}`);
      return EXIT.ok;
    } finally {
      await session.close();
    }
  } finally {
    await warehouse.close();
    await stopEmbeddedPostgres(project.root);
  }
}

/** `lastmile rollback --env E --to <deployment>`: the environment as the ledger stood at that row, deployed again. */
export async function rollbackCommand(project: Project, options: { env: string; to: number }, out: Output): Promise<number> {
  const session = await openSession(project, { env: options.env, worker: false, checkContracts: false, log: (line) => out.note(line) });
  try {
    const asOf = await session.warehouse.meta.deploymentsAsOf(options.env, options.to);
    if (!asOf.some((d) => d.deploymentId === options.to)) throw new InputError(`${options.env} has no deployment #${options.to} (lastmile deployments --env ${options.env} lists them)`);
    const entries = asOf.map((deployment) => ({ deployment, ...(manifestOf(deployment) && { manifest: manifestOf(deployment)! }) })).filter((e) => !isRemoval(e.deployment));
    const legacy = entries.filter((e) => !e.manifest);
    if (legacy.length > 0) throw new InputError(`the ledger at #${options.to} holds ${legacy.map((e) => e.deployment.product).join(', ')} without the product as deployed (before plans existed), so lastmile cannot restore them`);
    const { plan, applied, grants } = await deploySnapshots(session, project, options.env, entries, { action: 'rollback', restores: options.to, override: `rollback to deployment #${options.to}` }, out);
    if (out.json) out.printJson({ env: options.env, restored: options.to, plan: plan.hash, applied, grants });
    else out.print(applied.length === 0 ? `${options.env} already runs what it ran at #${options.to}` : `rolled ${options.env} back to #${options.to}: ${applied.map((a) => `${a.product} ${a.action}`).join(', ')}`);
    return EXIT.ok;
  } finally {
    await session.close();
  }
}

/** `lastmile ci-record --sha SHA --status passed|failed [--suite S] [--detail TEXT] [--env E]`. */
export async function ciRecordCommand(project: Pick<Project, 'config' | 'root'>, options: { env: string; sha: string; suite: string; status: CiStatus; detail?: string }, out: Output): Promise<number> {
  const result = await readStore(project, options.env, (warehouse) => recordCiResult(warehouse.pool, { gitSha: options.sha, suite: options.suite, status: options.status, ...(options.detail !== undefined && { detail: options.detail }) }));
  if (out.json) out.printJson(result);
  else out.print(`recorded: the '${result.suite}' suite ${result.status} at ${result.gitSha} (in ${options.env}'s metadata store)`);
  return EXIT.ok;
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { applyDeployPlan, type AppliedProduct } from '../../deploy/apply.js';
import { deployContext } from '../../deploy/context.js';
import { reconcileDeployedGrants, type GrantsOutcome } from '../../deploy/grants.js';
import { planHash, type DeployPlan } from '../../deploy/plan.js';
import { planText } from '../../deploy/plan-render.js';
import { InputError } from '../../errors.js';
import type { MetaStore } from '../../meta/index.js';
import { manifestOf } from '../../deploy/ledger.js';
import { openSession, type Project } from '../../runtime/session.js';
import { EXIT } from '../exit-codes.js';
import { table, type Output } from '../output.js';
import { planFor } from './plan.js';
import { readStore, utc } from './read-store.js';

/**
 * `lastmile deploy [--env E] [--plan FILE] [--override REASON]`: applies a saved plan exactly, or a fresh one; refuses
 * a plan the environment or the products moved past, and changes the versions do not allow (unless overridden).
 */
export async function deployCommand(project: Project, options: { env: string; plan?: string; override?: string }, out: Output): Promise<number> {
  const saved = options.plan === undefined ? undefined : await readPlan(options.plan);
  const session = await openSession(project, { env: options.env, worker: false, log: (line) => out.note(line) });
  try {
    const products = [...project.products.values()].map((p) => ({ product: p, file: path.relative(project.root, p.file ?? '').split(path.sep).join('/') }));
    const plan = saved ?? (await planFor({ config: project.config, root: project.root, env: options.env, warehouse: session.warehouse, products, ...(project.gitSha !== undefined && { sha: project.gitSha }) }));
    if (!out.json) out.note(planText(plan));
    const context = await deployContext(project.config, options.env, session.warehouse.schemas);
    const result = await applyDeployPlan({
      client: session.client,
      env: options.env,
      taskQueue: session.temporal.taskQueue,
      meta: session.warehouse.meta,
      ...(project.gitSha !== undefined && { gitSha: project.gitSha }),
      plan,
      products: project.products,
      context,
      ...(options.override !== undefined && { override: options.override }),
      onProduct: (done) => out.json || out.note(appliedLine(done)),
      reconcileGrants: (running) => reconcileDeployedGrants({ config: project.config, root: project.root, warehouse: session.warehouse, products: running }),
    });
    const applied = result.products;
    if (out.json) out.printJson({ plan: plan.hash, env: options.env, applied, grants: result.grants ?? null });
    else if (result.grants) out.note(grantsLine(options.env, result.grants));
    if (!out.json) out.print(applied.length === 0 ? `nothing to deploy to ${options.env}: it runs what the products declare` : `deployed plan ${plan.hash} to ${options.env}: ${applied.filter((a) => a.action === 'deployed').length} deployed, ${applied.filter((a) => a.action === 'removed').length} removed${applied.some((a) => a.action === 'already applied') ? `, ${applied.filter((a) => a.action === 'already applied').length} already applied by this plan` : ''}`);
    return EXIT.ok;
  } finally {
    await session.close();
  }
}

/** The deploy's share reconcile, for people. */
export function grantsLine(env: string, grants: GrantsOutcome): string {
  return `share grants in ${env}: ${grants.summary}`;
}

function appliedLine(done: AppliedProduct): string {
  const schedules = done.schedules.filter((s) => s.action !== 'unservable').map((s) => `${s.action} ${s.scheduleId}`);
  return `${done.action} ${done.product}${done.deploymentId !== undefined ? ` (ledger #${done.deploymentId})` : ''}${schedules.length ? `: ${schedules.join(', ')}` : ''}${done.monitor ? `; SLO monitor ${done.monitor}` : ''}`;
}

async function readPlan(file: string): Promise<DeployPlan> {
  let plan: DeployPlan;
  try {
    plan = JSON.parse(await readFile(path.resolve(file), 'utf8')) as DeployPlan;
  } catch (error) {
    throw new InputError(`could not read the plan ${file}: ${error instanceof Error ? error.message : String(error)}; write one with lastmile plan --out ${file}`);
  }
  if (plan?.format !== 1 || !Array.isArray(plan.products) || typeof plan.hash !== 'string') throw new InputError(`${file} is not a lastmile plan (lastmile plan --out ${file} writes one)`);
  if (planHash(plan) !== plan.hash) throw new InputError(`${file} was edited after it was made (its content no longer matches its hash ${plan.hash}); make a new plan`);
  return plan;
}

/** `lastmile deployments [--env E] [--product P] [--limit N]`: the ledger, newest first. */
export async function deploymentsCommand(project: Pick<Project, 'config' | 'root'>, options: { env: string; product?: string; limit: number }, out: Output): Promise<number> {
  const rows = await readStore(project, options.env, (warehouse) => listLedger(warehouse.meta, options));
  if (out.json) {
    out.printJson(rows);
    return EXIT.ok;
  }
  if (rows.length === 0) {
    out.print(`no deployments in ${options.env}${options.product ? ` of ${options.product}` : ''} yet (lastmile deploy --env ${options.env})`);
    return EXIT.ok;
  }
  out.print(table(['id', 'product', 'version', 'action', 'git sha', 'by', 'deployed (UTC)', 'plan', 'build'], rows.map((r) => [r.id, r.product, r.version, r.action, r.gitSha?.slice(0, 12), r.by, utc(r.deployedAt), r.plan, r.build?.slice(0, 8)])));
  return EXIT.ok;
}

async function listLedger(meta: MetaStore, options: { env: string; product?: string; limit: number }) {
  const rows = await meta.listDeployments({ env: options.env, ...(options.product !== undefined && { product: options.product }), limit: options.limit });
  return rows.map((row) => {
    const manifest = manifestOf(row);
    const override = (row.manifest as { override?: string } | null)?.override;
    return {
      id: row.deploymentId,
      product: row.product,
      version: row.version,
      action: manifest?.action ?? 'deploy',
      gitSha: row.gitSha,
      by: manifest?.deployedBy ?? null,
      deployedAt: row.deployedAt,
      plan: manifest?.planHash ?? (manifest ? 'lastmile dev' : null),
      build: manifest?.workerBuild ?? null,
      ...(override !== undefined && { override }),
    };
  });
}

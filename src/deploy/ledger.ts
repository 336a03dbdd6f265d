/**
 * The deployments ledger (`lastmile.deployments`) as a plan reads it: what an environment runs is, per product, its
 * latest row — unless that row records the product's removal. Each row's manifest holds the product as it was
 * deployed (so a plan can diff its contract), its fingerprint, its schedules, and who deployed it, from which plan,
 * with which workflow build.
 */
import os from 'node:os';
import type { MetaStore } from '../meta/index.js';
import type { DeploymentRecord } from '../meta/types.js';
import type { Product } from '../product/model.js';
import type { Fingerprint } from './fingerprint.js';

export type LedgerAction = 'deploy' | 'remove' | 'rollback';

export interface LedgerManifest {
  action: LedgerAction;
  fingerprint: Fingerprint;
  /** the validated product as deployed (without the module's path) */
  product: Omit<Product, 'file'>;
  schedules: { target: string; cron: string; timezone: string; paused?: string }[];
  deployedBy: string;
  /** the plan that deployed it (`lastmile deploy`); absent for `lastmile dev`'s own deploys */
  planHash?: string;
  /** the workflow code's build (every workflows/ file and the SDK versions) */
  workerBuild: string;
  /** for a rollback: the deployment it restored */
  restores?: number;
}

export interface LedgerEntry {
  deployment: DeploymentRecord;
  /** undefined for a row written before manifests held fingerprints */
  manifest?: LedgerManifest;
}

/** What the environment runs: the latest row of each product not removed, by product name. */
export async function runningProducts(meta: MetaStore, env: string): Promise<{ running: Map<string, LedgerEntry>; latest: LedgerEntry[] }> {
  const latest = (await meta.latestDeployments(env)).map((deployment) => ({ deployment, ...(manifestOf(deployment) && { manifest: manifestOf(deployment)! }) }));
  const running = new Map(latest.filter((e) => !isRemoval(e.deployment)).map((e) => [e.deployment.product, e] as const));
  return { running, latest };
}

/** Whether a ledger row records a product's removal (also a removal of a product deployed before fingerprints). */
export function isRemoval(deployment: DeploymentRecord): boolean {
  return (deployment.manifest as { action?: unknown } | null)?.action === 'remove';
}

export function manifestOf(deployment: DeploymentRecord): LedgerManifest | undefined {
  const manifest = deployment.manifest as Partial<LedgerManifest> | null;
  if (!manifest || typeof manifest !== 'object' || !manifest.fingerprint || !manifest.product) return undefined;
  return manifest as LedgerManifest;
}

export function ledgerManifest(product: Product, fingerprint: Fingerprint, options: { action: LedgerAction; workerBuild: string; planHash?: string; restores?: number }): LedgerManifest {
  const { file: _file, ...snapshot } = product;
  void _file;
  return {
    action: options.action,
    fingerprint,
    product: JSON.parse(JSON.stringify(snapshot)) as Omit<Product, 'file'>,
    schedules: product.serve.flatMap((t) => (t.schedule ? [{ target: t.name, cron: t.schedule.cron, timezone: t.schedule.timezone, ...(t.schedule.paused !== undefined && { paused: t.schedule.paused }) }] : [])),
    deployedBy: deployer(),
    ...(options.planHash !== undefined && { planHash: options.planHash }),
    workerBuild: options.workerBuild,
    ...(options.restores !== undefined && { restores: options.restores }),
  };
}

/** Who deploys: CI's actor when CI runs it, else the user. */
export function deployer(): string {
  const ci = process.env.LASTMILE_DEPLOYER ?? process.env.GITHUB_ACTOR ?? process.env.GITLAB_USER_LOGIN;
  if (ci) return ci;
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

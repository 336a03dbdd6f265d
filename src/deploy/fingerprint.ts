/**
 * A product's fingerprint in one environment: one digest per part that decides what the environment runs — the
 * source as the environment renders it (normalised, so reformatting is no change), the contract, metrics, checks,
 * SLOs, targets, the documentation, the version, the environment's own config, and lastmile's workflow code. A plan
 * compares it part by part with the one the deployments ledger holds, so it can say *why* a product counts as changed.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/spec.js';
import type { Product } from '../product/model.js';
import { resolveSource } from '../sql/resolve.js';
import { normalizeSql } from '../sql/normalize.js';
import type { SchemaMap } from '../product/source.js';
import { canonicalJson } from '../text/canonical-json.js';

export { canonicalJson };

export const FINGERPRINT_PARTS = ['version', 'source', 'contract', 'metrics', 'checks', 'slo', 'targets', 'docs', 'environment', 'workflows'] as const;
export type FingerprintPart = (typeof FINGERPRINT_PARTS)[number];
export type Fingerprint = Readonly<Record<FingerprintPart, string>>;

/** What each part covers, for people. */
export const PART_LABEL: Readonly<Record<FingerprintPart, string>> = {
  version: 'the version',
  source: "the source query (as this environment renders it, normalised)",
  contract: 'the contract',
  metrics: 'the metrics',
  checks: 'the checks',
  slo: 'the SLOs',
  targets: 'the targets (what is served where, schedules)',
  docs: 'the description, owner, domain, audience or users',
  environment: "the environment's config",
  workflows: "lastmile's workflow code",
};

export interface FingerprintContext {
  schemas: SchemaMap;
  /** the environment's declaration in lastmile.config.ts */
  environment: unknown;
  /** the workflow bundle's key (every workflows/ file and the SDK versions) */
  workflows: string;
}

export function fingerprint(product: Product, context: FingerprintContext): Fingerprint {
  return {
    version: product.version,
    source: digest(normalizeSql(resolveSource(product, context.schemas))),
    contract: digest(product.contract),
    metrics: digest(product.metrics),
    checks: digest(product.checks),
    slo: digest(product.slo ?? null),
    targets: digest(product.serve),
    docs: digest([product.description, product.owner, product.domain, product.audience, product.users, product.onDefects]),
    environment: digest(context.environment ?? null),
    workflows: context.workflows,
  };
}

/** The environment's own entry of the config (with the config-wide parts that change what it runs). */
export function environmentConfig(config: Config, env: string): unknown {
  const environments = config.environments as Readonly<Record<string, unknown>>;
  return { env: environments[env] ?? null, promotion: config.promotion ?? null };
}

/** A short digest of a value's canonical JSON (object keys sorted, so key order is no change). */
export function digest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

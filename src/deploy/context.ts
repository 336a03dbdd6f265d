/** What fingerprints and ledger rows of one environment are made from: its schema mapping, its config, the workflow build. */
import type { Config } from '../config/spec.js';
import type { Product } from '../product/model.js';
import type { SchemaMap } from '../product/source.js';
import { bundleKey } from '../temporal/workflow-bundle.js';
import { environmentConfig, fingerprint, type Fingerprint, type FingerprintContext } from './fingerprint.js';
import { ledgerManifest, type LedgerAction, type LedgerManifest } from './ledger.js';

export interface DeployContext {
  readonly context: FingerprintContext;
  fingerprint(product: Product): Fingerprint;
  manifest(product: Product, options?: { action?: LedgerAction; planHash?: string; restores?: number }): LedgerManifest;
}

export async function deployContext(config: Config, env: string, schemas: SchemaMap): Promise<DeployContext> {
  const context: FingerprintContext = { schemas, environment: environmentConfig(config, env), workflows: await bundleKey() };
  return {
    context,
    fingerprint: (product) => fingerprint(product, context),
    manifest: (product, options = {}) =>
      ledgerManifest(product, fingerprint(product, context), {
        action: options.action ?? 'deploy',
        workerBuild: context.workflows,
        ...(options.planHash !== undefined && { planHash: options.planHash }),
        ...(options.restores !== undefined && { restores: options.restores }),
      }),
  };
}

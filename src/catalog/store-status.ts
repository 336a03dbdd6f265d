/**
 * What the metadata store says about each product, for the catalog: its latest run and its SLOs judged now (by
 * `evaluateSlos`, the same judgement `lastmile slo` prints). The catalog never fails for want of a store: when it
 * cannot be opened (a URL variable not set, a server that does not answer, an embedded warehouse never started),
 * the status says why and the catalog is written from the declarations alone.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/spec.js';
import { resolveEnvironment } from '../config/resolve.js';
import type { RunRecord } from '../meta/types.js';
import type { Product } from '../product/model.js';
import { openWarehouse, stopEmbeddedPostgres, type Warehouse } from '../runtime/warehouse.js';
import { evaluateSlos, type SloStatus } from '../slo/index.js';
import { embeddedDataDir } from '../warehouse/embedded.js';

export interface ProductStatus {
  /** the latest run in the environment, or null when it never ran there */
  readonly latestRun: RunRecord | null;
  /** one per declared SLO, in report order */
  readonly slos: readonly SloStatus[];
}

export type StoreStatus =
  | {
      readonly reachable: true;
      readonly env: string;
      /** where the store lives, without credentials */
      readonly description: string;
      readonly readAt: Date;
      readonly products: ReadonlyMap<string, ProductStatus>;
    }
  | {
      readonly reachable: false;
      readonly env: string;
      /** why there is no run status, one sentence for people */
      readonly reason: string;
    };

export interface StoreStatusOptions {
  readonly config: Config;
  readonly env: string;
  readonly root: string;
  readonly products: readonly Product[];
  /** the time SLOs are judged at (default now) */
  readonly now?: Date;
}

/** The status of every product in `options.env`, or why it cannot be read. */
export async function readStoreStatus(options: StoreStatusOptions): Promise<StoreStatus> {
  // an unknown environment is the user's mistake, not an unreachable store: it throws
  const env = resolveEnvironment(options.config, options.env);
  if (env.warehouse.kind === 'embedded' && !existsSync(path.join(embeddedDataDir(options.root), 'PG_VERSION'))) {
    return {
      reachable: false,
      env: env.name,
      reason: `the embedded warehouse of this project has never been started (no ${path.join('.lastmile', 'pg')}), so nothing has run yet; lastmile dev or lastmile run creates it`,
    };
  }
  let warehouse: Warehouse;
  try {
    warehouse = await openWarehouse(env, { root: options.root, seed: false });
  } catch (error) {
    await stopEmbeddedPostgres(options.root).catch(() => undefined);
    return { reachable: false, env: env.name, reason: `the metadata store of ${env.name} could not be opened: ${messageOf(error)}` };
  }
  try {
    const now = options.now ?? new Date();
    const latest = new Map((await warehouse.meta.latestRuns(env.name)).map((run) => [run.product, run]));
    const products = new Map<string, ProductStatus>();
    for (const product of options.products) {
      products.set(product.name, { latestRun: latest.get(product.name) ?? null, slos: await evaluateSlos(warehouse.pool, product, env.name, now) });
    }
    return { reachable: true, env: env.name, description: warehouse.description, readAt: now, products };
  } catch (error) {
    return { reachable: false, env: env.name, reason: `the metadata store of ${env.name} (${warehouse.description}) could not be read: ${messageOf(error)}` };
  } finally {
    await warehouse.close();
    await stopEmbeddedPostgres(options.root);
  }
}

/** The status when the command was told not to look (`--offline`). */
export function offlineStatus(env: string): StoreStatus {
  return { reachable: false, env, reason: 'written with --offline: the metadata store was not read' };
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}

/**
 * What each reverse ETL target of the planned products would send on its next sync in the environment: the sync's
 * own dry run (src/reverse-etl/freeze.ts) — the diff of the served query against what the target synced before,
 * computed in one transaction that is rolled back, so nothing is sent or recorded. A target whose dry run cannot
 * be made (its source does not exist yet there) says why instead of guessing.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/spec.js';
import type { Product } from '../product/model.js';
import type { PlanCounts } from '../reverse-etl/freeze.js';
import { syncSession } from '../reverse-etl/serve.js';
import { ServingContext } from '../runtime/serving-context.js';
import type { Warehouse } from '../runtime/warehouse.js';

export type PlannedSync =
  | {
      target: string;
      destination: string;
      mode: string;
      counts: Pick<PlanCounts, 'rows' | 'insert' | 'update' | 'upsert' | 'delete' | 'unchanged' | 'nullKeys'>;
      /** a guardrail would trip: the sync would wait for a decision */
      held: boolean;
    }
  | { target: string; error: string };

export async function plannedSyncs(input: { config: Config; root: string; warehouse: Warehouse; products: readonly Product[] }): Promise<Map<string, PlannedSync[]>> {
  const syncing = input.products.filter((p) => p.serve.some((t) => t.kind === 'reverseEtl'));
  const out = new Map<string, PlannedSync[]>();
  if (syncing.length === 0) return out;
  const context = new ServingContext(input.config, new Map(syncing.map((p) => [p.name, p])), { root: input.root, seed: false });
  context.adopt(input.warehouse);
  for (const product of syncing) {
    const syncs: PlannedSync[] = [];
    for (const target of product.serve) {
      if (target.kind !== 'reverseEtl') continue;
      try {
        const session = await syncSession(context, { env: input.warehouse.env, product: product.name, target: target.name });
        const plan = await session.freeze({ runId: randomUUID(), dryRun: true });
        const { rows, insert, update, upsert, delete: deletes, unchanged, nullKeys } = plan.counts;
        syncs.push({ target: target.name, destination: plan.destination, mode: plan.mode, counts: { rows, insert, update, upsert, delete: deletes, unchanged, nullKeys }, held: plan.held });
      } catch (error) {
        syncs.push({ target: target.name, error: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
      }
    }
    out.set(product.name, syncs);
  }
  return out;
}

/**
 * What the run bookkeeping calls: the run's event built from the run as recorded and written to the outbox, in the
 * same activity that records the run (planRun: START; finishRun: the end event), so a retried activity writes it
 * once and a lost worker loses none.
 */
import type pg from 'pg';
import type { ResolvedEnvironment } from '../config/resolve.js';
import type { RunRecord, TargetRunRecord } from '../meta/types.js';
import type { Product } from '../product/model.js';
import type { SchemaMap } from '../product/source.js';
import type { ResolvedLineage } from './config.js';
import { warehouseLocation } from './datasets.js';
import { runEvent } from './event.js';
import { recordLineageEvent } from './outbox.js';
import type { RunEvent } from './types.js';

export interface RecordRunLineageInput {
  lineage: ResolvedLineage;
  warehouse: { pool: pg.Pool; schemas: SchemaMap };
  env: Pick<ResolvedEnvironment, 'name' | 'production' | 'destinations'>;
  /** the project folder */
  root: string;
  product: Product;
  run: RunRecord;
  /** the targets the run serves (START), or the target runs recorded (the end) */
  targets: readonly string[] | readonly TargetRunRecord[];
}

/** Builds the event of the run's current state and records it unless the run has it; returns the event. */
export async function recordRunLineage(input: RecordRunLineageInput): Promise<{ event: RunEvent; recorded: boolean }> {
  const { product } = input;
  const outcomes = new Map(input.targets.filter((t): t is TargetRunRecord => typeof t !== 'string').map((t) => [t.target, t] as const));
  const names = new Set(input.targets.map((t) => (typeof t === 'string' ? t : t.target)));
  const targets = product.serve.filter((t) => names.has(t.name)).map((target) => ({ target, ...(outcomes.has(target.name) && { outcome: outcomes.get(target.name)! }) }));
  const event = runEvent({
    product,
    run: input.run,
    targets,
    naming: {
      warehouse: warehouseLocation(input.warehouse.pool),
      schemas: input.warehouse.schemas,
      env: input.env,
      root: input.root,
      namespace: input.lineage.namespace,
    },
  });
  const recorded = await recordLineageEvent(input.warehouse.pool, { env: input.run.env, runId: input.run.runId, event });
  return { event, recorded };
}

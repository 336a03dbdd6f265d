/** A reverse ETL target with its defaults filled in: what the plan, the guardrails and the apply step read. */
import { durationMs } from '../time/duration.js';
import type { Product } from '../product/model.js';
import type { Destination, SyncMode, Target } from '../product/targets.js';
import { InputError } from '../errors.js';

export type ReverseEtlTargetOf = Extract<Target, { kind: 'reverseEtl' }>;

export interface SyncField {
  /** the destination's field name */
  field: string;
  /** the contract column it is read from */
  column: string;
}

export interface SyncSpec {
  product: string;
  target: string;
  destination: Destination;
  mode: SyncMode;
  nulls: 'send' | 'skip';
  batchSize: number;
  concurrency: number;
  rateLimit: { requestsPerSecond?: number | undefined; rowsPerSecond?: number | undefined };
  retryRejected: 'next-sync' | 'on-change';
  approvalTimeoutMs: number;
  keyColumns: string[];
  /** the destination fields of the key columns, in key order */
  keyFields: string[];
  fields: SyncField[];
  /** contract column → its declared type */
  types: Record<string, string>;
  guardrails: {
    values: { column: string; field: string; min?: number | undefined; max?: number | undefined }[];
    maxRows?: number | undefined;
    maxChangedShare?: number | undefined;
    maxDeletedShare?: number | undefined;
    totals: { column: string; field: string; maxIncrease?: number | undefined; maxDecrease?: number | undefined }[];
  };
}

/** A mirror may delete at most this share of the records it synced in one run unless its guardrails say otherwise. */
export const MIRROR_DELETE_BUDGET = 0.1;
const DEFAULT_BATCH: Record<Destination['type'], number> = { http: 200, hubspot: 100, postgres: 1000 };

export function reverseEtlTarget(product: Product, targetName: string): ReverseEtlTargetOf {
  const target = product.serve.find((t) => t.name === targetName);
  if (!target) throw new InputError(`product ${product.name} has no target '${targetName}'`);
  if (target.kind !== 'reverseEtl') throw new InputError(`target ${product.name}/${targetName} is a ${target.kind} target, not a reverse ETL sync`);
  return target;
}

export function syncSpec(product: Product, targetName: string): SyncSpec {
  const target = reverseEtlTarget(product, targetName);
  const fields = Object.entries(target.mapping).map(([field, column]) => ({ field, column: String(column) }));
  const fieldOf = (column: string): string => {
    const found = fields.find((f) => f.column === column);
    if (!found) throw new InputError(`target ${product.name}/${targetName}: column '${column}' is not mapped to a destination field`);
    return found.field;
  };
  const keyColumns = target.key.map(String);
  const guardrails = target.guardrails ?? {};
  const mode = target.mode ?? 'upsert';
  const destinationBatch = target.destination.type === 'http' ? target.destination.batchSize : undefined;
  const maxBatch = target.destination.type === 'hubspot' ? 100 : 10_000;
  return {
    product: product.name,
    target: targetName,
    destination: target.destination,
    mode,
    nulls: target.nulls ?? 'send',
    batchSize: Math.min(maxBatch, target.batchSize ?? destinationBatch ?? DEFAULT_BATCH[target.destination.type]),
    concurrency: target.concurrency ?? 1,
    rateLimit: { requestsPerSecond: target.rateLimit?.requestsPerSecond, rowsPerSecond: target.rateLimit?.rowsPerSecond },
    retryRejected: target.retryRejected ?? 'next-sync',
    approvalTimeoutMs: durationMs(target.approvalTimeout ?? '24h'),
    keyColumns,
    keyFields: keyColumns.map(fieldOf),
    fields,
    types: Object.fromEntries(product.contract.columns.map((column) => [column.name, column.type])),
    guardrails: {
      values: (guardrails.values ?? []).map((g) => ({ column: String(g.column), field: fieldOf(String(g.column)), min: g.min, max: g.max })),
      maxRows: guardrails.maxRows,
      maxChangedShare: guardrails.maxChangedShare,
      maxDeletedShare: guardrails.maxDeletedShare ?? (mode === 'mirror' ? MIRROR_DELETE_BUDGET : undefined),
      totals: (guardrails.totals ?? []).map((g) => ({ column: String(g.column), field: fieldOf(String(g.column)), maxIncrease: g.maxIncrease, maxDecrease: g.maxDecrease })),
    },
  };
}

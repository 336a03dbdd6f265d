/**
 * The five SLOs a product may declare, the name each one's measurements are stored under in
 * `lastmile.sli_measurements`, its objective and the threshold a single measurement is judged against.
 */
import type { Product, SloSpec } from '../product/model.js';
import { durationMs } from '../time/duration.js';

/** An SLO as declared in `product.slo` (its key there). */
export type SloName = 'freshness' | 'availability' | 'defectFree' | 'deliverBy' | 'latency';

/** Every SLO, in the order lastmile reports them. */
export const SLO_NAMES: readonly SloName[] = ['freshness', 'availability', 'defectFree', 'deliverBy', 'latency'];

/** The `sli` column of each SLO's measurements. */
export const SLI_NAMES: Readonly<Record<SloName, string>> = {
  freshness: 'freshness',
  availability: 'availability',
  defectFree: 'defect_free',
  deliverBy: 'deliver_by',
  latency: 'latency',
};

/** Objective of freshness, deliverBy and latency when `slo.objective` is not set. */
export const DEFAULT_OBJECTIVE = 0.99;

/** The stored SLI name of an SLO. */
export function sliName(slo: SloName): string {
  return SLI_NAMES[slo];
}

/** The SLO a stored SLI name belongs to, or undefined for a name lastmile does not judge. */
export function sloOfSli(sli: string): SloName | undefined {
  return SLO_NAMES.find((slo) => SLI_NAMES[slo] === sli);
}

/** The SLOs a product declares, in report order (none without `slo`). */
export function declaredSlos(product: Pick<Product, 'slo'>): SloName[] {
  const spec = product.slo;
  return spec ? SLO_NAMES.filter((slo) => spec[slo] !== undefined) : [];
}

/**
 * The share of good events the SLO promises: `slo.availability` and `slo.defectFree` are their own objectives; the
 * threshold SLOs (freshness, deliverBy, latency) promise `slo.objective` (default 0.99) of their measurements good.
 */
export function sloObjective(spec: SloSpec, slo: SloName): number {
  if (slo === 'availability') return spec.availability ?? DEFAULT_OBJECTIVE;
  if (slo === 'defectFree') return spec.defectFree ?? DEFAULT_OBJECTIVE;
  return spec.objective ?? DEFAULT_OBJECTIVE;
}

/** What one measurement is held to, for people: `'≤ 26h'`, `'by 07:00 Europe/Berlin'`, `'p95 ≤ 2s'`; null when the objective says it all. */
export function sloThreshold(spec: SloSpec, slo: SloName): string | null {
  if (slo === 'freshness' && spec.freshness !== undefined) return `≤ ${spec.freshness}`;
  if (slo === 'deliverBy' && spec.deliverBy !== undefined) return `by ${spec.deliverBy}`;
  if (slo === 'latency' && spec.latency !== undefined) return `p95 ≤ ${spec.latency.p95}`;
  return null;
}

/** The SLO window in milliseconds. */
export function sloWindowMs(spec: SloSpec): number {
  return durationMs(spec.window);
}

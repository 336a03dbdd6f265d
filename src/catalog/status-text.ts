/** How run and SLO status read in the catalog (both formats). */
import type { RunRecord } from '../meta/types.js';
import { percent } from '../slo/format.js';
import type { SloState, SloStatus } from '../slo/index.js';
import type { CatalogModel, CatalogProduct } from './model.js';

/** `2026-11-21 06:00:03 UTC` */
export function utcText(date: Date): string {
  return `${date.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

export function stateText(state: SloState | 'none' | 'unknown'): string {
  switch (state) {
    case 'at_risk':
      return 'at risk';
    case 'no_data':
      return 'no data';
    case 'none':
      return 'no SLO';
    case 'unknown':
      return 'not read';
    default:
      return state;
  }
}

/** `succeeded at 2026-11-21 06:00:03 UTC`, `never ran in dev`, or `not read`. */
export function latestRunText(product: CatalogProduct, env: string): string {
  if (!product.status) return 'not read';
  const run = product.status.latestRun;
  return run ? `${run.status}, ${utcText(run.startedAt)}` : `never ran in ${env}`;
}

export function runDetails(run: RunRecord): [string, string][] {
  const out: [string, string][] = [
    ['status', run.status],
    ['started', utcText(run.startedAt)],
  ];
  if (run.finishedAt) out.push(['finished', utcText(run.finishedAt)]);
  out.push(['trigger', run.trigger]);
  if (run.productVersion) out.push(['version', run.productVersion]);
  if (run.gitSha) out.push(['git commit', run.gitSha]);
  if (run.rows !== null) out.push(['rows', String(run.rows)]);
  if (run.defectRate !== null) out.push(['defect-free', percent(1 - run.defectRate)]);
  if (run.reasons.length > 0) out.push(['reasons', run.reasons.join(' ')]);
  if (run.error) out.push(['error', run.error]);
  out.push(['run id', run.runId]);
  return out;
}

/** The budget left as a percentage, or `-` without events. */
export function budgetText(budget: number | null): string {
  return budget === null ? '-' : percent(budget);
}

export function sloRow(status: SloStatus): string[] {
  return [
    status.slo,
    percent(status.objective),
    status.threshold ?? '-',
    status.window,
    status.current?.text ?? '-',
    status.value === null ? '-' : percent(status.value),
    budgetText(status.budgetRemaining),
    status.events === 0 ? '-' : status.fastBurn ? 'yes' : 'no',
    stateText(status.status),
  ];
}

export const SLO_HEADER = ['SLO', 'objective', 'threshold', 'window', 'latest', 'SLI', 'budget left', 'fast burn', 'status'];

/** One sentence on where run status came from, or why there is none. */
export function storeText(model: CatalogModel): string {
  const store = model.store;
  return store.reachable
    ? `Run and SLO status from the ${store.env} metadata store (${store.description}), read ${utcText(store.readAt)}.`
    : `No run or SLO status: ${store.reason}.`;
}

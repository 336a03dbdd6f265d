/** The live status table of `lastmile dev`: one row per product, redrawn in place on a terminal, fitted to its width. */
import type { Product } from '../../product/model.js';
import type { RunSummary } from '../../../workflows/types.js';
import { duration, table } from '../output.js';

export interface Row {
  product: string;
  status: string;
  rows?: number;
  checks?: string;
  targets?: string;
  took?: number;
  error?: string;
}

export function render(rows: Row[], maxWidth?: number): string {
  return table(
    ['product', 'status', 'rows', 'checks', 'targets', 'took', 'error'],
    rows.map((r) => [r.product, r.status, r.rows, r.checks ?? '', r.targets, r.took !== undefined ? duration(r.took) : '', r.error ?? '']),
    maxWidth,
  );
}

export function targetsOf(summary: RunSummary): string {
  const count = (status: string): number => summary.targets.filter((t) => t.status === status).length;
  const parts = [`${count('succeeded')} served`];
  if (count('skipped') > 0) parts.push(`${count('skipped')} not served`);
  if (count('failed') > 0) parts.push(`${count('failed')} failed`);
  if (count('blocked') > 0) parts.push(`${count('blocked')} blocked`);
  if (count('partial') > 0) parts.push(`${count('partial')} partly delivered`);
  return parts.join(', ');
}

/** `6/7 passed, 99.8 % clean` — the checks of a run in a table cell. */
export function checksOf(summary: RunSummary): string {
  const c = summary.checks;
  if (!c) return '';
  const total = c.passed + c.failed + c.errors;
  return `${c.passed}/${total} passed, ${(c.defectFreeFraction * 100).toFixed(1)} % clean${c.quarantined > 0 ? `, ${c.quarantined} quarantined` : ''}`;
}

export function rowOf(product: Product, summary: RunSummary): Row {
  return {
    product: product.name,
    status: summary.status,
    rows: summary.rows,
    checks: checksOf(summary),
    targets: targetsOf(summary),
    took: Date.parse(summary.finishedAt) - Date.parse(summary.startedAt),
    ...(summary.error !== undefined && { error: summary.error }),
  };
}

/** The table on stderr, redrawn in place when it is a terminal (and nothing when it is not). */
export class LiveTable {
  private drawn = 0;

  constructor(
    readonly rows: Row[],
    readonly live: boolean,
  ) {}

  redraw(): void {
    if (!this.live) return;
    // the live table fits the terminal: a wrapped line would break the redraw
    const text = render(this.rows, Math.max(40, (process.stderr.columns ?? 120) - 1));
    if (this.drawn > 0) process.stderr.write(`\x1b[${this.drawn}F\x1b[J`);
    process.stderr.write(`${text}\n`);
    this.drawn = text.split('\n').length;
  }
}

/**
 * Judges a product's SLOs from its measurements in `lastmile.sli_measurements`: the SLI and error budget over the
 * window, the burn rate over each alert lookback, and the latest measurement. Two statements per product, whatever
 * the number of measurements: one aggregate over the window and every lookback, one for the latest of each SLI.
 */
import type { Product } from '../product/model.js';
import { burnLookbacks, burnRate, isFastBurn, type BurnRate } from './burn.js';
import { percent, span, tidy } from './format.js';
import { SLI_NAMES, declaredSlos, sloObjective, sloThreshold, sloWindowMs, type SloName } from './names.js';

export type { SloName } from './names.js';

/** Anything with pg's `query(text, values)`: a `pg.Pool`, a `pg.Client`, a pool client. */
export interface SloQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export type SloState = 'ok' | 'at_risk' | 'breached' | 'no_data';

export interface SloStatus {
  product: string;
  env: string;
  slo: SloName;
  /** the stored SLI name (`defect_free`, `deliver_by`, …) */
  sli: string;
  objective: number;
  /** what one measurement is held to: `'≤ 26h'`, `'by 07:00 Europe/Berlin'`, `'p95 ≤ 2s'`; null for availability and defect-free */
  threshold: string | null;
  /** the window as declared, e.g. `'28d'` */
  window: string;
  /** measurements in [now − window, now] */
  events: number;
  good: number;
  /** the SLI over the window: the good share, or the mean defect-free fraction for defectFree; null without events */
  value: number | null;
  /** the latest measurement in the window, with a human reading (`'7h 12m old'`, `'98.2 % defect-free'`, `'p95 310 ms'`, `'38 min late'`) */
  current: { value: number; good: boolean; at: Date; text: string } | null;
  /** 1 − (1 − value) / (1 − objective): 1 untouched, 0 spent, negative overspent; null without events */
  budgetRemaining: number | null;
  /** the burn rate over each alert lookback, longest first */
  burnRates: BurnRate[];
  /** the multi-window, multi-burn-rate alert holds now */
  fastBurn: boolean;
  /**
   * breached: no budget left, or (freshness, deliverBy) the latest measurement is bad;
   * at_risk: fast burn, under a quarter of the budget left, or the latest measurement bad; no_data: no events.
   */
  status: SloState;
}

interface AggregateRow {
  sli: string;
  /** 1 = the window, 2… = the lookbacks in order */
  span: number;
  events: number;
  good: number;
  total: number;
}

interface LatestRow {
  sli: string;
  value: number;
  good: boolean;
  measured_at: Date;
}

/** SLO statuses of `product` in `env` at `now`, one per declared SLO in report order (none without `slo`). */
export async function evaluateSlos(db: SloQueryable, product: Product, env: string, now: Date): Promise<SloStatus[]> {
  const spec = product.slo;
  const slos = declaredSlos(product);
  if (!spec || slos.length === 0) return [];
  const windowMs = sloWindowMs(spec);
  const lookbacks = burnLookbacks(windowMs);
  const since = [windowMs, ...lookbacks.map((l) => l.ms)].map((ms) => new Date(now.getTime() - ms));
  const slis = slos.map((slo) => SLI_NAMES[slo]);

  // Every span starts at or after the window's start, so one scan of the window counts them all.
  const aggregates = (await db.query(
    `select m.sli, s.span::int as span, count(*)::int as events, (count(*) filter (where m.good))::int as good,
            sum(m.value)::float8 as total
       from lastmile.sli_measurements m
       join unnest($4::timestamptz[]) with ordinality as s(since, span) on m.measured_at >= s.since
      where m.product = $1 and m.env = $2 and m.sli = any($3::text[]) and m.measured_at >= $5 and m.measured_at <= $6
      group by m.sli, s.span`,
    [product.name, env, slis, since, since[0], now],
  )).rows as AggregateRow[];
  const latest = (await db.query(
    `select distinct on (sli) sli, value, good, measured_at
       from lastmile.sli_measurements
      where product = $1 and env = $2 and sli = any($3::text[]) and measured_at >= $4 and measured_at <= $5
      order by sli, measured_at desc, measurement_id desc`,
    [product.name, env, slis, since[0], now],
  )).rows as LatestRow[];

  return slos.map((slo) => {
    const sli = SLI_NAMES[slo];
    const objective = sloObjective(spec, slo);
    const over = (index: number): AggregateRow | undefined => aggregates.find((row) => row.sli === sli && row.span === index + 1);
    const window = over(0);
    const events = window?.events ?? 0;
    const good = window?.good ?? 0;
    const sliValue = events === 0 ? null : slo === 'defectFree' ? window!.total / events : good / events;
    const value = sliValue === null ? null : tidy(sliValue);
    const budgetRemaining = sliValue === null ? null : tidy(1 - (1 - sliValue) / (1 - objective));
    const burnRates = lookbacks.map((l, i) => ({ ...l, rate: burnRate(badShare(slo, over(i + 1)), objective) }));
    const fastBurn = isFastBurn(burnRates, windowMs);
    const last = latest.find((row) => row.sli === sli);
    const current = last ? { value: last.value, good: last.good, at: new Date(last.measured_at), text: currentText(slo, last.value, last.good) } : null;
    return {
      product: product.name,
      env,
      slo,
      sli,
      objective,
      threshold: sloThreshold(spec, slo),
      window: spec.window,
      events,
      good,
      value,
      current,
      budgetRemaining,
      burnRates,
      fastBurn,
      status: judge(slo, budgetRemaining, fastBurn, current),
    };
  });
}

/** The share of the lookback's events that were bad (1 − mean for defect-free); null with no events. */
function badShare(slo: SloName, row: AggregateRow | undefined): number | null {
  if (!row || row.events === 0) return null;
  return slo === 'defectFree' ? 1 - row.total / row.events : (row.events - row.good) / row.events;
}

function judge(slo: SloName, budgetRemaining: number | null, fastBurn: boolean, current: SloStatus['current']): SloState {
  if (budgetRemaining === null) return 'no_data';
  const latestBad = current !== null && !current.good;
  if (budgetRemaining <= 0 || (latestBad && (slo === 'freshness' || slo === 'deliverBy'))) return 'breached';
  if (fastBurn || budgetRemaining < 0.25 || latestBad) return 'at_risk';
  return 'ok';
}

/** The latest measurement as people read it, in the unit the recorder stores it in. */
export function currentText(slo: SloName, value: number, good: boolean): string {
  switch (slo) {
    case 'freshness':
      return `${span(value * 1000)} old`;
    case 'availability':
      return good ? 'delivered on time' : 'failed or late';
    case 'defectFree':
      return `${percent(value)} defect-free`;
    case 'deliverBy':
      return good ? 'on time' : value > 0 ? `${span(value * 1000)} late` : 'missed';
    case 'latency':
      return `p95 ${span(value)}`;
  }
}

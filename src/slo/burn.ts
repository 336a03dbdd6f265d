/**
 * Burn rates and the multi-window, multi-burn-rate alert of Google's SRE workbook ("Alerting on SLOs"), scaled to
 * the SLO window W. A burn rate is how fast the error budget goes: 1 spends exactly the budget over W, 14.4 spends
 * 2 % of a 30-day budget in one hour.
 *
 * Page when the burn rate is above 14.4 over both W/720 and W/8640, or above 6 over both W/120 and W/1440 (for
 * W = 30d: 1h and 5m, 6h and 30m). The long lookback says the burn is significant, the short one that it is still
 * going on, so the alert stops soon after the burn does.
 */
import { span, tidy } from './format.js';

/** One condition of the alert: the burn rate is above `rate` over both lookbacks (W / divisor each). */
export interface BurnRule {
  rate: number;
  /** W / long is the long lookback */
  long: number;
  /** W / short is the short lookback */
  short: number;
  /** the share of the budget spent over the long lookback when the rule fires */
  budgetSpent: number;
}

export const BURN_RULES: readonly BurnRule[] = [
  { rate: 14.4, long: 720, short: 8640, budgetSpent: 0.02 },
  { rate: 6, long: 120, short: 1440, budgetSpent: 0.05 },
];

/** A lookback of a window: its length and how people read it (`'1h'`, `'5 min'`). */
export interface Lookback {
  lookback: string;
  ms: number;
}

/** A lookback with the burn rate measured over it. */
export interface BurnRate extends Lookback {
  rate: number;
}

/** The lookbacks the alert looks at for a window of `windowMs`, longest first, each once. */
export function burnLookbacks(windowMs: number): Lookback[] {
  const divisors = [...new Set(BURN_RULES.flatMap((rule) => [rule.long, rule.short]))].sort((a, b) => a - b);
  return divisors.map((divisor) => lookback(windowMs / divisor));
}

function lookback(ms: number): Lookback {
  const rounded = Math.round(ms);
  return { lookback: span(rounded), ms: rounded };
}

/** The alert's conditions for a window, as people read them: `'> 14.4 over both 1h and 5 min'`. */
export function burnRuleText(windowMs: number): string[] {
  return BURN_RULES.map((rule) => `> ${rule.rate} over both ${lookback(windowMs / rule.long).lookback} and ${lookback(windowMs / rule.short).lookback}`);
}

/**
 * The burn rate of an error rate: `badShare / (1 − objective)`. For the good-share SLIs the bad share is
 * bad events / events; for defect-free it is 1 − the mean defect-free fraction. No events burn nothing.
 */
export function burnRate(badShare: number | null, objective: number): number {
  if (badShare === null || !Number.isFinite(badShare)) return 0;
  return tidy(badShare / (1 - objective));
}

/** True when the alert holds: some rule's burn rate is above its threshold over both of its lookbacks. */
export function isFastBurn(rates: readonly BurnRate[], windowMs: number): boolean {
  const rateOver = (divisor: number): number => rates.find((r) => r.ms === Math.round(windowMs / divisor))?.rate ?? 0;
  return BURN_RULES.some((rule) => rateOver(rule.long) > rule.rate && rateOver(rule.short) > rule.rate);
}

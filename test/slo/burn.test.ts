import { describe, expect, it } from 'vitest';
import { BURN_RULES, burnLookbacks, burnRate, burnRuleText, isFastBurn } from '../../src/slo/burn.js';
import { span, percent } from '../../src/slo/format.js';
import { declaredSlos, sloObjective, sloThreshold } from '../../src/slo/names.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('burn-rate lookbacks scaled to the window', () => {
  it('a 30-day window looks back 6h, 1h, 30 min and 5 min (the SRE workbook figures)', () => {
    expect(burnLookbacks(30 * DAY)).toEqual([
      { lookback: '6h', ms: 6 * HOUR },
      { lookback: '1h', ms: HOUR },
      { lookback: '30 min', ms: HOUR / 2 },
      { lookback: '5 min', ms: HOUR / 12 },
    ]);
    expect(burnRuleText(30 * DAY)).toEqual(['> 14.4 over both 1h and 5 min', '> 6 over both 6h and 30 min']);
  });

  it('a 28-day window scales them down', () => {
    expect(burnLookbacks(28 * DAY).map((l) => l.lookback)).toEqual(['5h 36m', '56 min', '28 min', '4 min 40 s']);
    expect(burnLookbacks(7 * DAY).map((l) => l.lookback)).toEqual(['1h 24m', '14 min', '7 min', '1 min 10 s']);
  });

  it('the rules spend 2 % and 5 % of the budget over their long lookback', () => {
    for (const rule of BURN_RULES) expect(rule.rate / rule.long).toBeCloseTo(rule.budgetSpent, 12);
  });
});

describe('burn rate and the fast-burn rule', () => {
  it('is the bad share over the budget share; no events burn nothing', () => {
    expect(burnRate(0.02, 0.99)).toBe(2);
    expect(burnRate(0.144, 0.99)).toBe(14.4);
    expect(burnRate(0, 0.99)).toBe(0);
    expect(burnRate(null, 0.99)).toBe(0);
  });

  const rates = (r6h: number, r1h: number, r30m: number, r5m: number) =>
    burnLookbacks(30 * DAY).map((l, i) => ({ ...l, rate: [r6h, r1h, r30m, r5m][i] }));

  it('pages only when both lookbacks of one rule are above its rate', () => {
    expect(isFastBurn(rates(0, 15, 0, 15), 30 * DAY)).toBe(true);
    expect(isFastBurn(rates(0, 15, 0, 14.4), 30 * DAY)).toBe(false); // strictly above
    expect(isFastBurn(rates(0, 100, 0, 0), 30 * DAY)).toBe(false); // the burn has stopped
    expect(isFastBurn(rates(7, 0, 7, 0), 30 * DAY)).toBe(true);
    expect(isFastBurn(rates(7, 0, 5, 7), 30 * DAY)).toBe(false);
    expect(isFastBurn(rates(6, 13, 6, 13), 30 * DAY)).toBe(false);
  });
});

describe('names and texts', () => {
  const spec = { freshness: '26h', availability: 0.995, deliverBy: '07:00 Europe/Berlin', latency: { p95: '2s', queries: {} }, window: '28d' } as const;

  it('declared SLOs in report order, objectives and thresholds', () => {
    expect(declaredSlos({ slo: spec as never })).toEqual(['freshness', 'availability', 'deliverBy', 'latency']);
    expect(declaredSlos({})).toEqual([]);
    expect(sloObjective(spec as never, 'availability')).toBe(0.995);
    expect(sloObjective(spec as never, 'freshness')).toBe(0.99);
    expect(sloObjective({ ...spec, objective: 0.9 } as never, 'latency')).toBe(0.9);
    expect(sloThreshold(spec as never, 'freshness')).toBe('≤ 26h');
    expect(sloThreshold(spec as never, 'deliverBy')).toBe('by 07:00 Europe/Berlin');
    expect(sloThreshold(spec as never, 'latency')).toBe('p95 ≤ 2s');
    expect(sloThreshold(spec as never, 'availability')).toBeNull();
  });

  it('spans and percentages', () => {
    expect([310, 2500, 45_000, 38 * 60_000, 7.2 * HOUR, 2 * DAY + 3 * HOUR, DAY].map(span)).toEqual(['310 ms', '2.5 s', '45 s', '38 min', '7h 12m', '2d 3h', '1d']);
    expect([0.982, 1, 0.9995, -1].map(percent)).toEqual(['98.2 %', '100 %', '99.95 %', '-100 %']);
  });
});

import { describe, expect, it } from 'vitest';
import { canonicalizeSpec, compileCanonical } from '../../devserver/schedules/canonical.js';
import { cronProblem } from '../../src/product/schedule.js';
import { validateProduct } from '../../src/product/validate.js';
import { defineProduct, files, table } from '../../src/index.js';

/** Whether the devserver's schedules (Temporal's canonicalization, then compilation) take a target's schedule. */
function scheduleAccepts(cron: string, timezone: string): boolean {
  try {
    compileCanonical(canonicalizeSpec({ cronString: [cron], timezoneName: timezone }));
    return true;
  } catch {
    return false;
  }
}

const EXPRESSIONS = [
  '0 5 * * *',
  '30 6 1 * *',
  '*/15 5 1,15 jan-mar mon-fri',
  '0 7 ? * MON-FRI',
  '0 12 1 1 * 2030-2032',
  '30 0 12 1 1 * 2030',
  '0 0 * * 7',
  '@daily',
  '@every 15m',
  '@every 1d/2h',
  '0 7 * * * # morning',
  '0 5 * *',
  '60 * * * *',
  '0 0 0 * *',
  '0 0 * 13 *',
  '0 0 * * 8',
  '0 18-8 * * *',
  '*/0 * * * *',
  '0 0 * * funday',
  '0,,5 * * * *',
  '@fortnightly',
  '@every 0s',
  '* * L * *',
  '* * * * MON#2',
  '* * * * * * * *',
  'CRON_TZ=Europe/Berlin 0 7 * * *',
  '',
];

describe('target schedules', () => {
  it('product validation accepts exactly the cron texts the schedules accept', () => {
    for (const expression of EXPRESSIONS) {
      const accepted = cronProblem(expression) === undefined;
      expect(accepted, expression).toBe(scheduleAccepts(expression, 'Europe/Berlin'));
    }
    // both sides really differ between the two halves of the list
    expect(EXPRESSIONS.filter((e) => cronProblem(e) === undefined)).toHaveLength(11);
  });

  it.each([
    ['0 5 * *', /expected 5, 6 or 7 fields, got 4/],
    ['60 * * * *', /minute 60 is out of range 0-59/],
    ['0 0 0 * *', /day-of-month 0 is out of range 1-31/],
    ['0 0 * 13 *', /month 13 is out of range 1-12/],
    ['0 0 * * 8', /day-of-week 8 is out of range 0-7/],
    ['0 18-8 * * *', /ends before it starts/],
    ['*/0 * * * *', /step 0 must be at least 1/],
    ['0 0 * * funday', /"funday" is not a number or name/],
    ['0,,5 * * * *', /empty list item/],
    ['@fortnightly', /unknown shorthand/],
    ['CRON_TZ=Europe/Berlin 0 7 * * *', /put the zone in schedule.timezone/],
  ])('rejects %s, saying what is wrong', (expression, message) => {
    const problem = cronProblem(expression);
    expect(problem).toMatch(message);
    expect(problem).not.toMatch(/^cron "/);
  });

  it('a product whose target runs on weekdays with ? and names validates; a bad field is reported at its path', () => {
    const product = (cron: string) =>
      defineProduct({
        name: 'weekday_files',
        version: '1.0.0',
        owner: { team: 'data', email: 'data@example.com' },
        domain: 'finance',
        description: 'Invoices as files.',
        audience: 'internal',
        users: [{ who: 'finance', action: 'reconcile' }],
        source: table('marts.partner_invoices'),
        contract: { key: ['id'], columns: [{ name: 'id', type: 'text' }] },
        checks: [],
        serve: [files({ name: 'daily', format: 'csv', to: './out', schedule: { cron, timezone: 'Europe/Berlin' } })],
      });
    expect(validateProduct(product('0 7 ? * MON-FRI')).problems).toEqual([]);
    const { problems } = validateProduct(product('0 7 ? * MON-FRY'));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('serve[0].schedule.cron');
    expect(problems[0]!.message).toMatch(/'0 7 \? \* MON-FRY' is not a valid cron expression: .*"FRY"/);
  });
});

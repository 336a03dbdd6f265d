import { describe, expect, it } from 'vitest';
import { cronProblem, parseCron } from '../../src/product/cron.js';

describe('cron expressions', () => {
  it('expands values, ranges, steps, lists and names', () => {
    expect(parseCron('*/15 5 1,15 jan-mar mon-fri')).toEqual({
      minute: [0, 15, 30, 45],
      hour: [5],
      dayOfMonth: [1, 15],
      month: [1, 2, 3],
      dayOfWeek: [1, 2, 3, 4, 5],
    });
    expect(parseCron('0 8-18/2 * * *').hour).toEqual([8, 10, 12, 14, 16, 18]);
    expect(parseCron('5/20 * * * *').minute).toEqual([5, 25, 45]);
    expect(parseCron('0 0 * * 7').dayOfWeek).toEqual([0]);
    expect(parseCron('@daily')).toEqual(parseCron('0 0 * * *'));
  });

  it.each([
    ['0 5 * *', /has 5 fields, '0 5 \* \*' has 4/],
    ['60 * * * *', /minute value 60 is outside 0–59/],
    ['0 0 0 * *', /day of month value 0 is outside 1–31/],
    ['0 0 * 13 *', /month value 13 is outside 1–12/],
    ['0 0 * * 8', /day of week value 8 is outside 0–7/],
    ['0 18-8 * * *', /hour range '18-8' runs backwards/],
    ['*/0 * * * *', /step '0'/],
    ['0 0 * * funday', /'funday', which is not a number or a name/],
    ['0,,5 * * * *', /empty list item/],
    ['@fortnightly', /not a known shorthand/],
  ])('rejects %s', (expression, message) => {
    expect(cronProblem(expression)).toMatch(message);
  });

  it('accepts valid expressions', () => {
    for (const expression of ['0 5 * * *', '30 6 1 * *', '0 */4 * * *', '15 * * * 1-5', '0 0 1 1 *', '@hourly']) {
      expect(cronProblem(expression), expression).toBeUndefined();
    }
  });
});

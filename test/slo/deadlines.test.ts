import { describe, expect, it } from 'vitest';
import { deadlineAtOrBefore, expectedDeadlines, expectedDelivery, nextDeadlineAfter, parseDeliverBy, productSchedules } from '../../src/slo/deadlines.js';

const at = (iso: string): Date => new Date(iso);

describe('parseDeliverBy', () => {
  it('reads HH:MM and HH:MM:SS with a zone', () => {
    expect(parseDeliverBy('07:00 Europe/Berlin')).toEqual({ hour: 7, minute: 0, second: 0, timeZone: 'Europe/Berlin', text: '07:00 Europe/Berlin' });
    expect(parseDeliverBy('23:59:30 UTC')).toMatchObject({ hour: 23, minute: 59, second: 30, timeZone: 'UTC' });
  });

  it('says how to write it', () => {
    expect(() => parseDeliverBy('7am Berlin')).toThrow(/'HH:MM Zone'/);
    expect(() => parseDeliverBy('07:00 Europe/Berln')).toThrow(/not a known time zone/);
  });
});

describe('deadlines across DST in Europe/Berlin', () => {
  // 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
  const berlin = '07:00 Europe/Berlin';

  it('end of March: 07:00 is 06:00Z on Saturday and 05:00Z on Sunday, 23 hours apart', () => {
    expect(deadlineAtOrBefore(at('2026-03-28T12:00:00Z'), berlin)).toEqual(at('2026-03-28T06:00:00Z'));
    expect(deadlineAtOrBefore(at('2026-03-29T04:59:59Z'), berlin)).toEqual(at('2026-03-28T06:00:00Z'));
    expect(deadlineAtOrBefore(at('2026-03-29T05:00:00Z'), berlin)).toEqual(at('2026-03-29T05:00:00Z'));
    expect(nextDeadlineAfter(at('2026-03-28T06:00:00Z'), berlin)).toEqual(at('2026-03-29T05:00:00Z'));
    expect(nextDeadlineAfter(at('2026-03-29T05:00:00Z'), berlin)).toEqual(at('2026-03-30T05:00:00Z'));
  });

  it('end of October: 07:00 is 05:00Z on Saturday and 06:00Z on Sunday, 25 hours apart', () => {
    expect(nextDeadlineAfter(at('2026-10-24T05:00:00Z'), berlin)).toEqual(at('2026-10-25T06:00:00Z'));
    expect(deadlineAtOrBefore(at('2026-10-25T05:59:59Z'), berlin)).toEqual(at('2026-10-24T05:00:00Z'));
    expect(deadlineAtOrBefore(at('2026-10-25T06:00:00Z'), berlin)).toEqual(at('2026-10-25T06:00:00Z'));
    // Midnight local on Sunday, still CEST: the deadline before is Saturday's.
    expect(deadlineAtOrBefore(at('2026-10-24T22:30:00Z'), berlin)).toEqual(at('2026-10-24T05:00:00Z'));
  });

  it('a deadline in the spring-forward gap falls the length of the gap later; one in the overlap is the earlier instant', () => {
    // 02:30 does not exist on 2026-03-29: it becomes 03:30 CEST = 01:30Z.
    expect(nextDeadlineAfter(at('2026-03-28T12:00:00Z'), '02:30 Europe/Berlin')).toEqual(at('2026-03-29T01:30:00Z'));
    // 02:30 happens twice on 2026-10-25 (00:30Z in CEST, 01:30Z in CET): one deadline, the first.
    expect(nextDeadlineAfter(at('2026-10-24T12:00:00Z'), '02:30 Europe/Berlin')).toEqual(at('2026-10-25T00:30:00Z'));
    expect(nextDeadlineAfter(at('2026-10-25T00:30:00Z'), '02:30 Europe/Berlin')).toEqual(at('2026-10-26T01:30:00Z'));
  });

  it('deadlines just after local midnight in a zone west of UTC', () => {
    // 00:15 in New York on 2026-03-08 (EST, before the 02:00 change) is 05:15Z; on 2026-03-09 (EDT) 04:15Z.
    expect(nextDeadlineAfter(at('2026-03-08T00:00:00Z'), '00:15 America/New_York')).toEqual(at('2026-03-08T05:15:00Z'));
    expect(nextDeadlineAfter(at('2026-03-08T05:15:00Z'), '00:15 America/New_York')).toEqual(at('2026-03-09T04:15:00Z'));
  });
});

describe('expectedDelivery', () => {
  const weekdays = [{ cron: '0 5 * * 1-5', timezone: 'America/New_York' }];
  const deadline = (iso: string): Date => deadlineAtOrBefore(at(iso), '06:30 America/New_York');

  it('a Mon–Fri product expects a delivery Monday to Friday, not at the weekend', () => {
    // 2026-01-05 is a Monday; 06:30 EST = 11:30Z.
    expect(deadline('2026-01-05T12:00:00Z')).toEqual(at('2026-01-05T11:30:00Z'));
    const days = ['05', '06', '07', '08', '09', '10', '11'].map((d) => expectedDelivery(deadline(`2026-01-${d}T12:00:00Z`), weekdays));
    expect(days).toEqual([true, true, true, true, true, false, false]);
  });

  it('a monthly product expects a delivery only on its day', () => {
    const monthly = [{ cron: '0 6 2 * *', timezone: 'Europe/Berlin' }];
    const by9 = (iso: string): Date => deadlineAtOrBefore(at(iso), '09:00 Europe/Berlin');
    expect(expectedDelivery(by9('2026-03-02T12:00:00Z'), monthly)).toBe(true);
    expect(expectedDelivery(by9('2026-03-03T12:00:00Z'), monthly)).toBe(false);
    expect(expectedDelivery(by9('2026-03-01T12:00:00Z'), monthly)).toBe(false);
    // Across the March change: 06:00 CEST on 2026-04-02 is 04:00Z, before 09:00 CEST (07:00Z).
    expect(expectedDelivery(by9('2026-04-02T12:00:00Z'), monthly)).toBe(true);
    // A run after the deadline does not count for it.
    expect(expectedDelivery(by9('2026-03-02T12:00:00Z'), [{ cron: '0 10 2 * *', timezone: 'Europe/Berlin' }])).toBe(false);
  });

  it('any of several schedules will do; none expects nothing', () => {
    const both = [...weekdays, { cron: '0 5 * * 0', timezone: 'America/New_York' }];
    expect(expectedDelivery(deadline('2026-01-11T12:00:00Z'), both)).toBe(true);
    expect(expectedDelivery(deadline('2026-01-11T12:00:00Z'), [])).toBe(false);
  });

  it('expectedDeadlines lists the deadlines a monitor judges over a span', () => {
    const list = expectedDeadlines(at('2026-01-02T00:00:00Z'), at('2026-01-12T00:00:00Z'), '06:30 America/New_York', weekdays);
    expect(list.map((d) => d.toISOString().slice(0, 10))).toEqual(['2026-01-02', '2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09']);
  });

  it('productSchedules takes the scheduled targets', () => {
    expect(productSchedules({ serve: [{ schedule: weekdays[0] }, {}] })).toEqual(weekdays);
  });
});

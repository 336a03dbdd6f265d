/**
 * The pace of a sync (src/reverse-etl/pace.ts) in real, short time: requests and rows per second, no burst after an
 * idle spell or a hold, Retry-After holds every waiter, first come first served. Where idle time matters, the pace's
 * clock is injected and moved ahead instead of waiting.
 */
import { describe, expect, it } from 'vitest';
import type { Pace } from '../../src/reverse-etl/destinations/types.js';
import { createPace } from '../../src/reverse-etl/pace.js';

/** Starts one take per entry of `rows`, all at once; resolves with when each got through (ms since the start), in order of entry. */
async function takeAll(pace: Pace, rows: number[]): Promise<number[]> {
  const started = performance.now();
  return Promise.all(rows.map((count) => pace.take(count).then(() => performance.now() - started)));
}

/** The most of `amounts` given at `times` within any window of `windowMs` (a window starts at a take). */
function maxInWindow(times: number[], windowMs: number, amounts: number[] = times.map(() => 1)): number {
  return Math.max(...times.map((start) => times.reduce((sum, at, index) => (at >= start && at < start + windowMs ? sum + amounts[index] : sum), 0)));
}

const gaps = (times: number[]) => times.slice(1).map((at, index) => at - times[index]);

/** A clock that runs with real time and can be moved ahead, to stand for an idle spell without waiting one. */
function skewedClock() {
  let skew = 0;
  return { now: () => Date.now() + skew, skip: (ms: number) => void (skew += ms) };
}

// timers fire late, never early, but the pace reads a millisecond clock: allow for a millisecond of rounding
const ROUNDING = 1.5;

describe('createPace', () => {
  it('holds requests to their rate: 20 a second, ~31 takes in 1.5 s, never more than 20 in any second', async () => {
    const pace = createPace({ requestsPerSecond: 20 });
    const times = await takeAll(pace, Array.from({ length: 34 }, () => 1));
    const inTime = times.filter((at) => at < 1_500).length;
    // one at once, then one every 50.5 ms on a schedule: a request a timer let out late is followed by one a little
    // sooner (the schedule does not slip), never by a burst
    expect(inTime).toBeGreaterThanOrEqual(26);
    expect(inTime).toBeLessThanOrEqual(31);
    expect(Math.min(...gaps(times))).toBeGreaterThanOrEqual(35);
    expect(maxInWindow(times, 1_000 - ROUNDING)).toBeLessThanOrEqual(20);
  });

  it('saves up no burst over an idle spell: after a minute, still one request per 50 ms at 20 a second', async () => {
    const clock = skewedClock();
    const pace = createPace({ requestsPerSecond: 20 }, clock.now);
    await pace.take(1);
    clock.skip(60_000);
    const times = await takeAll(pace, [1, 1, 1, 1, 1]);
    expect(times[0]).toBeLessThan(20);
    expect(Math.min(...gaps(times))).toBeGreaterThanOrEqual(50 - ROUNDING);
  });

  it('holds rows to their rate: 20-row requests at 200 rows a second go 100 ms apart', async () => {
    const pace = createPace({ rowsPerSecond: 200 });
    const rows = Array.from({ length: 8 }, () => 20);
    const times = await takeAll(pace, rows);
    // the first waits for its 20 rows less the one the pace starts with: 95 ms
    expect(times[0]).toBeGreaterThanOrEqual(95 - ROUNDING);
    expect(Math.min(...gaps(times))).toBeGreaterThanOrEqual(100 - ROUNDING);
    expect(times[7]).toBeLessThan(1_200);
    expect(maxInWindow(times, 1_000 - ROUNDING, rows)).toBeLessThanOrEqual(200);
  });

  it('lets a request carrying more than a second’s rows through on a full second’s worth', async () => {
    const clock = skewedClock();
    const pace = createPace({ rowsPerSecond: 100 }, clock.now);
    clock.skip(10_000);
    const times = await takeAll(pace, [500, 10]);
    expect(times[0]).toBeLessThan(20);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(100 - ROUNDING);
  });

  it('goes by the tighter of the two limits', async () => {
    const byRows = await takeAll(createPace({ requestsPerSecond: 1_000, rowsPerSecond: 100 }), [10, 10, 10]);
    expect(Math.min(...gaps(byRows))).toBeGreaterThanOrEqual(100 - ROUNDING);
    const byRequests = await takeAll(createPace({ requestsPerSecond: 10, rowsPerSecond: 10_000 }), [1, 1, 1]);
    expect(Math.min(...gaps(byRequests))).toBeGreaterThanOrEqual(100 - ROUNDING);
    expect(byRequests[2]).toBeLessThan(300);
  });

  it('holdFor makes every waiter wait, a shorter hold does not cut a longer one, and no burst follows', async () => {
    const free = createPace({});
    free.holdFor(250);
    free.holdFor(50);
    const held = await takeAll(free, [1, 1, 1]);
    expect(Math.min(...held)).toBeGreaterThanOrEqual(250 - ROUNDING);

    // waiters already queued behind the rate wait out a hold that comes while they wait; then the rate again
    const paced = createPace({ requestsPerSecond: 20 });
    const started = performance.now();
    const takes = [1, 1, 1, 1].map((rows) => paced.take(rows).then(() => performance.now() - started));
    await takes[0];
    const heldAt = performance.now() - started;
    paced.holdFor(200);
    const times = await Promise.all(takes);
    expect(times[0]).toBeLessThan(20);
    expect(Math.min(...times.slice(1))).toBeGreaterThanOrEqual(heldAt + 200 - ROUNDING);
    expect(Math.min(...gaps(times.slice(1)))).toBeGreaterThanOrEqual(50 - ROUNDING);
  });

  it('serves waiters first come, first served, even when a later one would fit sooner', async () => {
    const pace = createPace({ rowsPerSecond: 100 });
    const order: number[] = [];
    await Promise.all([1, 30, 1, 1].map((rows, index) => pace.take(rows).then(() => order.push(index))));
    expect(order).toEqual([0, 1, 2, 3]);

    const mixed = createPace({ requestsPerSecond: 100, rowsPerSecond: 1_000 });
    const seen: number[] = [];
    await Promise.all([5, 50, 1, 20, 1, 40, 2, 1].map((rows, index) => mixed.take(rows).then(() => seen.push(index))));
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

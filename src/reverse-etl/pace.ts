/**
 * The pace of one sync, shared by every batch in flight: at most `requestsPerSecond` requests and `rowsPerSecond`
 * rows a second (each a token bucket holding one request's worth: nothing saved up for a burst after an idle spell or
 * a Retry-After), and nothing at all while a destination's Retry-After runs. Waiting here is throttling, never a
 * failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pace } from './destinations/types.js';

export interface PaceLimits {
  requestsPerSecond?: number | undefined;
  rowsPerSecond?: number | undefined;
}

class Bucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    // start with one request's worth, so a burst cannot exceed the rate at the start either
    this.tokens = Math.min(1, perSecond);
    this.last = now;
  }

  /** Milliseconds until `amount` tokens are there (0: taken now). */
  take(amount: number, now: number): number {
    // never more than this request's worth saved up: a fuller bucket would let a burst out after an idle spell or a
    // hold (tokens keep coming while a Retry-After runs), up to twice the rate within one second
    this.tokens = Math.min(Math.max(1, amount), this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= amount) {
      this.tokens -= amount;
      return 0;
    }
    return Math.ceil(((amount - this.tokens) / this.perSecond) * 1000);
  }
}

/**
 * Requests are spaced as if each second had this many milliseconds more: request i and request i + N (N a second's
 * worth) leave at least 1 s + this apart, so the few milliseconds each takes to arrive cannot put N + 1 into a
 * destination's sliding second (at 1 % of the rate).
 */
export const ARRIVAL_MARGIN_MS = 10;

/**
 * Requests leave on a schedule, one every `interval` ms: a request that left a little late (a timer fires late, never
 * early) does not push the schedule back, so lateness is not lost on every request; one that comes after an idle spell
 * starts a new schedule, so nothing is saved up for a burst.
 */
class Spacing {
  private next: number;

  constructor(
    private readonly interval: number,
    now: number,
  ) {
    this.next = now;
  }

  /** Milliseconds until a request may leave (0: it leaves now, and the next one is scheduled). */
  take(now: number): number {
    if (this.next > now) return Math.ceil(this.next - now);
    this.next = (now - this.next < this.interval ? this.next : now) + this.interval;
    return 0;
  }
}

export function createPace(limits: PaceLimits, clock: () => number = Date.now): Pace {
  const now = clock();
  const requests = limits.requestsPerSecond ? new Spacing((1000 + ARRIVAL_MARGIN_MS) / limits.requestsPerSecond, now) : undefined;
  const rows = limits.rowsPerSecond ? new Bucket(limits.rowsPerSecond, now) : undefined;
  let heldUntil = 0;
  // one waiter at a time takes tokens, in arrival order
  let queue: Promise<void> = Promise.resolve();

  const takeNow = async (count: number): Promise<void> => {
    for (;;) {
      const at = clock();
      if (heldUntil > at) {
        await sleep(heldUntil - at);
        continue;
      }
      // rows first: a request waiting for its rows must not use up its place in the request schedule
      const rowWait = rows?.take(Math.min(count, limits.rowsPerSecond ?? count), at) ?? 0;
      if (rowWait > 0) {
        await sleep(rowWait);
        continue;
      }
      const wait = requests?.take(at) ?? 0;
      if (wait > 0) {
        // the rows were taken: hand them back, they are taken again when the request may leave
        rows?.take(-Math.min(count, limits.rowsPerSecond ?? count), at);
        await sleep(wait);
        continue;
      }
      return;
    }
  };

  return {
    take(count: number): Promise<void> {
      const turn = queue.then(() => takeNow(count));
      queue = turn.catch(() => undefined);
      return turn;
    },
    holdFor(ms: number): void {
      heldUntil = Math.max(heldUntil, clock() + Math.max(0, ms));
    },
  };
}

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

export function createPace(limits: PaceLimits, clock: () => number = Date.now): Pace {
  const now = clock();
  const requests = limits.requestsPerSecond ? new Bucket((limits.requestsPerSecond * 1000) / (1000 + ARRIVAL_MARGIN_MS), now) : undefined;
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
      const wait = Math.max(requests?.take(1, at) ?? 0, 0);
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      const rowWait = rows?.take(Math.min(count, limits.rowsPerSecond ?? count), at) ?? 0;
      if (rowWait > 0) {
        // give the request token back: the request did not go
        requests?.take(-1, at);
        await sleep(rowWait);
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

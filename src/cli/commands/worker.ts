import { openSession, type Project } from '../../runtime/session.js';
import type { Output } from '../output.js';
import { signalExit, watchSignals } from '../signals.js';

/**
 * `lastmile worker --env E`: polls the environment's task queue with every lastmile workflow and activity until
 * SIGINT / SIGTERM, then stops taking tasks, finishes the ones in hand and exits (130 after Ctrl-C, 0 after SIGTERM).
 * It logs one line per workflow and activity outcome, and exits with the cause when its worker fails or its Temporal
 * goes away.
 */
export async function workerCommand(project: Project, envName: string, out: Output): Promise<number> {
  const signals = watchSignals();
  try {
    const opening = openSession(project, { env: envName, workerLog: true, log: (line) => out.note(line) });
    const opened = await Promise.race([opening.then((session) => ({ session })), signals.signal.then((signal) => ({ signal }))]);
    if ('signal' in opened) {
      await (await opening.catch(() => undefined))?.close();
      return signalExit(opened.signal);
    }
    const { session } = opened;
    try {
      out.note(`worker ready for ${envName} — press Ctrl-C to stop`);
      const stopped = await Promise.race([signals.signal.then((signal) => ({ signal })), session.failed.then((error) => ({ error }))]);
      if ('error' in stopped) throw stopped.error;
      out.note(`${stopped.signal}: stopping the worker after the tasks in hand…`);
      signals.release();
      return signalExit(stopped.signal);
    } finally {
      signals.release();
      await session.close();
    }
  } finally {
    signals.release();
  }
}

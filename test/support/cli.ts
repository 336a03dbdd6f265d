/**
 * End-to-end support for the `lastmile` command: throwaway project folders shaped like a user's repository, the CLI
 * run as a child process (`node bin/lastmile.js ...`), and the project's embedded Postgres and a devserver owned by
 * the test when a suite wants to look at Temporal and the metadata store while (and after) CLI processes run.
 *
 * Every child runs in its own process group, so `killStrays()` (call it in afterEach) also takes down a Postgres or
 * devserver a crashed child left behind. Children never inherit TEMPORAL_* or warehouse URL variables from the
 * shell running the tests, nor a `temporal` executable on PATH: each test says what it wants.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { startDevServer, type DevServer } from '../../devserver/index.js';
import { freePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/warehouse/embedded.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO_ROOT, 'bin', 'lastmile.js');

export { freePort };

// ---------------------------------------------------------------------------------------------------------------
// Project folders

export interface CliProject {
  root: string;
  productsDir: string;
  /** `.lastmile/pg`: the embedded Postgres cluster of the project */
  dataDir: string;
  /** Writes a file relative to the project root and returns its absolute path. */
  write(relative: string, text: string): Promise<string>;
  /** Deletes a file relative to the project root. */
  unlink(relative: string): Promise<void>;
  /** Commits everything (the project must have been created with `git: true`); returns the commit SHA. */
  commit(message?: string): string;
  /** Stops a Postgres still running in the project (a safety net) and deletes the folder. */
  remove(): Promise<void>;
}

export interface CliProjectOptions {
  /** `repo`: copy the repository's products/ (default); `none`: an empty products/ */
  products?: 'repo' | 'none';
  /** text of lastmile.config.ts (default: the repository's); `seed: './seed/retailer/index.ts'` in it seeds the example data */
  config?: string;
  /** make the project a git repository with one commit (for the git SHA recorded per run) */
  git?: boolean;
}

const GIT = ['-c', 'user.name=lastmile tests', '-c', 'user.email=tests@example.com', '-c', 'commit.gpgsign=false'];

/**
 * A mkdtemp folder (mode 0700, as for a user's own temp project) with package.json, node_modules/lastmile → this
 * repository (resolved through package.json `exports`, as when installed), lastmile.config.ts, products/ and seed/
 * (the example data the repository's config names; a config given as text uses it by naming it too).
 */
export async function createCliProject(options: CliProjectOptions = {}): Promise<CliProject> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'lastmile-cli-'));
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'shop-data', private: true, type: 'module' }, null, 2));
  await mkdir(path.join(root, 'node_modules'), { recursive: true });
  await symlink(REPO_ROOT, path.join(root, 'node_modules', 'lastmile'), 'dir');
  await writeFile(path.join(root, '.gitignore'), 'node_modules/\n.lastmile/\n');
  if (options.config !== undefined) await writeFile(path.join(root, 'lastmile.config.ts'), options.config);
  else await copyFile(path.join(REPO_ROOT, 'lastmile.config.ts'), path.join(root, 'lastmile.config.ts'));
  await cp(path.join(REPO_ROOT, 'seed'), path.join(root, 'seed'), { recursive: true });
  const productsDir = path.join(root, 'products');
  await mkdir(productsDir, { recursive: true });
  if ((options.products ?? 'repo') === 'repo') {
    for (const file of await readdir(path.join(REPO_ROOT, 'products'))) {
      if (file.endsWith('.ts')) await copyFile(path.join(REPO_ROOT, 'products', file), path.join(productsDir, file));
    }
  }
  const git = (...args: string[]): string => execFileSync('git', [...GIT, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
  const dataDir = path.join(root, '.lastmile', 'pg');
  const project: CliProject = {
    root,
    productsDir,
    dataDir,
    async write(relative, text) {
      const file = path.join(root, relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text);
      return file;
    },
    async unlink(relative) {
      await rm(path.join(root, relative), { force: true });
    },
    commit(message = 'products') {
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    async remove() {
      await stopStrayPostgres(dataDir);
      await rm(root, { recursive: true, force: true });
    },
  };
  if (options.git) {
    git('init', '-q', '-b', 'main');
    project.commit('initial');
  }
  return project;
}

/** A Postgres left running in `dataDir` (a child killed with SIGKILL): fast shutdown by its pid, then wait. */
export async function stopStrayPostgres(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A product module as a user writes it; the parts a test varies are options. */
export function productModule(o: {
  name: string;
  version?: string;
  team?: string;
  /** the sql`...` body, with ${table('schema.name')} placeholders written literally */
  source?: string;
  columns?: { name: string; type: string }[];
  /** target constructors, e.g. `files({ name: 'daily_csv', format: 'csv', to: './out' })` */
  serve?: string[];
  /** contract key columns */
  key?: string[];
  /** more fields of the declaration as written, e.g. `checks: [check.notNull('sku')],` */
  extra?: string;
}): string {
  const columns = o.columns ?? [
    { name: 'supplier_id', type: 'text' },
    { name: 'week', type: 'date' },
    { name: 'units', type: 'bigint' },
  ];
  const source = o.source ?? "select supplier_id, week, units from ${table('marts.returns_weekly')}";
  const serve = o.serve ?? [`files({ name: 'weekly_csv', format: 'csv', to: './exchange/${o.name}' })`];
  return `import { check, defineProduct, files, share, dashboard, reverseEtl, secret, sql, table } from 'lastmile';

export default defineProduct({
  name: '${o.name}',
  version: '${o.version ?? '1.0.0'}',
  owner: { team: '${o.team ?? 'test-team'}', email: 'test-team@example.com' },
  domain: 'testing',
  description: 'A product written by the end-to-end tests.',
  audience: 'internal',
  users: [{ who: 'the test suite', action: 'asserts on what lastmile did' }],
  source: sql\`${source}\`,
  contract: {${o.key ? `\n    key: ${JSON.stringify(o.key)},` : ''}
    columns: [
${columns.map((c) => `      { name: '${c.name}', type: '${c.type}' },`).join('\n')}
    ],
  },${o.extra ? `\n  ${o.extra}` : ''}
  serve: [
${serve.map((s) => `    ${s},`).join('\n')}
  ],
});
`;
}

// ---------------------------------------------------------------------------------------------------------------
// The CLI as a child process

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  /** working directory (default: the temp folder, so a call without --root cannot touch the repository's .lastmile/) */
  cwd?: string;
  /** variables added to (or, when undefined, removed from) the cleaned environment */
  env?: Record<string, string | undefined>;
  /** the `lastmile.js` to run (default: this repository's bin) */
  bin?: string;
  timeoutMs?: number;
}

export interface CliProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout + stderr; rejects when the process exits or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<CliResult>;
  /** Sends `signal` to the CLI process itself (not its group) and waits for the exit. */
  stop(signal: NodeJS.Signals, timeoutMs?: number): Promise<CliResult>;
}

const live = new Set<ChildProcess>();

/** Variables from the shell running the tests that would change which warehouse or Temporal the CLI uses. */
const INHERITED_OUT = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'LASTMILE_PROD_WAREHOUSE_URL',
  'NODE_OPTIONS',
];

/** PATH without folders holding a `temporal` executable (the resolution would pick it up). */
function pathWithoutTemporal(value: string | undefined): string {
  return (value ?? '')
    .split(path.delimiter)
    .filter((dir) => {
      try {
        accessSync(path.join(dir, 'temporal'), constants.X_OK);
        return false;
      } catch {
        return true;
      }
    })
    .join(path.delimiter);
}

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: pathWithoutTemporal(process.env.PATH) };
  for (const name of INHERITED_OUT) delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Starts `node bin/lastmile.js ...args`. */
export function spawnCli(args: string[], options: CliOptions = {}): CliProcess {
  const started = Date.now();
  const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
    cwd: options.cwd ?? os.tmpdir(),
    env: cliEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
      for (const l of listeners) l();
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  const describe = (): string => `lastmile ${args.join(' ')}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;
  const handle: CliProcess = {
    child,
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = (stdout + stderr).match(pattern);
          if (match) finish(() => resolve(match));
          else if (done) finish(() => reject(new Error(`exited (code ${child.exitCode}) before printing ${pattern}:\n${describe()}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${describe()}`))), timeoutMs);
        const finish = (then: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          then();
        };
        listeners.add(check);
        check();
      });
    },
    exited,
    async stop(signal, timeoutMs = 15_000) {
      if (!done) child.kill(signal);
      return await withTimeout(exited, timeoutMs, () => `lastmile ${args.join(' ')} did not exit within ${timeoutMs} ms of ${signal}:\n${describe()}`);
    },
  };
  return handle;
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const cli = spawnCli(args, options);
  const timeoutMs = options.timeoutMs ?? 90_000;
  return await withTimeout(cli.exited, timeoutMs, () => `lastmile ${args.join(' ')} did not finish within ${timeoutMs} ms:\n--- stdout\n${cli.stdout()}\n--- stderr\n${cli.stderr()}`);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message())), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs the process group of every CLI child still running but `keep` (call in afterEach / afterAll). */
export async function killStrays(keep: readonly (CliProcess | undefined)[] = []): Promise<number> {
  const kept = new Set(keep.map((k) => k?.child));
  const strays = [...live].filter((child) => child.exitCode === null && child.signalCode === null && !kept.has(child));
  for (const child of strays) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (strays.length > 0) await sleep(200);
  return strays.length;
}

/** JSON printed on stdout by a `--json` command, with the output in the error when it is not JSON. */
export function json<T = unknown>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
}

/** Lines of `text` that are stack frames (`    at fn (file:1:2)`). */
export function stackLines(text: string): string[] {
  return text.split('\n').filter((line) => /^\s+at\s+\S/.test(line));
}

/** The attempt numbers of every `activityType` activity in a workflow's history (a retried activity shows > 1). */
export async function activityAttempts(client: Client, workflowId: string, activityType: string): Promise<number[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set(
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType).map((e) => String(e.eventId)),
  );
  return events
    .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Services owned by the test

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function portAnswers(port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * The project's embedded Postgres started by the test (CLI children find it running and reuse it, leaving it up),
 * optionally with a devserver in the test process on a free port whose state lives in the same cluster.
 */
export interface ProjectServices {
  pg: EmbeddedPostgresHandle;
  /** a pool on the dev warehouse (`warehouse_dev`) */
  warehouse: pg.Pool;
  devserver?: DevServer;
  /** host:port of the devserver */
  address?: string;
  connection?: Connection;
  client?: Client;
  stop(): Promise<void>;
}

export async function startProjectServices(project: CliProject, options: { devserver?: boolean } = {}): Promise<ProjectServices> {
  const server = await startEmbeddedPostgres({ dataDir: project.dataDir });
  await server.ensureDatabase('warehouse_dev');
  const warehouse = new pg.Pool({ connectionString: server.urlFor('warehouse_dev'), max: 3 });
  warehouse.on('error', () => undefined);
  let devserver: DevServer | undefined;
  let connection: Connection | undefined;
  let client: Client | undefined;
  if (options.devserver) {
    await server.ensureDatabase('temporal');
    devserver = await startDevServer({ port: 0, databaseUrl: server.urlFor('temporal') });
    connection = await Connection.connect({ address: devserver.address });
    client = new Client({ connection });
  }
  return {
    pg: server,
    warehouse,
    devserver,
    address: devserver?.address,
    connection,
    client,
    async stop() {
      await connection?.close().catch(() => undefined);
      await devserver?.stop().catch(() => undefined);
      await warehouse.end().catch(() => undefined);
      await server.stop().catch(() => undefined);
    },
  };
}

/**
 * A stand-in for the external `temporal` CLI in `dir`: `temporal server start-dev --port N ...` becomes
 * `lastmile devserver --port N --database <url>` (exec'd, so signals reach it). Every call is logged to `calls.log`.
 */
export async function writeFakeTemporal(dir: string, databaseUrl: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const script = path.join(dir, 'temporal');
  await writeFile(
    script,
    `#!/bin/sh
# Stand-in for the Temporal CLI: only "server start-dev" is understood.
echo "$@" >> "${path.join(dir, 'calls.log')}"
[ "$1" = server ] && [ "$2" = start-dev ] || { echo "unsupported: $*" >&2; exit 2; }
shift 2
port=7233
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --namespace|--log-level|--db-filename|--ui-port|--ip) shift 2 ;;
    *) shift ;;
  esac
done
exec "${process.execPath}" "${BIN}" devserver --port "$port" --database "${databaseUrl}"
`,
  );
  await chmod(script, 0o755);
  return script;
}

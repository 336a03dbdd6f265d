/**
 * End-to-end harness of the devserver: per test file, an ephemeral embedded Postgres and a devserver on it, the
 * real SDK client and workers, one workflow bundle shared by every worker of the suite (cached on disk across test
 * files), and replay of every history the file produced.
 *
 *   const h = useDevServer();            // in a describe / at the top of a file: starts in beforeAll, stops in afterAll
 *   await h.withWorker({}, async (tq) => h.client.workflow.execute(...));
 *   it('replays every history', () => h.expectHistoriesReplay());
 */
import { createHash, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import protoPkg, { type temporal } from '@temporalio/proto';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type InjectedSinks,
  type WorkerOptions,
} from '@temporalio/worker';
import { afterAll, beforeAll, expect } from 'vitest';
import { startDevServer, type DevServer, type DevServerOptions } from '../../devserver/index.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/warehouse/embedded.js';
import * as activities from '../devserver/fixtures/activities.js';
import type { LmSinks } from '../devserver/fixtures/workflows.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const workflowsPath = fileURLToPath(new URL('../devserver/fixtures/workflows.ts', import.meta.url));
const workerProcessScript = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

export type History = temporal.api.history.v1.IHistory;

let runtimeInstalled = false;

/** Keeps the SDK's own logging to warnings and errors. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed by someone else in this process
  }
}

/**
 * The workflow bundle of the fixtures, built once and cached in the temp directory under a hash of the workflow
 * source and the SDK version, so that every test file (each in its own process) reuses it.
 */
export async function fixtureBundle(): Promise<{ code: string; codePath: string }> {
  const sdk = JSON.parse(readFileSync(path.join(repoRoot, 'node_modules/@temporalio/worker/package.json'), 'utf8')) as { version: string };
  const hash = createHash('sha256').update(readFileSync(workflowsPath)).update(sdk.version).digest('hex').slice(0, 16);
  const codePath = path.join(tmpdir(), `lastmile-e2e-workflows-${hash}.js`);
  if (existsSync(codePath)) return { code: readFileSync(codePath, 'utf8'), codePath };
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  const partial = `${codePath}.${process.pid}.tmp`;
  writeFileSync(partial, code);
  renameSync(partial, codePath);
  return { code, codePath };
}

/** Holds on workflow tasks (the `lm.hold` sink): a test arms one for a workflow, and releases it when it wants. */
class Holds {
  private readonly armed = new Map<string, { reached: () => void; released: Promise<void> }>();
  private readonly used = new Set<string>();

  arm(workflowId: string, key = 'first-task'): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    const released = new Promise<void>((r) => (release = r));
    this.armed.set(`${workflowId}\u0000${key}`, { reached, released });
    return { reached: reachedP, release };
  }

  /** Blocks the first time an armed (workflow, key) is reached; every later call passes. */
  async hold(workflowId: string, key: string): Promise<void> {
    const id = `${workflowId}\u0000${key}`;
    const entry = this.armed.get(id);
    if (!entry || this.used.has(id)) return;
    this.used.add(id);
    entry.reached();
    await entry.released;
  }
}

export interface HarnessOptions {
  limits?: DevServerOptions['limits'];
}

export interface WorkerChild {
  process: ChildProcess;
  /** resolves with the first stdout line matching `pattern` */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

export class DevServerHarness {
  pg!: EmbeddedPostgresHandle;
  databaseUrl!: string;
  server!: DevServer;
  address!: string;
  connection!: Connection;
  client!: Client;
  native!: NativeConnection;
  bundle!: { code: string; codePath: string };
  readonly holds = new Holds();
  /** what the devserver logged (it logs internal errors and failed after-commit steps) */
  readonly serverLog: string[] = [];
  /** namespaces whose histories are replayed at the end */
  readonly namespaces = new Set<string>(['default']);
  private readonly children = new Set<ChildProcess>();
  private readonly workers = new Set<Worker>();
  private readonly tmp = mkdtempSync(path.join(tmpdir(), 'lastmile-e2e-'));
  private readonly clients = new Map<string, Client>();

  constructor(private readonly options: HarnessOptions = {}) {}

  async start(): Promise<void> {
    installQuietRuntime();
    const [pg, bundle] = await Promise.all([
      startEmbeddedPostgres({ dataDir: path.join(this.tmp, 'pg'), ephemeral: true }),
      fixtureBundle(),
    ]);
    this.pg = pg;
    this.bundle = bundle;
    await pg.ensureDatabase('devserver');
    this.databaseUrl = pg.urlFor('devserver');
    this.server = await startDevServer({
      port: 0,
      databaseUrl: this.databaseUrl,
      limits: this.options.limits,
      log: (line) => this.serverLog.push(line),
    });
    this.address = this.server.address;
    this.connection = await Connection.connect({ address: this.address });
    this.client = new Client({ connection: this.connection });
    this.native = await NativeConnection.connect({ address: this.address });
  }

  async stop(): Promise<void> {
    for (const worker of this.workers) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    }
    for (const child of this.children) child.kill('SIGKILL');
    await this.native?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    await this.server?.stop().catch(() => undefined);
    await this.pg?.stop().catch(() => undefined);
    rmSync(this.tmp, { recursive: true, force: true });
  }

  /** A client of another namespace (on the same connection). */
  clientFor(namespace: string): Client {
    let client = this.clients.get(namespace);
    if (!client) {
      client = new Client({ connection: this.connection, namespace });
      this.clients.set(namespace, client);
    }
    this.namespaces.add(namespace);
    return client;
  }

  get workflowService(): Connection['workflowService'] {
    return this.connection.workflowService;
  }

  /** A fresh task queue name. */
  taskQueue(prefix = 'tq'): string {
    return `${prefix}-${randomUUID().slice(0, 8)}`;
  }

  sinks(): InjectedSinks<LmSinks> {
    return {
      lm: {
        hold: { fn: (info, key) => this.holds.hold(info.workflowId, key), callDuringReplay: false },
      },
    };
  }

  /** A worker of the fixtures on `options.taskQueue` (a fresh one when absent). */
  async worker(options: Partial<WorkerOptions> = {}): Promise<Worker> {
    const worker = await Worker.create({
      connection: this.native,
      namespace: options.namespace ?? 'default',
      taskQueue: options.taskQueue ?? this.taskQueue(),
      workflowBundle: { code: this.bundle.code },
      activities,
      sinks: this.sinks(),
      shutdownGraceTime: '1s',
      ...options,
    });
    this.workers.add(worker);
    return worker;
  }

  /** Runs a worker on a fresh (or given) task queue while `fn` runs. */
  async withWorker<T>(options: Partial<WorkerOptions>, fn: (taskQueue: string, worker: Worker) => Promise<T>): Promise<T> {
    const taskQueue = options.taskQueue ?? this.taskQueue();
    const worker = await this.worker({ ...options, taskQueue });
    try {
      return await worker.runUntil(() => fn(taskQueue, worker));
    } finally {
      this.workers.delete(worker);
    }
  }

  /** Starts a worker running in the background; `stop()` shuts it down and waits for it. */
  async runningWorker(options: Partial<WorkerOptions> = {}): Promise<{ worker: Worker; taskQueue: string; stop(): Promise<void> }> {
    const taskQueue = options.taskQueue ?? this.taskQueue();
    const worker = await this.worker({ ...options, taskQueue });
    const running = worker.run();
    return {
      worker,
      taskQueue,
      stop: async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        this.workers.delete(worker);
      },
    };
  }

  /**
   * A worker in a child process (`test/support/worker-process.ts`): its `lm.hold` sink and its `step` activity hang
   * forever (after printing `HOLD <workflowId>` / `STEP <label> <attempt>`), so the test can kill it mid-task.
   */
  async workerProcess(taskQueue: string, address = this.address, namespace = 'default'): Promise<WorkerChild> {
    const child = spawn(process.execPath, ['--import', 'tsx', workerProcessScript, address, namespace, taskQueue, this.bundle.codePath], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    const proc = watchProcess(child);
    await proc.waitFor(/^READY/, 60_000);
    return {
      process: child,
      waitFor: proc.waitFor,
      kill: async () => {
        await killHard(child);
        this.children.delete(child);
      },
    };
  }

  /** Every run of every namespace used, listed through visibility (of this file's devserver, or of `client`'s). */
  async allRuns(client?: Client): Promise<{ client: Client; namespace: string; workflowId: string; runId: string }[]> {
    const out: { client: Client; namespace: string; workflowId: string; runId: string }[] = [];
    const clients = client ? [client] : [...this.namespaces].map((ns) => (ns === 'default' ? this.client : this.clientFor(ns)));
    for (const c of clients) {
      for await (const info of c.workflow.list()) out.push({ client: c, namespace: c.options.namespace, workflowId: info.workflowId, runId: info.runId });
    }
    return out;
  }

  /** The devserver never answered INTERNAL nor failed a step of its own while this file ran. */
  expectNoInternalErrors(): void {
    expect(this.serverLog.filter((line) => /failed|fatal/i.test(line))).toEqual([]);
  }

  /**
   * Replays every history of this file's devserver (or every history `client` lists, for another devserver) with
   * `Worker.runReplayHistories`; fails the test on any error. Returns how many were replayed.
   */
  async expectHistoriesReplay(client?: Client): Promise<number> {
    const runs = await this.allRuns(client);
    const histories: { workflowId: string; history: History }[] = [];
    for (const run of runs) {
      histories.push({ workflowId: run.workflowId, history: await run.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory() });
    }
    const failures: string[] = [];
    let replayed = 0;
    const options = { workflowBundle: { code: this.bundle.code }, sinks: this.sinks(), replayName: 'e2e-replay' };
    for await (const result of Worker.runReplayHistories(options, histories)) {
      // Results come in the order of the histories.
      const run = runs[replayed];
      replayed += 1;
      if (result.error) {
        const message = result.error instanceof Error ? result.error.message : String(result.error);
        failures.push(`${run.namespace}/${run.workflowId}/${run.runId}: ${message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(histories.length);
    expect(replayed).toBeGreaterThan(0);
    return replayed;
  }
}

/** Creates the harness of this test file: started in beforeAll, stopped in afterAll. */
export function useDevServer(options: HarnessOptions = {}): DevServerHarness {
  const harness = new DevServerHarness(options);
  beforeAll(async () => {
    await harness.start();
  }, 180_000);
  afterAll(async () => {
    await harness.stop();
  }, 60_000);
  return harness;
}

// ------------------------------------------------------------------------------------------------ helpers

/** Polls `probe` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Names of the event types of a history, in order (e.g. `WORKFLOW_TASK_FAILED`). */
export function eventTypes(history: History): string[] {
  return (history.events ?? []).map((e) => eventTypeName(Number(e.eventType)));
}

const EVENT_TYPES: Record<number, string> = Object.fromEntries(
  Object.entries(protoPkg.temporal.api.enums.v1.EventType)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k.replace(/^EVENT_TYPE_/, '')]),
);

export function eventTypeName(type: number): string {
  return EVENT_TYPES[type] ?? String(type);
}

/** Follows a process's stdout line by line. */
export function watchProcess(child: ChildProcess): { waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>; output(): string } {
  let out = '';
  let err = '';
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffer = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    out += chunk;
    buffer += chunk;
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.on('data', (chunk: string) => {
    err += chunk;
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  return {
    output: () => `${out}\n--- stderr ---\n${err}`,
    waitFor: (pattern, timeoutMs = 30_000) => {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`timed out waiting for ${pattern} from process ${child.pid}; output so far:\n${out}\n--- stderr ---\n${err.slice(-4000)}`));
        }, timeoutMs);
        const onExit = (code: number | null, signal: string | null): void => {
          clearTimeout(timer);
          reject(new Error(`process ${child.pid} exited (${code ?? signal}) before printing ${pattern}; output:\n${out}\n--- stderr ---\n${err.slice(-4000)}`));
        };
        child.once('exit', onExit);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            child.off('exit', onExit);
            resolve(line);
          },
        });
      });
    },
  };
}

/** SIGKILL, then wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

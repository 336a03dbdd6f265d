/**
 * Devserver throughput and latency: a workflow with one activity (bench/fixtures), run to completion with
 * `client.workflow.execute` by 1, 10 and 100 concurrent callers against ONE worker. Per level: workflows/s over a
 * fixed total, and p50 / p99 latency from the start call to the result.
 *
 * Targets (issue, 2-core machine): ≥ 150 workflows/s at concurrency 100, p99 ≤ 200 ms at concurrency 10. They are
 * reported as `baseline`, with ratio = measured/target for throughput and target/measured for latency (≥ 1 = met).
 *
 * Where the devserver runs (`--server=inprocess|thread|child`, default inprocess) — decided: in-process.
 *   lastmile itself runs the embedded devserver in the same Node process as its worker and client
 *   (src/runtime/session.ts → resolveTemporal → startDevServer), so that is what the targets are judged on. Postgres is
 *   a process of its own either way, and the worker's Rust core and workflow thread have threads of their own; but the
 *   devserver's JavaScript (grpc-js, protobuf, the engine, pg) shares the main event loop with the worker's activity
 *   side and the client. That shared loop is what saturates first (see the "main event loop" line of each level).
 *   `--server=child` (bench/lib/devserver-child.ts) and `--server=thread` (bench/lib/devserver-thread.ts) move the
 *   devserver to a process / worker thread of its own: use them to tell the devserver's cost from the SDK's, and as
 *   the measurement behind the proposal to run the embedded devserver off the main thread.
 *
 * Besides the results, each level logs (stderr) where the CPU went per workflow (this process, its main thread, the
 * devserver child, Postgres), how much of the machine other processes took meanwhile (flagged NOISY above 10%:
 * wall-clock figures then understate the devserver), and the devserver's database batches (bench/lib/db-trace.ts).
 * The main-thread CPU per workflow is the figure to compare changes by on a shared machine: it hardly moves with noise.
 *
 * Profiling: `node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/run.ts devserver --levels=100 --total=2000`
 * (in-process; one profile per thread, the biggest two are the main thread and the workflow thread), or
 * `--server=child --cpu-prof=/tmp/prof` for the devserver alone; then
 * `npx tsx bench/lib/profile-summary.ts /tmp/prof/<file>.cpuprofile --skip-s=8 [--within=/devserver/]`.
 *
 * Flags:
 *   --quick               smaller totals (50 / 200 / 300) and warm-up
 *   --levels=1,10,100     concurrency levels
 *   --total=N             workflows per level (default 200 for c=1, 1000 otherwise)
 *   --warmup=N            warm-up workflows, run at concurrency 20 before measuring (default 300)
 *   --server=inprocess|thread|child
 *   --wf-slots=N          maxConcurrentWorkflowTaskExecutions   } worker tuning; without them the SDK defaults,
 *   --act-slots=N         maxConcurrentActivityTaskExecutions   } which is what lastmile's worker runs with
 *   --wf-polls=N          maxConcurrentWorkflowTaskPolls        } (src/temporal/worker.ts). Trying 100 slots / 20
 *   --act-polls=N         maxConcurrentActivityTaskPolls        } polls moved nothing beyond the noise.
 *   --no-gzip             worker connection without gRPC request compression (grpcCompression: { codec: 'none' })
 *   --cpu-prof=DIR        with --server=child: write a V8 CPU profile of the devserver process to DIR
 *   --data-dir=DIR        parent folder of the throwaway Postgres cluster (default the OS temp folder)
 *   --verbose             the devserver's and the worker's log lines
 */
import { fork, type ChildProcess } from 'node:child_process';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Worker as WorkerThread } from 'node:worker_threads';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startDevServer } from '../devserver/index.js';
import { startEmbeddedPostgres } from '../src/warehouse/embedded.js';
import * as activities from './fixtures/activities.js';
import { dbTraceDelta, dbTraceSnapshot, installDbTrace, type DbTrace } from './lib/db-trace.js';
import { machineBusyMs, mainThreadCpuMs, treeCpuMs } from './lib/proc-cpu.js';
import { mean, percentile } from './lib/stats.js';
import { numberFlag, stringFlag, type BenchOptions, type BenchResult } from './lib/types.js';

export const description = 'workflows/s and start-to-result latency of a one-activity workflow at 1, 10, 100 concurrent starts on one worker';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKFLOWS = path.join(HERE, 'fixtures', 'workflows.ts');

/** Targets of the issue on a 2-core machine. */
const TARGET_THROUGHPUT_C100 = 150; // workflows/s
const TARGET_P99_C10 = 200; // ms

interface ServerStats {
  /** CPU of the process running the devserver (in-process: the whole bench process) */
  cpuMs: number;
  elu: EventLoopUtilization;
  db: DbTrace;
}

interface ServerHandle {
  address: string;
  /** pid of the devserver process, when it is not this one */
  pid?: number;
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

async function inProcessServer(databaseUrl: string, log: (line: string) => void, verbose: boolean): Promise<ServerHandle> {
  installDbTrace();
  const server = await startDevServer({ port: 0, databaseUrl, log: verbose ? (l) => log(`[devserver] ${l}`) : () => undefined });
  return {
    address: server.address,
    stats: async () => {
      const cpu = process.cpuUsage();
      return { cpuMs: (cpu.user + cpu.system) / 1000, elu: performance.eventLoopUtilization(), db: dbTraceSnapshot() };
    },
    stop: () => server.stop(),
  };
}

async function childServer(
  databaseUrl: string,
  log: (line: string) => void,
  verbose: boolean,
  cpuProfDir: string | undefined,
): Promise<ServerHandle> {
  const execArgv = [...process.execArgv.filter((a) => !a.startsWith('--cpu-prof'))];
  if (cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfDir)}`);
  const child: ChildProcess = fork(path.join(HERE, 'lib', 'devserver-child.ts'), [], {
    execArgv,
    env: { ...process.env, BENCH_DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'inherit', verbose ? 'inherit' : 'ignore', 'ipc'],
  });
  const waitFor = <T>(type: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type?: string }): void => {
        if (m.type !== type) return;
        cleanup();
        resolve(m as T);
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`the devserver child process exited (code ${code})`));
      };
      const cleanup = (): void => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  const ready = await waitFor<{ address: string }>('ready');
  return {
    address: ready.address,
    pid: child.pid,
    stats: async () => {
      const answer = waitFor<ServerStats>('stats');
      child.send({ type: 'stats' });
      return await answer;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      log('devserver child process stopped');
    },
  };
}

async function threadServer(databaseUrl: string, verbose: boolean): Promise<ServerHandle> {
  // Worker threads do not inherit tsx's loader: the thread registers it, then imports the TypeScript entry.
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const entry = pathToFileURL(path.join(HERE, 'lib', 'devserver-thread.ts')).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  const thread = new WorkerThread(boot, { eval: true, workerData: { databaseUrl, verbose } });
  const waitFor = <T>(type: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type?: string }): void => {
        if (m.type !== type) return;
        cleanup();
        resolve(m as T);
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`the devserver thread exited (code ${code})`));
      };
      const cleanup = (): void => {
        thread.off('message', onMessage);
        thread.off('error', onError);
        thread.off('exit', onExit);
      };
      thread.on('message', onMessage);
      thread.on('error', onError);
      thread.on('exit', onExit);
    });
  const ready = await waitFor<{ address: string }>('ready');
  let stopped = false;
  return {
    address: ready.address,
    stats: async () => {
      const answer = waitFor<ServerStats>('stats');
      thread.postMessage({ type: 'stats' });
      return await answer;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const done = waitFor<unknown>('stopped').catch(() => undefined);
      thread.postMessage({ type: 'stop' });
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
      await thread.terminate();
    },
  };
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

interface LevelResult {
  concurrency: number;
  total: number;
  elapsedMs: number;
  throughput: number;
  latencies: number[];
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const { log, quick } = options;
  const verbose = options.flags.verbose === true;
  const levels = stringFlag(options, 'levels', '1,10,100')
    .split(',')
    .map((s) => Number(s.trim()));
  if (levels.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('--levels takes positive integers, e.g. --levels=1,10,100');
  const totalFlag = options.flags.total !== undefined ? numberFlag(options, 'total', 0) : undefined;
  const totalFor = (c: number): number => totalFlag ?? (quick ? (c === 1 ? 50 : c <= 10 ? 200 : 300) : c === 1 ? 200 : 1000);
  const warmup = numberFlag(options, 'warmup', quick ? 100 : 300);
  const mode = stringFlag(options, 'server', 'inprocess');
  if (mode !== 'inprocess' && mode !== 'child' && mode !== 'thread') throw new Error('--server is inprocess, thread or child');
  const cpuProf = typeof options.flags['cpu-prof'] === 'string' ? options.flags['cpu-prof'] : undefined;
  if (cpuProf && mode !== 'child') {
    throw new Error('--cpu-prof=DIR profiles the child devserver; in-process, run node --cpu-prof --import tsx bench/run.ts devserver instead');
  }
  // Worker tuning: the SDK's defaults unless asked (lastmile's own worker, src/temporal/worker.ts, uses the defaults).
  const optional = (name: string): number | undefined => (options.flags[name] !== undefined ? numberFlag(options, name, 0) : undefined);
  const tuning = {
    maxConcurrentWorkflowTaskExecutions: optional('wf-slots'),
    maxConcurrentActivityTaskExecutions: optional('act-slots'),
    maxConcurrentWorkflowTaskPolls: optional('wf-polls'),
    maxConcurrentActivityTaskPolls: optional('act-polls'),
  };
  const tuned = Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined));

  try {
    Runtime.install({ logger: new DefaultLogger(verbose ? 'INFO' : 'WARN') });
  } catch {
    // installed by an earlier run in this process (--repeat): keep it
  }

  const parent = mkdtempSync(path.join(stringFlag(options, 'data-dir', os.tmpdir()), 'lastmile-bench-'));
  log(`postgres: starting an embedded cluster in ${parent}`);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(parent, 'pg'), ephemeral: true });
  const cleanups: (() => Promise<unknown>)[] = [
    async () => {
      await pg.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  ];
  try {
    await pg.ensureDatabase('bench');
    const pgPid = postmasterPid(pg.dataDir);
    const server =
      mode === 'child'
        ? await childServer(pg.urlFor('bench'), log, verbose, cpuProf)
        : mode === 'thread'
          ? await threadServer(pg.urlFor('bench'), verbose)
          : await inProcessServer(pg.urlFor('bench'), log, verbose);
    cleanups.unshift(() => server.stop());
    log(`devserver: ${mode === 'child' ? `child process ${server.pid}` : mode === 'thread' ? 'on a worker thread of this process' : 'in this process'}, ${server.address}`);

    const connection = await Connection.connect({ address: server.address });
    cleanups.unshift(() => connection.close());
    const client = new Client({ connection });
    // The worker's connection gzips every request by default (Temporal core); --no-gzip turns that off, as lastmile
    // could for the embedded devserver (see the report on grpc-js's per-message gunzip cost).
    const noGzip = options.flags['no-gzip'] === true;
    const nativeConnection = await NativeConnection.connect({
      address: server.address,
      ...(noGzip ? { grpcCompression: { codec: 'none' as const } } : {}),
    });
    cleanups.unshift(() => nativeConnection.close());
    const taskQueue = `bench-${process.pid}-${Date.now()}`;
    const bundleStart = Date.now();
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS,
      activities,
      ...tuned,
    });
    log(
      `worker: ready in ${Date.now() - bundleStart} ms, ${noGzip ? 'uncompressed requests' : 'gzip requests (SDK default)'} (${
        Object.keys(tuned).length > 0 ? Object.entries(tuned).map(([k, v]) => `${k} ${v}`).join(', ') : 'SDK default options'
      })`,
    );
    let shuttingDown = false;
    const running = worker.run();
    const workerFailed = running.then(
      () => {
        if (!shuttingDown) throw new Error('the worker stopped during the benchmark');
        return new Promise<never>(() => undefined);
      },
      (error: unknown) => {
        throw error instanceof Error ? error : new Error(String(error));
      },
    );
    workerFailed.catch(() => undefined);
    cleanups.unshift(async () => {
      shuttingDown = true;
      worker.shutdown();
      await running.catch(() => undefined);
    });

    let seq = 0;
    const one = async (): Promise<number> => {
      const id = `bench-wf-${++seq}`;
      const t0 = performance.now();
      const result = await client.workflow.execute('oneActivity', {
        taskQueue,
        workflowId: id,
        args: [id],
        workflowExecutionTimeout: '2m',
      });
      const ms = performance.now() - t0;
      if (result !== id) throw new Error(`workflow ${id} returned ${JSON.stringify(result)}`);
      return ms;
    };

    const level = async (concurrency: number, total: number): Promise<LevelResult> => {
      let next = 0;
      const latencies: number[] = [];
      const t0 = performance.now();
      const callers = Array.from({ length: Math.min(concurrency, total) }, async () => {
        while (next < total) {
          next += 1;
          latencies.push(await one());
        }
      });
      await Promise.race([Promise.all(callers), workerFailed]);
      const elapsedMs = performance.now() - t0;
      return { concurrency, total, elapsedMs, throughput: (total * 1000) / elapsedMs, latencies: latencies.sort((a, b) => a - b) };
    };

    if (warmup > 0) {
      const w = await level(Math.min(20, warmup), warmup);
      log(`warm-up: ${warmup} workflows at concurrency ${Math.min(20, warmup)}, ${w.throughput.toFixed(1)} workflows/s`);
    }

    const results: BenchResult[] = [];
    for (const c of levels) {
      const total = totalFor(c);
      await new Promise((r) => setTimeout(r, 250));
      const serverBefore = await server.stats();
      const selfBefore = process.cpuUsage();
      const pgBefore = pgPid ? treeCpuMs(pgPid) : undefined;
      const machineBefore = machineBusyMs();
      const mainBefore = mainThreadCpuMs();
      const r = await level(c, total);
      const mainAfter = mainThreadCpuMs();
      const machineAfter = machineBusyMs();
      const serverAfter = await server.stats();
      const selfAfter = process.cpuUsage(selfBefore);
      const pgAfter = pgPid ? treeCpuMs(pgPid) : undefined;

      const p50 = percentile(r.latencies, 50);
      const p90 = percentile(r.latencies, 90);
      const p99 = percentile(r.latencies, 99);
      log(
        `c=${c}: ${total} workflows in ${(r.elapsedMs / 1000).toFixed(2)} s = ${r.throughput.toFixed(1)} workflows/s; ` +
          `latency mean ${mean(r.latencies).toFixed(1)} p50 ${p50.toFixed(1)} p90 ${p90.toFixed(1)} p99 ${p99.toFixed(1)} ` +
          `max ${r.latencies[r.latencies.length - 1].toFixed(1)} ms`,
      );
      // Where the CPU went, per workflow: this process, the devserver child (if any), Postgres; and how much of the
      // machine other processes took meanwhile (a busy machine makes the figures worse than the devserver is).
      const selfMs = (selfAfter.user + selfAfter.system) / 1000;
      const devMs = mode === 'child' ? serverAfter.cpuMs - serverBefore.cpuMs : 0;
      const pgMs = pgBefore !== undefined && pgAfter !== undefined ? pgAfter - pgBefore : undefined;
      const parts = [`${mode === 'child' ? 'worker+client' : 'node (devserver+worker+client)'} ${(selfMs / total).toFixed(2)} ms`];
      if (mainBefore !== undefined && mainAfter !== undefined) parts[0] += ` (main thread ${((mainAfter - mainBefore) / total).toFixed(2)} ms)`;
      if (mode === 'child') parts.push(`devserver ${(devMs / total).toFixed(2)} ms`);
      if (pgMs !== undefined) parts.push(`postgres ${(pgMs / total).toFixed(2)} ms`);
      const elu = performance.eventLoopUtilization(serverAfter.elu, serverBefore.elu);
      const ours = selfMs + devMs + (pgMs ?? 0);
      const cores = os.availableParallelism();
      let foreign = '';
      if (machineBefore !== undefined && machineAfter !== undefined) {
        const other = Math.max(0, machineAfter - machineBefore - ours);
        foreign = `; other processes ${((other / (r.elapsedMs * cores)) * 100).toFixed(0)}% of the machine`;
        if (other / (r.elapsedMs * cores) > 0.1) foreign += ' (NOISY: figures understate the devserver)';
      }
      log(
        `c=${c}: cpu per workflow: ${parts.join(', ')}; this benchmark used ${((ours / (r.elapsedMs * cores)) * 100).toFixed(0)}% of ` +
          `${cores} cores; ${mode === 'inprocess' ? 'main (shared)' : 'devserver'} event loop ${(elu.utilization * 100).toFixed(0)}% busy${foreign}`,
      );
      const db = dbTraceDelta(serverAfter.db, serverBefore.db);
      if (db.writes > 0) {
        const d = db.durations.sort((a, b) => a - b);
        log(
          `c=${c}: db: ${db.writes} batches (${(db.writes / total).toFixed(2)} per workflow, ${(db.events / db.writes).toFixed(1)} events + ` +
            `${(db.executions / db.writes).toFixed(1)} execution rows per batch, ${(db.stateBytes / Math.max(1, db.executions)).toFixed(0)} B state/row); ` +
            `write p50 ${percentile(d, 50).toFixed(2)} p99 ${percentile(d, 99).toFixed(2)} ms; writer busy ${((db.writeMs / r.elapsedMs) * 100).toFixed(0)}% of the time`,
        );
      }

      results.push({
        metric: `c${c}.throughput`,
        value: r.throughput,
        unit: 'workflows/s',
        baseline: c === 100 ? TARGET_THROUGHPUT_C100 : null,
        better: 'higher',
      });
      results.push({ metric: `c${c}.p50_latency`, value: p50, unit: 'ms', baseline: null, better: 'lower' });
      results.push({ metric: `c${c}.p99_latency`, value: p99, unit: 'ms', baseline: c === 10 ? TARGET_P99_C10 : null, better: 'lower' });
      results.push({ metric: `c${c}.cpu_per_workflow`, value: ours / total, unit: 'ms', baseline: null, better: 'lower' });
    }
    return results;
  } finally {
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (error) {
        log(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

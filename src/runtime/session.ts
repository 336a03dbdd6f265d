import type { Client, Connection, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { resolveEnvironment, type ResolvedEnvironment } from '../config/resolve.js';
import type { Product } from '../product/model.js';
import { UnavailableError } from '../errors.js';
import { ValidationError } from '../product/problems.js';
import { checkContractAgainstWarehouse } from '../probe/contract.js';
import { connectClient, connectWorker, ensureNamespace, ensureSearchAttributes } from '../temporal/connect.js';
import { ALL_TARGETS, runKeyOf, runSearchAttributes, workflowId } from '../temporal/names.js';
import { resolveTemporal, type TemporalTarget } from '../temporal/resolve.js';
import { createLastmileWorker } from '../temporal/worker.js';
import type { RunSummary, RunTrigger, ServeProductInput } from '../../workflows/types.js';
import type { RunRecord } from '../meta/types.js';
import { closeInterruptedRuns, recordAbortEvents } from './interrupted.js';
import { ServingContext } from './serving-context.js';
import type { Project } from './project.js';
import { openWarehouse, stopEmbeddedPostgres, type Warehouse } from './warehouse.js';

// The project on disk (config, products, git commit) lives in project.ts; re-exported for the callers of this module.
export { gitSha, loadProject, type Project } from './project.js';

/** An environment brought up: warehouse, Temporal, client and (optionally) a worker in this process. */
export interface Session {
  project: Project;
  env: ResolvedEnvironment;
  warehouse: Warehouse;
  temporal: TemporalTarget;
  connection: Connection;
  client: Client;
  context: ServingContext;
  worker?: { worker: Worker; connection: NativeConnection; running: Promise<void> };
  /** runs an earlier process left `running` whose workflows still run: this session's workers finish them */
  resuming: RunRecord[];
  /**
   * Resolves, with the cause, when the session stops serving on its own: its worker failed or stopped unasked, or
   * the Temporal server it started went away. Never resolves once `close()` was called. A command that serves until
   * Ctrl-C waits for this too, and exits with the cause instead of serving nothing.
   */
  failed: Promise<Error>;
  close(): Promise<void>;
}

export interface SessionOptions {
  env: string;
  /**
   * run a worker in this process: `true` (default), `false`, or `'unless-remote'` — only when Temporal is local (the
   * devserver, `temporal server start-dev`); on a real cluster the environment's deployed workers run the work, so a
   * laptop never executes another environment's activities with its own credentials
   */
  worker?: boolean | 'unless-remote';
  /** the worker logs one line per workflow and activity outcome (`lastmile worker`) */
  workerLog?: boolean;
  /**
   * check contracts against the warehouse (zero-row queries) before going on: every product's (`true`, the default),
   * none, or only these (`lastmile run X` checks X's)
   */
  checkContracts?: boolean | readonly Product[];
  log?: (line: string) => void;
}

/** Brings up an environment. Every step says what it uses; a failure stops everything started so far. */
export async function openSession(project: Project, options: SessionOptions): Promise<Session> {
  const log = options.log ?? (() => undefined);
  const env = resolveEnvironment(project.config, options.env);
  const cleanup: (() => Promise<void>)[] = [];
  let closing = false;
  let temporalLost = false;
  const close = async (): Promise<void> => {
    closing = true;
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    const warehouse = await openWarehouse(env, {
      root: project.root,
      onSeed: (r) => log(r.reused ? `warehouse: example data present (checksum ${r.checksum.slice(0, 12)})` : `warehouse: seeded example data in ${Math.round(r.durationMs)} ms`),
    });
    if (warehouse.embedded) cleanup.push(() => stopEmbeddedPostgres(project.root));
    cleanup.push(() => warehouse.close());
    log(`warehouse: ${warehouse.description}`);
    if (options.checkContracts !== false) {
      const checked = Array.isArray(options.checkContracts) ? options.checkContracts : [...project.products.values()];
      const problems = await checkContractAgainstWarehouse(checked, {
        query: (text) => warehouse.pool.query(text),
        schemas: warehouse.schemas,
      });
      if (problems.length > 0) throw new ValidationError(problems);
    }
    const temporal = await resolveTemporal(env, { root: project.root, log: (line) => line.startsWith('devserver:') && log(line) });
    cleanup.push(() => temporal.stop());
    log(`temporal: ${temporal.describe}`);
    const { connection, client } = await connectClient(temporal);
    cleanup.push(() => connection.close());
    await ensureNamespace(connection, temporal);
    const added = await ensureSearchAttributes(connection, temporal.namespace);
    if (added.length > 0) log(`temporal: registered search attributes ${added.join(', ')}`);
    const interrupted = await closeInterruptedRuns(warehouse.meta, client, env.name);
    for (const { run, reason } of interrupted.closed) log(`runs: closed the interrupted run ${run.runId} of ${run.product} (started ${run.startedAt.toISOString()}): ${reason}`);
    await recordAbortEvents(project, warehouse, env, interrupted.closed);
    if (interrupted.resuming.length > 0) {
      log(`runs: ${interrupted.resuming.length} interrupted run${interrupted.resuming.length === 1 ? '' : 's'} resume on the workers (${interrupted.resuming.map((r) => r.product).join(', ')})`);
    }
    const context = new ServingContext(project.config, project.products, { root: project.root });
    context.adopt(warehouse);
    let worker: Session['worker'];
    const failures: Promise<Error>[] = [];
    if (temporal.lost) {
      failures.push(
        temporal.lost.then((cause) => {
          temporalLost = true;
          return new UnavailableError(`Temporal stopped: ${cause.message}`, { cause });
        }),
      );
    }
    const runWorker = options.worker === 'unless-remote' ? temporal.source !== 'address' : options.worker !== false;
    if (!runWorker) log(`worker: none in this process — the workers polling ${temporal.taskQueue} on ${temporal.address} run it`);
    if (runWorker) {
      const nativeConnection = await connectWorker(temporal);
      cleanup.push(() => nativeConnection.close());
      const w = await createLastmileWorker({
        connection: nativeConnection,
        namespace: temporal.namespace,
        taskQueue: temporal.taskQueue,
        context,
        ...(options.workerLog && { log }),
      });
      const running = w.run();
      failures.push(
        running.then(
          () => new Error(`the worker polling ${temporal.taskQueue} stopped without being asked to`),
          (error: unknown) => new Error(`the worker polling ${temporal.taskQueue} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }),
        ),
      );
      cleanup.push(async () => {
        if (w.getState() === 'RUNNING') w.shutdown();
        // with its server gone the worker cannot hand anything back: do not wait out its drain
        const drained = running.catch(() => undefined);
        await (temporalLost ? Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1000).unref())]) : drained);
      });
      worker = { worker: w, connection: nativeConnection, running };
      log(`worker: polling task queue ${temporal.taskQueue}`);
    }
    const never = new Promise<Error>(() => undefined);
    const failed = Promise.race(failures).then((error) => (closing ? never : error));
    return { project, env, warehouse, temporal, connection, client, context, worker, resuming: interrupted.resuming, failed, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Starts one run of a product (all targets, or the given ones). */
export async function startRun(
  session: Session,
  product: Product,
  options: { targets?: string[]; trigger?: RunTrigger } = {},
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const target = options.targets?.length === 1 ? options.targets[0] : ALL_TARGETS;
  const runKey = runKeyOf(new Date(), Math.random().toString(36).slice(2));
  const input: ServeProductInput = {
    env: session.env.name,
    product: product.name,
    trigger: options.trigger ?? 'manual',
    runKey,
    ...(options.targets && { targets: options.targets }),
    ...(session.project.gitSha !== undefined && { gitSha: session.project.gitSha }),
  };
  return await session.client.workflow.start('serveProduct', {
    taskQueue: session.temporal.taskQueue,
    workflowId: workflowId(session.env.name, product.name, target, runKey),
    args: [input],
    typedSearchAttributes: runSearchAttributes({ product: product.name, env: session.env.name, target, owner: product.owner.team }),
    memo: { version: product.version, description: product.description },
  });
}

/** Waits for a run and returns its summary, also when it failed (the failure carries the summary). */
export async function runResult(handle: WorkflowHandle): Promise<RunSummary> {
  try {
    return (await handle.result()) as RunSummary;
  } catch (error) {
    const cause = (error as { cause?: { details?: unknown[]; message?: string } }).cause;
    const summary = cause?.details?.[0] as RunSummary | undefined;
    if (summary && typeof summary === 'object' && 'status' in summary) return summary;
    throw error;
  }
}

import { signalShareTimer } from '../../deploy/share-timer.js';
import { ensureMonitors } from '../../deploy/monitors.js';
import { deployContext } from '../../deploy/context.js';
import { deploySchedules, type DeployedSchedule } from '../../deploy/schedules.js';
import { acquireDevLock } from '../../runtime/dev-lock.js';
import { openSession, runResult, startRun, type Project, type Session } from '../../runtime/session.js';
import type { RunSummary } from '../../../workflows/types.js';
import { EXIT } from '../exit-codes.js';
import { duration, type Output } from '../output.js';
import { RunProgress } from '../run-progress.js';
import { signalExit, watchSignals, type SignalWatch } from '../signals.js';
import { LiveTable, render, rowOf } from './dev-table.js';

/**
 * `lastmile dev [--once]`: brings up the dev environment on the embedded defaults, deploys every product's
 * schedules, runs each product once with a live status table, then keeps serving on schedule until Ctrl-C.
 * `--once` stops after the first round and exits 1 if any product did not succeed. Ctrl-C at any point stops it
 * quickly and quietly (exit 130): the worker drains, the devserver stops, the embedded PostgreSQL stops last.
 */
export async function devCommand(project: Project, options: { once: boolean }, out: Output): Promise<number> {
  const started = Date.now();
  const signals = watchSignals();
  const lock = await acquireDevLock(project.root).catch((error: unknown) => {
    signals.release();
    throw error;
  });
  let session: Session | undefined;
  try {
    const opening = openSession(project, { env: 'dev', log: (line) => out.note(line) });
    const opened = await Promise.race([opening.then((s) => ({ session: s })), signals.signal.then((signal) => ({ signal }))]);
    if ('signal' in opened) {
      // stopped while coming up: let it finish coming up, then take it down again
      await (await opening.catch(() => undefined))?.close();
      return stoppedBy(opened.signal, out);
    }
    session = opened.session;
    const outcome = await until(serve(session, project, options, out, started), session, signals);
    if ('signal' in outcome) return stoppedBy(outcome.signal, out);
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  } finally {
    // a second Ctrl-C while draining forces the exit
    signals.release();
    await session?.close();
    await lock.release();
  }
}

function stoppedBy(signal: NodeJS.Signals, out: Output): number {
  out.note(`${signal}: stopping — draining the worker…`);
  return signalExit(signal);
}

/** `work`, unless a signal or the session stopping on its own comes first. */
async function until<T>(work: Promise<T>, session: Session, signals: SignalWatch): Promise<{ value: T } | { signal: NodeJS.Signals } | { error: Error }> {
  return await Promise.race([
    work.then((value) => ({ value })),
    signals.signal.then((signal) => ({ signal })),
    session.failed.then((error) => ({ error })),
  ]);
}

/** How long `dev --once` waits for the runs an earlier process left behind: a lost activity is retried after its heartbeat timeout. */
const RESUMED_WAIT_MS = 120_000;

/**
 * `--once` ends the round with the interrupted runs this session resumed: their workflows finish on this worker
 * (each records its own end), or, past the wait, are left for the next start to finish — said so.
 */
async function awaitResumed(session: Session, out: Output): Promise<void> {
  if (session.resuming.length === 0) return;
  out.note(`waiting for the ${session.resuming.length} interrupted run${session.resuming.length === 1 ? '' : 's'} this start resumed (${session.resuming.map((r) => r.product).join(', ')})…`);
  let timer: NodeJS.Timeout | undefined;
  const waited = await Promise.race([
    Promise.allSettled(session.resuming.map((run) => session.client.workflow.getHandle(run.workflowId!, run.runId).result())).then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), RESUMED_WAIT_MS))),
  ]);
  clearTimeout(timer);
  if (!waited) out.note(`the resumed runs did not finish within ${RESUMED_WAIT_MS / 1000} s; their workflows go on, and the next start finishes or closes them`);
}

/** Deploys, runs the first round, then (without --once) serves on schedule; resolves only with --once. */
async function serve(session: Session, project: Project, options: { once: boolean }, out: Output, started: number): Promise<number> {
  const products = [...project.products.values()].sort((a, b) => a.name.localeCompare(b.name));
  const deployed = await deploySchedules({
    client: session.client,
    env: 'dev',
    taskQueue: session.temporal.taskQueue,
    products,
    meta: session.warehouse.meta,
    gitSha: project.gitSha,
    manifest: (await deployContext(project.config, 'dev', session.warehouse.schemas)).manifest,
  });
  for (const d of deployed) {
    if (d.action === 'unservable') out.note(`not scheduled: ${d.scheduleId} — ${d.reason ?? 'it cannot be served'}`);
    else out.note(`schedule ${d.action}: ${d.scheduleId}${d.cron ? ` (${d.cron} ${d.timezone})` : ''}`);
  }
  const monitors = await ensureMonitors({ client: session.client, env: 'dev', taskQueue: session.temporal.taskQueue, products });
  for (const id of monitors) out.note(`SLO monitor started: ${id}`);
  const shareTimer = await signalShareTimer({ client: session.client, env: 'dev', taskQueue: session.temporal.taskQueue, products });
  if (shareTimer) out.note(`share expiry timer told: ${shareTimer}`);

  const table = new LiveTable(products.map((p) => ({ product: p.name, status: 'starting' })), process.stderr.isTTY && !out.json);
  table.redraw();
  const summaries = await Promise.all(
    products.map(async (product, i): Promise<RunSummary> => {
      const handle = await startRun(session, product, { trigger: 'dev' });
      table.rows[i]!.status = 'running';
      table.redraw();
      // while it runs, the targets column says how far its long work got (rows and bytes written, object built)
      const progress = new RunProgress(session.client, { env: 'dev', product: product.name, runKey: handle.workflowId.split('/').pop()! });
      const watch = table.live
        ? setInterval(() => {
            void progress.read(product.serve).then(
              (found) => {
                if (table.rows[i]!.status !== 'running') return;
                table.rows[i]!.targets = found.map((p) => `${p.target}: ${p.text}`).join('; ') || undefined;
                table.redraw();
              },
              () => undefined,
            );
          }, 2000)
        : undefined;
      const summary = await runResult(handle).finally(() => clearInterval(watch));
      table.rows[i] = rowOf(product, summary);
      if (table.live) table.redraw();
      else if (!out.json) out.note(`${product.name}: ${summary.status}${summary.error ? ` — ${summary.error}` : ''}`);
      return summary;
    }),
  );
  const failed = summaries.filter((s) => s.status !== 'succeeded');
  if (out.json) {
    out.printJson({ env: 'dev', schedules: deployed, runs: summaries });
  } else {
    if (!table.live) out.print(render(table.rows));
    out.print(
      `\n${summaries.length - failed.length} of ${summaries.length} product runs succeeded in ${duration(Date.now() - started)}; ` +
        `Temporal: ${session.temporal.address} (namespace ${session.temporal.namespace}); runs recorded in ${session.warehouse.description}.`,
    );
  }
  if (options.once) {
    await awaitResumed(session, out);
    return failed.length === 0 ? EXIT.ok : EXIT.failed;
  }
  out.note(servingLine(deployed));
  reportScheduledRuns(session, out);
  return await new Promise<number>(() => undefined);
}

function servingLine(deployed: readonly DeployedSchedule[]): string {
  const serving = deployed.filter((d) => d.action === 'created' || d.action === 'updated').length;
  const unserved = deployed.filter((d) => d.action === 'unservable');
  return (
    `serving dev on ${serving} schedule${serving === 1 ? '' : 's'}` +
    (unserved.length > 0
      ? ` (${unserved.length} scheduled target${unserved.length === 1 ? '' : 's'} cannot be served by this version: ${unserved.map((d) => `${d.product}/${d.target}`).join(', ')})`
      : '') +
    ' — press Ctrl-C to stop'
  );
}

/** One line per scheduled run as it finishes, while dev keeps serving (the timer dies with the process). */
function reportScheduledRuns(session: Session, out: Output): void {
  const since = new Date();
  const reported = new Set<string>();
  setInterval(() => {
    void session.warehouse.meta.listRuns({ env: 'dev', limit: 20 }).then(
      (runs) => {
        for (const run of runs.reverse()) {
          if (run.startedAt < since || !run.finishedAt || reported.has(run.runId)) continue;
          reported.add(run.runId);
          out.note(`${run.finishedAt.toISOString()} ${run.product} (${run.trigger}): ${run.status}, ${run.rows ?? 0} rows${run.error ? ` — ${run.error}` : ''}`);
        }
      },
      () => undefined,
    );
  }, 2000).unref();
}

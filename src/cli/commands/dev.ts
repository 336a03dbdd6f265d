import { ensureMonitors } from '../../deploy/monitors.js';
import { deploySchedules } from '../../deploy/schedules.js';
import { openSession, runResult, startRun, type Project } from '../../runtime/session.js';
import type { RunSummary } from '../../../workflows/types.js';
import { EXIT } from '../exit-codes.js';
import { duration, table, type Output } from '../output.js';
import { untilSignalOrFailure } from '../signals.js';

interface Row {
  product: string;
  status: string;
  rows?: number;
  checks?: string;
  targets?: string;
  took?: number;
  error?: string;
}

function render(rows: Row[]): string {
  return table(
    ['product', 'status', 'rows', 'checks', 'targets', 'took', 'error'],
    rows.map((r) => [r.product, r.status, r.rows, r.checks ?? '', r.targets, r.took !== undefined ? duration(r.took) : '', r.error ?? '']),
  );
}

function targetsOf(summary: RunSummary): string {
  const count = (status: string): number => summary.targets.filter((t) => t.status === status).length;
  const parts = [`${count('succeeded')} served`];
  if (count('skipped') > 0) parts.push(`${count('skipped')} skipped`);
  if (count('failed') > 0) parts.push(`${count('failed')} failed`);
  if (count('blocked') > 0) parts.push(`${count('blocked')} blocked`);
  return parts.join(', ');
}

/** `6/7 passed, 99.8 % clean` — the checks of a run in a table cell. */
function checksOf(summary: RunSummary): string {
  const c = summary.checks;
  if (!c) return '';
  const total = c.passed + c.failed + c.errors;
  return `${c.passed}/${total} passed, ${(c.defectFreeFraction * 100).toFixed(1)} % clean${c.quarantined > 0 ? `, ${c.quarantined} quarantined` : ''}`;
}

/**
 * `lastmile dev [--once]`: brings up the dev environment on the embedded defaults, deploys every product's
 * schedules, runs each product once with a live status table, then keeps serving on schedule until Ctrl-C.
 * `--once` stops after the first round and exits 1 if any product failed.
 */
export async function devCommand(project: Project, options: { once: boolean }, out: Output): Promise<number> {
  const started = Date.now();
  const session = await openSession(project, { env: 'dev', log: (line) => out.note(line) });
  try {
    const products = [...project.products.values()].sort((a, b) => a.name.localeCompare(b.name));
    const deployed = await deploySchedules({
      client: session.client,
      env: 'dev',
      taskQueue: session.temporal.taskQueue,
      products,
      meta: session.warehouse.meta,
      gitSha: project.gitSha,
    });
    for (const d of deployed) out.note(`schedule ${d.action}: ${d.scheduleId}${d.cron ? ` (${d.cron} ${d.timezone})` : ''}`);
    const monitors = await ensureMonitors({ client: session.client, env: 'dev', taskQueue: session.temporal.taskQueue, products });
    for (const id of monitors) out.note(`SLO monitor started: ${id}`);
    const rows: Row[] = products.map((p) => ({ product: p.name, status: 'starting' }));
    const live = process.stderr.isTTY && !out.json;
    let drawn = 0;
    const redraw = (): void => {
      if (!live) return;
      const text = render(rows);
      if (drawn > 0) process.stderr.write(`\x1b[${drawn}F\x1b[J`);
      process.stderr.write(`${text}\n`);
      drawn = text.split('\n').length;
    };
    redraw();
    const summaries = await Promise.all(
      products.map(async (product, i) => {
        const handle = await startRun(session, product, { trigger: 'dev' });
        rows[i].status = 'running';
        redraw();
        const summary = await runResult(handle);
        rows[i] = {
          product: product.name,
          status: summary.status,
          rows: summary.rows,
          checks: checksOf(summary),
          targets: targetsOf(summary),
          took: Date.parse(summary.finishedAt) - Date.parse(summary.startedAt),
          error: summary.error,
        };
        if (live) redraw();
        else if (!out.json) out.note(`${product.name}: ${summary.status}${summary.error ? ` — ${summary.error}` : ''}`);
        return summary;
      }),
    );
    const failed = summaries.filter((s) => s.status !== 'succeeded');
    if (out.json) {
      out.printJson({ env: 'dev', schedules: deployed, runs: summaries });
    } else {
      if (!live) out.print(render(rows));
      out.print(
        `\n${summaries.length - failed.length} of ${summaries.length} product runs succeeded in ${duration(Date.now() - started)}; ` +
          `Temporal: ${session.temporal.address} (namespace ${session.temporal.namespace}); runs recorded in ${session.warehouse.description}.`,
      );
    }
    if (options.once) return failed.length === 0 ? EXIT.ok : EXIT.failed;
    out.note(`serving dev on ${deployed.filter((d) => d.action !== 'deleted').length} schedules — press Ctrl-C to stop`);
    const since = new Date();
    const reported = new Set<string>();
    const watch = setInterval(() => {
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
    }, 2000);
    const stopped = await untilSignalOrFailure(session.failed);
    clearInterval(watch);
    if ('error' in stopped) throw stopped.error;
    out.note('stopping: draining the worker…');
    return EXIT.ok;
  } finally {
    await session.close();
  }
}

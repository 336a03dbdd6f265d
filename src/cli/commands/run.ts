import type { Product } from '../../product/model.js';
import { runResult, startRun, type Session } from '../../runtime/session.js';
import type { RunSummary } from '../../../workflows/types.js';
import { EXIT } from '../exit-codes.js';
import { duration, table, type Output } from '../output.js';
import { RunProgress } from '../run-progress.js';
import { signalExit, type SignalWatch } from '../signals.js';

/** Prints a run's summary: status, rows, and each target. */
export function printSummary(summary: RunSummary, out: Output): void {
  const took = Date.parse(summary.finishedAt) - Date.parse(summary.startedAt);
  out.print(`${summary.product} ${summary.version} in ${summary.env}: ${summary.status.toUpperCase()} — ${summary.rows} rows in ${duration(took)}`);
  out.print(`  workflow ${summary.workflowId}`);
  // a run its checks blocked lists their reasons below; one a held sync blocked says why here
  if (summary.error && (summary.status !== 'blocked' || !summary.checks?.blocked)) out.print(`  ${summary.status === 'blocked' ? 'blocked' : 'error'}: ${summary.error}`);
  for (const line of checkLines(summary)) out.print(`  ${line}`);
  out.print(
    table(
      ['target', 'kind', 'status', 'rows', 'note'],
      summary.targets.map((t) => [t.name, t.kind, t.status, t.rows, t.error ?? t.detail ?? '']),
    )
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
}

/** With no worker in this process, says so when nobody polls the environment's task queue either (the run would wait). */
async function warnWithoutPollers(session: Session, out: Output): Promise<void> {
  try {
    const described = await session.client.workflowService.describeTaskQueue({
      namespace: session.temporal.namespace,
      taskQueue: { name: session.temporal.taskQueue },
      taskQueueType: 1,
    });
    if ((described.pollers ?? []).length === 0) {
      out.note(
        `no worker polls ${session.temporal.taskQueue} right now: the run waits until one does — start \`lastmile worker --env ${session.env.name}\` ` +
          `where that environment's credentials live, or run again with --local-worker`,
      );
    }
  } catch {
    // a server that cannot say: the run simply waits for the environment's workers
  }
}

/** The checks' verdict in a few lines: counts, defect-free share, what blocked and what only warned. */
export function checkLines(summary: RunSummary): string[] {
  const c = summary.checks;
  if (!c) return [];
  const counts = [`${c.passed} passed`, c.failed > 0 && `${c.failed} failed`, c.errors > 0 && `${c.errors} could not run`].filter(Boolean).join(', ');
  const share = `${(c.defectFreeFraction * 100).toFixed(2)} % defect-free (${c.defects.toLocaleString('en-US')} of ${c.rows.toLocaleString('en-US')} rows fail a row-level check)`;
  const lines = [`checks: ${counts || 'none declared'} — ${share}${c.quarantined > 0 ? `; ${c.quarantined.toLocaleString('en-US')} failures quarantined` : ''}`];
  if (summary.status === 'blocked') for (const reason of c.reasons) lines.push(`blocked: ${reason}`);
  for (const warning of c.warnings) lines.push(`warning: ${warning}`);
  if (summary.latency) {
    const worst = Object.entries(summary.latency.queries).map(([name, q]) => `${name} p50 ${q.p50Ms} ms, p95 ${q.p95Ms} ms`);
    lines.push(`latency: ${worst.join('; ')}${summary.latency.good ? '' : ' — over the objective'}`);
  }
  return lines;
}

/**
 * `lastmile run <product> [--target T]`: starts serveProduct, reports each target as it finishes, waits, prints the
 * summary. Exit 1 when the run failed or was blocked by its checks.
 */
export async function runCommand(session: Session, product: Product, targets: string[] | undefined, out: Output, signals: SignalWatch): Promise<number> {
  const handle = await startRun(session, product, { targets, trigger: 'manual' });
  const runId = handle.firstExecutionRunId;
  out.note(`started ${handle.workflowId}`);
  if (!session.worker) await warnWithoutPollers(session, out);
  const started = Date.now();
  const seen = new Map<string, string>();
  const chosen = product.serve.filter((t) => !targets || targets.length === 0 || targets.includes(t.name));
  const progress = new RunProgress(session.client, { env: session.env.name, product: product.name, runKey: handle.workflowId.split('/').pop()! });
  const shown = new Map<string, string>();
  let reading = false;
  // long work says how far it got: rows and bytes of an export, the object a refresh builds (every 2 s, when changed)
  const watch = setInterval(() => {
    if (reading) return;
    reading = true;
    const open = chosen.filter((t) => !['succeeded', 'failed', 'skipped', 'blocked'].includes(seen.get(t.name) ?? ''));
    void progress
      .read(open)
      .then((found) => {
        for (const p of found) {
          const line = `${p.activity}: ${p.text}`;
          if (shown.get(p.target) === line) continue;
          shown.set(p.target, line);
          out.note(`  ${duration(Date.now() - started).padStart(8)}  ${p.target}: ${line}`);
        }
      })
      .catch(() => undefined)
      .finally(() => (reading = false));
  }, 2000);
  const told = new Set<string>();
  const poll = setInterval(() => {
    // a sync its guardrails hold waits for a person: say so once, with what tripped and how to decide
    void session.warehouse.pool
      .query<{ run_id: string; target: string; verdicts: { tripped: boolean; message: string }[] }>(
        `select run_id, target, verdicts from lastmile.sync_runs where left(run_id, length($1) + 1) = $1 || '/' and state = 'held'`,
        [runId],
      )
      .then(
        (held) => {
          for (const row of held.rows) {
            if (told.has(row.target)) continue;
            told.add(row.target);
            const tripped = row.verdicts.filter((v) => v.tripped).map((v) => v.message).join('; ');
            out.note(
              `  ${duration(Date.now() - started).padStart(8)}  ${row.target}: held by its guardrails — ${tripped}. Nothing was sent; ` +
                `decide in another terminal: lastmile approve ${row.run_id} --env ${session.env.name} (or lastmile reject …)`,
            );
          }
        },
        () => undefined,
      );
    void session.warehouse.meta.listTargets(runId).then(
      (rows) => {
        for (const row of rows) {
          if (seen.get(row.target) === row.status) continue;
          seen.set(row.target, row.status);
          out.note(`  ${duration(Date.now() - started).padStart(8)}  ${row.target}: ${row.status}${row.error ? ` — ${row.error}` : ''}`);
        }
      },
      () => undefined,
    );
  }, 300);
  let summary: RunSummary;
  try {
    const outcome = await Promise.race([
      runResult(handle).then((value) => ({ value })),
      signals.signal.then((signal) => ({ signal })),
      session.failed.then((error) => ({ error })),
    ]);
    if ('signal' in outcome) {
      out.note(
        `${outcome.signal}: stopped waiting. The run is durable: ${handle.workflowId} goes on in Temporal (on the embedded server, when lastmile next ` +
          'runs a worker here), and `lastmile status` shows it',
      );
      return signalExit(outcome.signal);
    }
    if ('error' in outcome) throw outcome.error;
    summary = outcome.value;
  } finally {
    clearInterval(poll);
    clearInterval(watch);
  }
  if (out.json) out.printJson(summary);
  else printSummary(summary, out);
  return summary.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}

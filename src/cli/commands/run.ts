import type { Product } from '../../product/model.js';
import { runResult, startRun, type Session } from '../../runtime/session.js';
import type { RunSummary } from '../../../workflows/types.js';
import { EXIT } from '../exit-codes.js';
import { duration, table, type Output } from '../output.js';

/** Prints a run's summary: status, rows, and each target. */
export function printSummary(summary: RunSummary, out: Output): void {
  const took = Date.parse(summary.finishedAt) - Date.parse(summary.startedAt);
  out.print(`${summary.product} ${summary.version} in ${summary.env}: ${summary.status.toUpperCase()} — ${summary.rows} rows in ${duration(took)}`);
  out.print(`  workflow ${summary.workflowId}`);
  if (summary.error) out.print(`  error: ${summary.error}`);
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

/**
 * `lastmile run <product> [--target T]`: starts serveProduct, reports each target as it finishes, waits, prints the
 * summary. Exit 1 when the run failed.
 */
export async function runCommand(session: Session, product: Product, targets: string[] | undefined, out: Output): Promise<number> {
  const handle = await startRun(session, product, { targets, trigger: 'manual' });
  const runId = handle.firstExecutionRunId;
  out.note(`started ${handle.workflowId}`);
  const started = Date.now();
  const seen = new Map<string, string>();
  const poll = setInterval(() => {
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
    summary = await runResult(handle);
  } finally {
    clearInterval(poll);
  }
  if (out.json) out.printJson(summary);
  else printSummary(summary, out);
  return summary.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}

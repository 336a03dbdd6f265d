import type pg from 'pg';
import type { MetaStore } from '../../meta/index.js';
import type { Project } from '../../runtime/project.js';
import { CommandFailure, EXIT, UsageError } from '../exit-codes.js';
import { table, type Output } from '../output.js';
import { readStore, utc } from './read-store.js';
import { findSyncRuns, listSyncRuns, plannedText, reverseEtlTargets, stateStory, syncOps, trippedVerdicts, type SyncRunRecord } from './sync-log.js';

export interface SyncsOptions {
  env: string;
  product: string;
  target?: string;
  /** the operations of this run (its id, or a unique prefix of 8 characters or more) instead of the latest one's */
  run?: string;
  /** only the operations the destination rejected or that were not delivered (transient) */
  failed: boolean;
  limit: number;
}

/**
 * `lastmile syncs <product> [--target T] [--run R] [--failed] [--limit N]`: the latest sync runs of the product's
 * reverse ETL targets (state, plan, outcome, decision) and the operations of the latest run (or of run R) — the
 * sync log, from `lastmile.sync_runs` and `lastmile.sync_ops`.
 */
export async function syncsCommand(project: Project, options: SyncsOptions, out: Output): Promise<number> {
  const product = project.products.get(options.product);
  // an invalid module's product: its records can still be read, whatever targets they name
  if (product) {
    const targets = reverseEtlTargets(product);
    if (options.target !== undefined && !targets.includes(options.target)) {
      const kind = product.serve.find((t) => t.name === options.target)?.kind;
      throw new UsageError(
        `product ${product.name} has no reverse ETL target ${options.target}${kind ? ` (${options.target} is a ${kind} target)` : ''}; ` +
          `its reverse ETL target${targets.length === 1 ? ' is' : 's are'} ${targets.join(', ')}`,
      );
    }
  }
  return await readStore(project, options.env, async (warehouse, env) => {
    const pool = warehouse.pool;
    const runs = await listSyncRuns(pool, { env: env.name, product: options.product, ...(options.target !== undefined && { target: options.target }), limit: options.limit });
    let chosen: SyncRunRecord | undefined = runs[0];
    if (options.run !== undefined) chosen = await syncRunOf(pool, runs, { env: env.name, product: options.product, run: options.run, meta: warehouse.meta, ...(options.target !== undefined && { target: options.target }) });
    const ops = chosen ? await syncOps(pool, chosen.runId, { failed: options.failed, limit: options.limit }) : undefined;
    if (out.json) {
      out.printJson({
        env: env.name,
        product: options.product,
        target: options.target ?? null,
        runs: runs.map(shown),
        run: chosen ? { ...shown(chosen), operations: { total: ops!.total, matching: ops!.matching, byStatus: ops!.byStatus, failedOnly: options.failed, rows: ops!.rows } } : null,
      });
      return EXIT.ok;
    }
    const scope = options.target !== undefined ? `of ${options.target}` : product ? `of its reverse ETL target${reverseEtlTargets(product).length === 1 ? '' : 's'} (${reverseEtlTargets(product).join(', ')})` : '';
    if (runs.length === 0 && !chosen) {
      out.print(`${options.product} in ${env.name} has no sync runs ${scope} yet: lastmile run ${options.product}${env.name === 'dev' ? '' : ` --env ${env.name}`} makes one`);
      return EXIT.ok;
    }
    out.print(`${options.product} in ${env.name} — ${runs.length === 1 ? 'the latest sync run' : `the latest ${runs.length} sync runs`} ${scope}, newest first`.replace(/\s+,/, ','));
    out.print(
      table(
        ['run id', 'target', 'state', 'mode', 'planned', 'applied', 'unchanged', 'rejected', 'transient', 'destination', 'created (UTC)', 'decided by', 'note'],
        runs.map((r) => [r.runId, r.target, r.state, r.mode, plannedText(r.counts), r.outcome?.applied, r.outcome?.unchanged, r.outcome?.rejected, r.outcome?.transient, r.destination, utc(r.createdAt), r.decidedBy, note(r)]),
      ),
    );
    if (!chosen || !ops) return EXIT.ok;
    out.print('');
    const statuses = Object.entries(ops.byStatus).map(([status, n]) => `${n} ${status}`).join(', ');
    const what = options.failed ? `${ops.matching} of ${ops.total} operations rejected or transient` : `${ops.total} operation${ops.total === 1 ? '' : 's'}${statuses ? `: ${statuses}` : ''}`;
    const showing = ops.rows.length < ops.matching ? `, showing the first ${ops.rows.length} (--limit)` : '';
    out.print(`run ${chosen.runId} of ${chosen.target}: ${stateStory(chosen)}`);
    out.print(`${what}${showing}`);
    if (ops.rows.length > 0) out.print(table(['key', 'op', 'status', 'attempt', 'reason'], ops.rows.map((o) => [o.key ?? '(null)', o.op, o.status, o.attempt, o.reason])));
    return EXIT.ok;
  });
}

/** A run for `--json`: the record with its tripped guardrails' messages picked out. */
function shown(run: SyncRunRecord) {
  return { ...run, tripped: trippedVerdicts(run).map((v) => v.message) };
}

/** Why a run is where it is, when it is not plainly applied. */
function note(run: SyncRunRecord): string {
  if (run.state === 'held') return `held: ${trippedVerdicts(run).map((v) => v.message).join('; ')} — lastmile approve ${run.runId} (or reject)`;
  if (run.state === 'rejected' || run.state === 'abandoned') return run.decisionReason ?? (run.state === 'abandoned' ? 'no decision in time' : '');
  if (run.state === 'failed') return run.outcome?.error ?? '';
  if (run.state === 'applied' && run.decidedBy) return 'approved after its guardrails held it';
  return '';
}

/** The sync run `run` names (an id or a unique prefix), or a `CommandFailure` saying whose run it is. */
async function syncRunOf(
  pool: pg.Pool,
  latest: readonly SyncRunRecord[],
  where: { env: string; product: string; target?: string; run: string; meta: MetaStore },
): Promise<SyncRunRecord> {
  const found = await findSyncRuns(pool, where.run);
  const mine = found.filter((r) => r.env === where.env && r.product === where.product && (where.target === undefined || r.target === where.target));
  const ids = [...new Set(mine.map((r) => r.runId))];
  if (ids.length > 1) throw new UsageError(`${where.run} is the start of several sync runs of ${where.product} in ${where.env}: ${ids.join(', ')}; give more of the run id`);
  if (mine.length > 1) throw new UsageError(`run ${where.run} synced several targets of ${where.product}: ${mine.map((r) => r.target).join(', ')}; say which with --target`);
  if (mine[0]) return mine[0];
  const listed = latest.slice(0, 5).map((r) => r.runId);
  const latestText = listed.length > 0 ? `the latest sync runs of ${where.product} in ${where.env} are ${listed.join(', ')}` : `${where.product} has no sync runs in ${where.env}`;
  const other = found[0];
  let whose: string;
  if (other) {
    whose =
      other.product === where.product && other.env === where.env
        ? `it synced ${other.target}, not ${where.target}`
        : `it is a sync run of ${other.product}/${other.target} in ${other.env}`;
  } else {
    const run = await where.meta.getRun(where.run);
    if (run && run.product === where.product && run.env === where.env) whose = `it made no sync (the run is ${run.status}${run.error ? `: ${run.error}` : ''})`;
    else if (run) whose = `it is a run of ${run.product} in ${run.env}`;
    else whose = 'there is no such run';
  }
  throw new CommandFailure(`run ${where.run} is not a sync run of ${where.product}${where.target !== undefined ? `/${where.target}` : ''} in ${where.env}: ${whose}; ${latestText} (lastmile syncs ${where.product} lists them).`);
}

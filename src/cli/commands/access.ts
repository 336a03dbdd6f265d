import type { Project } from '../../runtime/project.js';
import { ServingContext } from '../../runtime/serving-context.js';
import { stopEmbeddedPostgres } from '../../runtime/warehouse.js';
import { effectiveAccess, readAs } from '../../sharing/access.js';
import { describeMask } from '../../sharing/masks.js';
import { shareSession } from '../../sharing/serve.js';
import { countOwnReads, shareUsage } from '../../sharing/usage.js';
import { durationMs } from '../../time/duration.js';
import { CommandFailure, EXIT, UsageError } from '../exit-codes.js';
import { table, type Output } from '../output.js';

export interface AccessOptions {
  env: string;
  product?: string;
  as?: string;
}

/**
 * `lastmile access [--product P] [--as CONSUMER]`: every grant on the shares as the warehouse reports it, marked declared,
 * drift or missing; with `--as`, what that consumer sees — its columns, masks and row count — read through its role.
 */
export async function accessCommand(project: Project, options: AccessOptions, out: Output): Promise<number> {
  const context = new ServingContext(project.config, project.products, { root: project.root, seed: false });
  try {
    const share = await shareSession(context, options.env);
    const { result } = await share.reconcile({ dryRun: true });
    const plan = result.plan;
    if (options.as !== undefined) {
      const consumers = plan.consumers.filter((c) => (c.consumer === options.as || c.role === options.as) && (options.product === undefined || c.product === options.product));
      if (consumers.length === 0) {
        const known = [...new Set(plan.consumers.map((c) => c.consumer))].sort();
        throw new CommandFailure(`no consumer ${options.as} has access in ${options.env}${options.product ? ` to ${options.product}` : ''}; the consumers are ${known.join(', ') || 'none'}`);
      }
      const seen = [];
      for (const consumer of consumers) {
        const as = await readAs(share.warehouse.pool, consumer.role, consumer.schema, consumer.view);
        // statements run as the consumer's role are not the consumer's use
        await countOwnReads(share.warehouse.pool, options.env, [{ product: consumer.product, target: consumer.target, consumer: consumer.consumer, statements: as.statisticsCounted }]);
        seen.push({ product: consumer.product, target: consumer.target, consumer: consumer.consumer, role: consumer.role, view: as.view, rows: as.rows, columns: consumer.columns.map((name) => ({ name, mask: consumer.masks[name] ? describeMask(consumer.masks[name]!) : null })), sample: as.sample });
      }
      if (out.json) out.printJson({ env: options.env, as: options.as, sees: seen });
      else {
        for (const s of seen) {
          out.print(`${s.consumer} (role ${s.role}) reads ${s.view}: ${s.rows} rows of ${s.product}`);
          out.print(table(['column', 'mask'], s.columns.map((c) => [c.name, c.mask ?? '-'])).split('\n').map((l) => `  ${l}`).join('\n'));
          if (s.sample.length > 0) {
            const columns = Object.keys(s.sample[0]!);
            out.print(table(columns, s.sample.map((row) => columns.map((c) => format(row[c])))).split('\n').map((l) => `  ${l}`).join('\n'));
          }
        }
      }
      return EXIT.ok;
    }
    const rows = (await effectiveAccess(share.warehouse.pool, plan)).filter((r) => options.product === undefined || r.product === options.product || r.product === null);
    if (out.json) out.printJson({ env: options.env, access: rows, drift: rows.filter((r) => r.state !== 'declared').length });
    else {
      out.print(`access in ${options.env} as ${share.warehouse.description} reports it`);
      out.print(table(['role', 'object', 'privileges', 'product', 'consumer', 'state', 'expires'], rows.map((r) => [r.role, r.object, r.privileges.join(', '), r.product, r.consumer, r.state, r.expiresAt])));
      const off = rows.filter((r) => r.state !== 'declared');
      if (off.length > 0) out.print(`\n${off.length} grant${off.length === 1 ? '' : 's'} differ from the products: the next run of a share target (or lastmile share plan to see how) sets them right`);
    }
    return EXIT.ok;
  } finally {
    await context.close();
    await stopEmbeddedPostgres(project.root);
  }
}

/** `lastmile share plan`: what the next reconcile would change, without changing anything. */
export async function sharePlanCommand(project: Project, options: { env: string }, out: Output): Promise<number> {
  const context = new ServingContext(project.config, project.products, { root: project.root, seed: false });
  try {
    const share = await shareSession(context, options.env);
    const { result } = await share.reconcile({ dryRun: true, allTargets: true });
    if (out.json) out.printJson({ env: options.env, changes: result.changes });
    else if (result.changes.length === 0) out.print(`the shares of ${options.env} are as the products declare: nothing to change`);
    else out.print(table(['change', 'object', 'to', 'privileges', 'why'], result.changes.map((c) => [c.action, c.object, c.grantee, c.privileges?.join(', '), c.reason])));
    return EXIT.ok;
  } finally {
    await context.close();
    await stopEmbeddedPostgres(project.root);
  }
}

/**
 * `lastmile usage [--product P] [--unused [DURATION]]`: when each consumer last read its view, from the warehouse's
 * statement statistics (sampled now); unused ones first. Unknown when the warehouse cannot say — never zero.
 */
export async function usageCommand(project: Project, options: { env: string; product?: string; unused?: string }, out: Output): Promise<number> {
  const context = new ServingContext(project.config, project.products, { root: project.root, seed: false });
  try {
    const share = await shareSession(context, options.env);
    const window = options.unused ?? '30d';
    let unusedFor: number;
    try {
      unusedFor = durationMs(window);
    } catch {
      throw new UsageError(`--unused ${window} is not a duration; write e.g. 30d, 12h or 90m`);
    }
    const usage = await shareUsage(share.warehouse.pool, options.env, unusedFor);
    const mine = usage.consumers.filter((c) => options.product === undefined || c.product === options.product);
    const listed = mine
      .filter((c) => options.unused === undefined || c.state === 'unused')
      .sort((a, b) => order(a.state) - order(b.state) || a.product.localeCompare(b.product) || a.consumer.localeCompare(b.consumer));
    const unused = listed.filter((c) => c.state === 'unused').length;
    if (out.json) out.printJson({ env: options.env, known: usage.known, ...(usage.reason !== undefined && { reason: usage.reason }), unusedFor: window, consumers: listed });
    else {
      if (!usage.known) out.print(`usage in ${options.env} is unknown: ${usage.reason}. Nothing is sunset while it is.`);
      out.print(
        table(
          ['product', 'consumer', 'view', 'state', 'last read', 'granted', 'sunset'],
          listed.map((c) => [c.product, c.consumer, c.object, c.state, c.lastUsedAt ?? (c.state === 'unknown' ? '?' : 'never'), c.firstGrantedAt, c.sunsetAt]),
        ),
      );
      if (usage.known) out.print(`\n${unused} of ${mine.length} consumer${mine.length === 1 ? '' : 's'} read nothing in ${window} (or since their first grant)`);
    }
    return EXIT.ok;
  } finally {
    await context.close();
    await stopEmbeddedPostgres(project.root);
  }
}

function order(state: 'used' | 'unused' | 'unknown'): number {
  return state === 'unused' ? 0 : state === 'unknown' ? 1 : 2;
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

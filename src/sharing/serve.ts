/**
 * The share serving kind against one environment's warehouse: the reconcile a run does, the next moment the expiry
 * timer must wake, and what it does then (tell the owners of grants about to expire, revoke the expired ones).
 */
import type { AlertStore, PendingDelivery } from '../alerts/index.js';
import { alertChannels } from '../alerts/index.js';
import type { Environment } from '../config/spec.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import type { Product } from '../product/model.js';
import { resolveSecret } from '../product/secret.js';
import type { ShareTarget } from '../product/targets.js';
import type { ServingContext } from '../runtime/serving-context.js';
import type { Warehouse } from '../runtime/warehouse.js';
import { durationMs } from '../time/duration.js';
import { inlineParameters } from '../warehouse/inline.js';
import { DEFAULT_NOTICE, sharePlan } from './plan.js';
import { reconcileShares, type ReconcileResult } from './reconcile.js';


export interface ShareSession {
  warehouse: Warehouse;
  env: ResolvedEnvironment;
  products: readonly Product[];
  /** allTargets: plan every declared share target, also those no run has served yet (`lastmile share plan`) */
  reconcile(options?: { runId?: string; renew?: { product: string; target: string }; dryRun?: boolean; allTargets?: boolean; now?: Date }): Promise<{ consumers: number; ddl: number; summary: string; result: ReconcileResult }>;
}

export async function shareSession(ctx: ServingContext, envName: string): Promise<ShareSession> {
  const warehouse = await ctx.warehouse(envName);
  const env = ctx.resolved(envName);
  const products = [...ctx.products.values()];
  const environment = ctx.environment(envName);
  return {
    warehouse,
    env,
    products,
    async reconcile(options = {}) {
      // one instant for the plan's expiries and the reconcile's usage sample
      const now = options.now ?? new Date();
      const served = new Map<string, string>();
      for (const product of products) {
        if (!product.serve.some((t) => t.kind === 'share')) continue;
        const query = await ctx.servedQuery(product.name, envName);
        // a view cannot take parameters: the served query's values are written in by the one literal helper
        served.set(product.name, inlineParameters(query.text, query.values));
      }
      const salt = environment.sharing?.salt;
      const result = await reconcileShares(
        warehouse.pool,
        ({ history, served: servedTargets }) =>
          sharePlan({
            products,
            env: { name: env.name, production: env.production, schemas: env.warehouse.schemas },
            history,
            ...(!options.allTargets && { served: servedTargets }),
            now,
            servedSql: (product) => served.get(product.name)!,
          }),
        {
          env: env.name,
          embedded: warehouse.embedded,
          ...(salt !== undefined && { salt: resolveSecret(salt, `the data shares of ${env.name}`) }),
          ...(options.runId !== undefined && { runId: options.runId }),
          ...(options.renew && { renew: options.renew }),
          ...(options.dryRun && { dryRun: true }),
          now,
        },
      );
      const mine = options.renew ? result.plan.consumers.filter((c) => c.product === options.renew!.product && c.target === options.renew!.target) : result.plan.consumers;
      const grants = result.changes.filter((c) => c.action === 'grant').length;
      const revokes = result.changes.filter((c) => c.action === 'revoke').length;
      const summary =
        `${mine.length} consumer${mine.length === 1 ? '' : 's'} reading ${[...new Set(mine.map((c) => c.schema))].join(', ') || 'nothing'}` +
        (result.ddl === 0 ? '; nothing to change' : `; ${grants} granted, ${revokes} revoked, ${result.ddl} DDL statements`) +
        (result.changes.some((c) => c.reason === 'drift') ? ` (drift repaired: ${result.changes.filter((c) => c.reason === 'drift').length})` : '');
      return { consumers: mine.length, ddl: result.ddl, summary, result };
    },
  };
}

function shareTarget(products: readonly Product[], product: string, target: string): ShareTarget | undefined {
  const found = products.find((p) => p.name === product)?.serve.find((t) => t.name === target);
  return found?.kind === 'share' ? found : undefined;
}

/**
 * The next expiry, sunset or notice due in the environment (undefined: none is), from the products as the code now
 * declares them — a changed expiry moves it without a run — and each grant's recorded history and notice.
 */
export async function nextShareAt(session: ShareSession, now = new Date()): Promise<Date | undefined> {
  const { result } = await session.reconcile({ dryRun: true, now });
  // an end already past that still holds access (an expiry shortened in code, a timer that was down) is due now
  if (result.changes.some((c) => c.reason === 'expired' || c.reason === 'unused')) return now;
  const { rows } = await session.warehouse.pool.query<{ product: string; target: string; consumer: string; ends_at: Date | null; noticed_at: Date | null }>(
    `select product, target, consumer, least(expires_at, sunset_at) as ends_at, noticed_at from lastmile.share_grants where env = $1 and revoked_at is null`,
    [session.env.name],
  );
  const recorded = new Map(rows.map((r) => [`${r.product}/${r.target}/${r.consumer}`, r] as const));
  let next: number | undefined;
  for (const consumer of result.plan.consumers) {
    const ends = [consumer.expiresAt, consumer.sunsetAt].filter((d): d is Date => d !== null).map((d) => d.getTime());
    if (ends.length === 0) continue;
    const endsAt = Math.min(...ends);
    const row = recorded.get(`${consumer.product}/${consumer.target}/${consumer.consumer}`);
    // told already about this very end: wake at the end; otherwise at the notice ahead of it
    const told = row?.noticed_at != null && row.ends_at?.getTime() === endsAt;
    const at = told ? endsAt : (consumer.noticeAt?.getTime() ?? endsAt);
    next = next === undefined ? at : Math.min(next, at);
  }
  return next === undefined ? undefined : new Date(Math.max(next, now.getTime()));
}

/**
 * Revokes what expired or went unused (the reconcile, which samples usage first), then tells the owners of grants
 * within their notice lead — once per end date — and of grants that ended without a notice (the timer was down).
 */
export async function expireShares(session: ShareSession, store: AlertStore, environment: Environment): Promise<{ pending: Pick<PendingDelivery, 'alertId' | 'event' | 'channel'>[] }> {
  const now = new Date();
  await session.reconcile({ now });
  const { rows } = await session.warehouse.pool.query<{
    product: string;
    target: string;
    consumer: string;
    role: string;
    object: string;
    expires_at: Date | null;
    sunset_at: Date | null;
    revoked_at: Date | null;
    last_used_at: Date | null;
    first_granted_at: Date;
  }>(
    `select product, target, consumer, role, object, expires_at, sunset_at, revoked_at, last_used_at, first_granted_at from lastmile.share_grants
      where env = $1 and noticed_at is null and least(expires_at, sunset_at) is not null
        and (revoked_at is null or revoke_reason in ('expired', 'unused'))`,
    [session.env.name],
  );
  const channels = alertChannels(environment.alerts);
  const told = new Set<string>();
  for (const row of rows) {
    const target = shareTarget(session.products, row.product, row.target);
    const lead = durationMs(target?.noticeBefore ?? DEFAULT_NOTICE);
    const unused = row.sunset_at !== null && (row.expires_at === null || row.sunset_at.getTime() < row.expires_at.getTime());
    const endsAt = unused ? row.sunset_at! : row.expires_at!;
    if (row.revoked_at === null && endsAt.getTime() - lead > now.getTime()) continue;
    const ended = row.revoked_at !== null || endsAt.getTime() <= now.getTime();
    const idle = `not read since ${(row.last_used_at ?? row.first_granted_at).toISOString()}${row.last_used_at ? '' : ' (its first grant)'}`;
    await store.open(
      {
        env: session.env.name,
        product: row.product,
        kind: 'share',
        severity: 'ticket',
        key: `${session.env.name}/${row.product}/share/${row.target}/${row.consumer}/${unused ? 'sunset' : 'expiry'}`,
        message: unused
          ? `${row.product} in ${session.env.name}: consumer ${row.consumer}'s access (role ${row.role}, ${row.object}) ${ended ? 'was revoked' : 'will be revoked'} ` +
            `at ${endsAt.toISOString()} for being unused (${idle}; sunsetAfter ${target?.sunsetAfter ?? '?'}); a read before then keeps it`
          : `${row.product} in ${session.env.name}: consumer ${row.consumer}'s access (role ${row.role}, ${row.object}) ` +
            `${ended ? 'expired' : 'expires'} at ${endsAt.toISOString()}; extend it in the product's share target to keep it`,
        detail: { consumer: row.consumer, role: row.role, object: row.object, endsAt: endsAt.toISOString(), reason: unused ? 'unused' : 'expiry' },
      },
      channels,
    );
    await session.warehouse.pool.query(
      `update lastmile.share_grants set noticed_at = now() where env = $1 and product = $2 and target = $3 and consumer = $4`,
      [session.env.name, row.product, row.target, row.consumer],
    );
    told.add(row.product);
  }
  const pending = [];
  for (const product of told) pending.push(...(await store.pending({ env: session.env.name, product })));
  return { pending: pending.map((p) => ({ alertId: p.alertId, event: p.event, channel: p.channel })) };
}

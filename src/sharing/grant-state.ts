/**
 * `lastmile.share_grants`: one row per consumer of a share target — when it was first granted, when a run last renewed
 * it, when it expires, whether its owner was told, and when and why it was revoked. Expiries are computed from it, so a
 * changed `expires` or `expiresAfter` in code moves them; the expiry timer (workflows/share-expiry.ts) reads it.
 */
import type pg from 'pg';
import { grantKey, type GrantHistory, type GrantRecord, type SharePlan } from './plan.js';

export async function loadGrantHistory(client: pg.ClientBase, env: string): Promise<GrantHistory & Map<string, GrantRecord>> {
  const { rows } = await client.query<{ product: string; target: string; consumer: string; first_granted_at: Date; renewed_at: Date; usage_sampled_at: Date | null; last_used_at: Date | null }>(
    `select product, target, consumer, first_granted_at, renewed_at, usage_sampled_at, last_used_at from lastmile.share_grants where env = $1`,
    [env],
  );
  return new Map(
    rows.map((r) => [
      grantKey(r.product, r.target, r.consumer),
      { firstGrantedAt: r.first_granted_at, renewedAt: r.renewed_at, usageSampledAt: r.usage_sampled_at, lastUsedAt: r.last_used_at },
    ]),
  );
}

/**
 * Records the plan: entitled consumers upserted (first grant kept; renewed when their target is being served now, see
 * `renewed`), expired ones marked revoked with the reason, and consumers no longer declared marked removed.
 */
export async function recordGrantState(client: pg.ClientBase, env: string, plan: SharePlan, history: GrantHistory, renewed: ReadonlySet<string> = new Set()): Promise<void> {
  const declared = new Set<string>();
  const renewNow: boolean[] = [];
  for (const c of plan.consumers) {
    const key = grantKey(c.product, c.target, c.consumer);
    declared.add(key);
    renewNow.push(renewed.has(`${c.product}/${c.target}`) || !history.has(key));
  }
  // one statement for all of them: a reconcile of thousands of consumers is not thousands of round trips
  const list = plan.consumers;
  await client.query(
    // renewed_at '-infinity' in the proposed row: keep the one recorded (a consumer new here is always renewed)
    `insert into lastmile.share_grants (env, product, target, consumer, role, object, expires_at, sunset_at, renewed_at)
     select $1, r.product, r.target, r.consumer, r.role, r.object, r.expires_at, r.sunset_at, case when r.renew then now() else '-infinity'::timestamptz end
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::boolean[])
            as r(product, target, consumer, role, object, expires_at, sunset_at, renew)
     on conflict (env, product, target, consumer) do update
        set role = excluded.role, object = excluded.object, expires_at = excluded.expires_at, sunset_at = excluded.sunset_at,
            renewed_at = case when excluded.renewed_at = '-infinity'::timestamptz then lastmile.share_grants.renewed_at else excluded.renewed_at end,
            noticed_at = case when least(lastmile.share_grants.expires_at, lastmile.share_grants.sunset_at) is distinct from least(excluded.expires_at, excluded.sunset_at)
                              then null else lastmile.share_grants.noticed_at end,
            revoked_at = null, revoke_reason = null`,
    [
      env,
      list.map((c) => c.product),
      list.map((c) => c.target),
      list.map((c) => c.consumer),
      list.map((c) => c.role),
      list.map((c) => `${c.schema}.${c.view}`),
      list.map((c) => c.expiresAt),
      list.map((c) => c.sunsetAt),
      renewNow,
    ],
  );
  for (const c of plan.expired) {
    declared.add(grantKey(c.product, c.target, c.consumer));
    await client.query(
      `update lastmile.share_grants set revoked_at = coalesce(revoked_at, now()), revoke_reason = coalesce(revoke_reason, $6), expires_at = $5, sunset_at = $7
        where env = $1 and product = $2 and target = $3 and consumer = $4`,
      [env, c.product, c.target, c.consumer, c.expiresAt, c.endReason ?? 'expired', c.sunsetAt],
    );
  }
  const { rows } = await client.query<{ product: string; target: string; consumer: string }>(
    `select product, target, consumer from lastmile.share_grants where env = $1 and revoked_at is null`,
    [env],
  );
  for (const row of rows) {
    if (declared.has(grantKey(row.product, row.target, row.consumer))) continue;
    await client.query(
      `update lastmile.share_grants set revoked_at = now(), revoke_reason = 'removed' where env = $1 and product = $2 and target = $3 and consumer = $4`,
      [env, row.product, row.target, row.consumer],
    );
  }
}

/**
 * Sets each consumer's sunset from its usage as sampled (`sunsetAfter` past its first grant or last read; none while
 * usage is unknown), clearing the notice when the date moved (a read pushed it back).
 */
export async function refreshSunsets(client: pg.ClientBase, env: string, plan: SharePlan): Promise<void> {
  const withSunset = plan.consumers.filter((c) => c.sunsetAfterMs !== null);
  await client.query(
    `with wanted as (
       select g.env, g.product, g.target, g.consumer,
              case when g.usage_sampled_at is null or r.ms is null then null
                   else greatest(g.first_granted_at, coalesce(g.last_used_at, g.first_granted_at)) + make_interval(secs => r.ms / 1000.0) end as sunset_at
         from lastmile.share_grants g
         left join unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) as r(product, target, consumer, ms)
           on r.product = g.product and r.target = g.target and r.consumer = g.consumer
        where g.env = $1 and g.revoked_at is null)
     update lastmile.share_grants g
        set sunset_at = w.sunset_at,
            noticed_at = case when least(g.expires_at, g.sunset_at) is distinct from least(g.expires_at, w.sunset_at) then null else g.noticed_at end
       from wanted w
      where g.env = w.env and g.product = w.product and g.target = w.target and g.consumer = w.consumer and g.sunset_at is distinct from w.sunset_at`,
    [env, withSunset.map((c) => c.product), withSunset.map((c) => c.target), withSunset.map((c) => c.consumer), withSunset.map((c) => c.sunsetAfterMs)],
  );
}

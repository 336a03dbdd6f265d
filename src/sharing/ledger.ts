/** Every grant and revoke of a reconcile in `lastmile.grants_ledger`: what, to whom, why, which run, when. */
import type pg from 'pg';
import { key } from './catalog.js';
import type { SharePlan } from './plan.js';
import type { ShareChange } from './change.js';

export async function ledgerChanges(client: pg.ClientBase, env: string, runId: string | undefined, changes: readonly ShareChange[], plan: SharePlan): Promise<void> {
  const byView = new Map(plan.consumers.map((c) => [key(c.schema, c.view), c] as const));
  // new grants go in one statement (a first apply makes thousands); the rare revokes and restores one by one
  const inserts: { product: string; target: string; grantee: string; object: string; privileges: string[]; expiresAt: Date | null; revoked: boolean; detail: string }[] = [];
  for (const change of changes) {
    if ((change.action !== 'grant' && change.action !== 'revoke') || !change.grantee) continue;
    const consumer = byView.get(change.object);
    const product = change.product ?? consumer?.product ?? '-';
    const target = change.target ?? consumer?.target ?? '-';
    const detail = JSON.stringify({ reason: change.reason, consumer: change.consumer ?? null, privileges: change.privileges ?? [] });
    const row = { product, target, grantee: change.grantee, object: change.object, privileges: change.privileges ?? [], expiresAt: consumer?.expiresAt ?? null, detail };
    if (change.action === 'grant') {
      // restoring a grant revoked by hand: the old grant ended outside lastmile
      if (change.reason === 'drift') {
        await client.query(
          `update lastmile.grants_ledger set revoked_at = now(), detail = coalesce(detail, '{}'::jsonb) || jsonb_build_object('revokedBecause', 'revoked outside lastmile')
            where env = $1 and grantee = $2 and object = $3 and revoked_at is null`,
          [env, change.grantee, change.object],
        );
      }
      inserts.push({ ...row, revoked: false });
    } else {
      const closed = await client.query(
        `update lastmile.grants_ledger set revoked_at = now(), detail = coalesce(detail, '{}'::jsonb) || jsonb_build_object('revokedBecause', $4::text)
          where env = $1 and grantee = $2 and object = $3 and revoked_at is null`,
        [env, change.grantee, change.object, change.reason],
      );
      // a grant lastmile never made (added by hand): its revoke is recorded as such
      if ((closed.rowCount ?? 0) === 0) inserts.push({ ...row, expiresAt: null, revoked: true });
    }
  }
  if (inserts.length === 0) return;
  await client.query(
    `insert into lastmile.grants_ledger (env, product, target, grantee, object, privileges, expires_at, revoked_at, run_id, detail)
     select $1, r.product, r.target, r.grantee, r.object, array(select jsonb_array_elements_text(r.privileges)), r.expires_at,
            case when r.revoked then now() end, $2, r.detail
       from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[], $9::boolean[], $10::jsonb[])
            as r(product, target, grantee, object, privileges, expires_at, revoked, detail)`,
    [
      env,
      runId ?? null,
      inserts.map((r) => r.product),
      inserts.map((r) => r.target),
      inserts.map((r) => r.grantee),
      inserts.map((r) => r.object),
      inserts.map((r) => JSON.stringify(r.privileges)),
      inserts.map((r) => r.expiresAt),
      inserts.map((r) => r.revoked),
      inserts.map((r) => r.detail),
    ],
  );
}


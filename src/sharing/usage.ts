/**
 * Who reads their shares: the statements each consumer ran against its view, from the warehouse's
 * `pg_stat_statements` (loaded by the embedded PostgreSQL; in another warehouse, where the extension is installed and
 * lastmile's user may read every user's statements). Without it usage is unknown — never zero — and nothing is
 * sunset.
 *
 * pg_stat_statements keeps running totals per statement and user, not times, so usage is sampled: each sample
 * compares a consumer's total with the previous one, less the reads lastmile itself made through the consumer's role
 * (the reconcile's probe, `lastmile access --as`); a rise means the consumer read its view since. A reset of the
 * statistics (a crash, `pg_stat_statements_reset()`, entries evicted) cannot tell, so it counts as a read: an
 * uncertain sample never takes access away.
 */
import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../warehouse/quote.js';
import { PRIVATE_SCHEMA, RECONCILE_LOCK } from './names.js';
import { ensurePrivateSchema } from './private-schema.js';
import { grantKey, type ConsumerPlan } from './plan.js';

export type UsageSource = { available: true; schema: string } | { available: false; reason: string };

/** A consumer's view, as the sampler needs it. */
export type UsageView = Pick<ConsumerPlan, 'product' | 'target' | 'consumer' | 'role' | 'schema' | 'view'>;

/** The consumers that hold access now, as `lastmile.share_grants` records them (what usage is sampled for). */
export async function grantedViews(client: pg.ClientBase, env: string): Promise<UsageView[]> {
  const { rows } = await client.query<{ product: string; target: string; consumer: string; role: string; object: string }>(
    `select product, target, consumer, role, object from lastmile.share_grants where env = $1 and revoked_at is null`,
    [env],
  );
  return rows.map((r) => {
    const dot = r.object.indexOf('.');
    return { product: r.product, target: r.target, consumer: r.consumer, role: r.role, schema: r.object.slice(0, dot), view: r.object.slice(dot + 1) };
  });
}

async function extensionSchema(client: pg.ClientBase): Promise<string | undefined> {
  const found = await client.query<{ schema: string }>(`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_stat_statements'`);
  return found.rows[0]?.schema;
}

/**
 * Installs pg_stat_statements in lastmile's private schema when the server has it loaded and the database lacks it
 * (the embedded warehouse), through the reconcile's `run` (so it counts as DDL, and a dry run changes nothing).
 */
export async function ensureUsageTracking(client: pg.ClientBase, embedded: boolean, run: (text: string) => Promise<void>): Promise<void> {
  if (!embedded || (await extensionSchema(client)) !== undefined) return;
  const loaded = await client.query<{ libs: string }>(`select current_setting('shared_preload_libraries') as libs`);
  if (!loaded.rows[0]!.libs.split(',').some((lib) => lib.trim() === 'pg_stat_statements')) return;
  await ensurePrivateSchema(client, run);
  await run(`create extension pg_stat_statements with schema ${quoteIdent(PRIVATE_SCHEMA)}`);
}

/** Whether usage can be read here, and where from; the reason when it cannot. */
export async function usageSource(client: pg.ClientBase): Promise<UsageSource> {
  const schema = await extensionSchema(client);
  if (schema === undefined) return { available: false, reason: 'the warehouse has no pg_stat_statements extension in this database' };
  await client.query('savepoint lastmile_usage');
  try {
    await client.query(`select 1 from ${quoteQualified(schema, 'pg_stat_statements')} limit 1`);
    await client.query('release savepoint lastmile_usage');
  } catch (error) {
    await client.query('rollback to savepoint lastmile_usage');
    return { available: false, reason: `pg_stat_statements cannot be read: ${(error as Error).message}` };
  }
  return { available: true, schema };
}

/** What identifies one lifetime of the statistics: a change means totals were lost (reset or evicted). */
async function statisticsMarker(client: pg.ClientBase, schema: string): Promise<string> {
  await client.query('savepoint lastmile_usage_info');
  try {
    const info = await client.query<{ marker: string }>(`select coalesce(stats_reset::text, '') || '/' || dealloc::text as marker from ${quoteQualified(schema, 'pg_stat_statements_info')}`);
    await client.query('release savepoint lastmile_usage_info');
    return info.rows[0]?.marker ?? '';
  } catch {
    // before pg_stat_statements 1.9 there is no _info view: only a fall in a total shows a reset
    await client.query('rollback to savepoint lastmile_usage_info');
    return '';
  }
}

export interface ViewCalls {
  /** statements run against each consumer's view by its role or a member of it, by `product/target/consumer` */
  calls: Map<string, number>;
  marker: string;
}

/**
 * The running totals of statements each consumer (its role, or a login that is a member of it) ran against its view.
 * A statement is attributed to a view it names; `undefined` when the statistics hide other users' statements.
 */
export async function readViewCalls(client: pg.ClientBase, source: Extract<UsageSource, { available: true }>, views: readonly UsageView[]): Promise<ViewCalls | { hidden: string }> {
  const marker = await statisticsMarker(client, source.schema);
  const { rows } = await client.query<{ userid: string; query: string; calls: string }>(
    `select userid::text as userid, query, calls::text as calls from ${quoteQualified(source.schema, 'pg_stat_statements')}
      where dbid = (select oid from pg_database where datname = current_database())`,
  );
  if (rows.some((r) => r.query === '<insufficient privilege>')) {
    return { hidden: "lastmile's database user cannot see other users' statements in pg_stat_statements (grant it pg_read_all_stats)" };
  }
  const byName = new Map<string, UsageView[]>();
  for (const view of views) {
    const list = byName.get(view.view) ?? [];
    list.push(view);
    byName.set(view.view, list);
  }
  // (user, view) pairs a statement names, then which users act for the view's role
  const hits: { userid: string; view: UsageView; calls: number }[] = [];
  for (const row of rows) {
    const text = row.query.toLowerCase();
    const tokens = new Set(text.match(/[a-z0-9_$]+/g) ?? []);
    for (const token of tokens) {
      for (const view of byName.get(token) ?? []) {
        // two share schemas may hold a view of the same name: the statement must name this one's schema too, when it names any
        if ((byName.get(token)?.length ?? 0) > 1 && !tokens.has(view.schema)) continue;
        hits.push({ userid: row.userid, view, calls: Number(row.calls) });
      }
    }
  }
  const calls = new Map<string, number>(views.map((v) => [grantKey(v.product, v.target, v.consumer), 0]));
  if (hits.length > 0) {
    const members = await client.query<{ i: number; member: boolean }>(
      // lastmile's own user and superusers are members of every role: their statements (the DDL of a reconcile) are not a consumer's
      `select i::int, pg_has_role(u::oid, r, 'member') as member from unnest($1::text[], $2::text[]) with ordinality as h(u, r, i)
        where exists (select 1 from pg_roles where rolname = r)
          and exists (select 1 from pg_roles where oid = u::oid and not rolsuper and rolname <> current_user)`,
      [hits.map((h) => h.userid), hits.map((h) => h.view.role)],
    );
    for (const row of members.rows) {
      if (!row.member) continue;
      const hit = hits[row.i - 1]!;
      const k = grantKey(hit.view.product, hit.view.target, hit.view.consumer);
      calls.set(k, (calls.get(k) ?? 0) + hit.calls);
    }
  }
  return { calls, marker };
}

/** The usage columns of `lastmile.share_grants` for one consumer. */
export interface UsageState {
  usageSampledAt: Date | null;
  lastUsedAt: Date | null;
}

/**
 * Samples usage into `lastmile.share_grants` (inside the caller's transaction): a consumer whose total rose beyond
 * lastmile's own reads since the previous sample read its view since then. Returns whether usage is known, and why
 * not.
 */
export async function sampleUsage(client: pg.ClientBase, env: string, views: readonly UsageView[], now: Date): Promise<{ known: boolean; reason?: string }> {
  const source = await usageSource(client);
  if (!source.available) return { known: false, reason: source.reason };
  const read = await readViewCalls(client, source, views);
  if ('hidden' in read) return { known: false, reason: read.hidden };
  const { rows } = await client.query<{ product: string; target: string; consumer: string; usage_calls: string | null; usage_own_calls: string; usage_marker: string | null }>(
    `select product, target, consumer, usage_calls::text, usage_own_calls::text, usage_marker from lastmile.share_grants where env = $1 and revoked_at is null`,
    [env],
  );
  const updates: { product: string; target: string; consumer: string; total: number; used: boolean }[] = [];
  for (const row of rows) {
    const k = grantKey(row.product, row.target, row.consumer);
    const total = read.calls.get(k);
    if (total === undefined) continue;
    const before = row.usage_calls === null ? null : Number(row.usage_calls);
    const own = Number(row.usage_own_calls);
    const reset = before !== null && (total < before || (row.usage_marker !== null && row.usage_marker !== read.marker));
    // the first sample cannot know what came before it: reads it sees beyond lastmile's own count as recent
    updates.push({ product: row.product, target: row.target, consumer: row.consumer, total, used: reset || total - (before ?? 0) - own > 0 });
  }
  if (updates.length > 0) {
    await client.query(
      `update lastmile.share_grants g set usage_calls = u.total, usage_own_calls = 0, usage_marker = $2, usage_sampled_at = $3,
              last_used_at = case when u.used then $3 else g.last_used_at end
         from unnest($4::text[], $5::text[], $6::text[], $7::bigint[], $8::boolean[]) as u(product, target, consumer, total, used)
        where g.env = $1 and g.product = u.product and g.target = u.target and g.consumer = u.consumer`,
      [env, read.marker, now, updates.map((u) => u.product), updates.map((u) => u.target), updates.map((u) => u.consumer), updates.map((u) => u.total), updates.map((u) => u.used)],
    );
  }
  return { known: true };
}

/** Counts reads lastmile made through consumers' roles, so the next sample does not take them for the consumers'. */
export async function countOwnReads(client: pg.ClientBase | pg.Pool, env: string, reads: readonly { product: string; target: string; consumer: string; statements: number }[]): Promise<void> {
  if (reads.length === 0) return;
  await client.query(
    `update lastmile.share_grants g set usage_own_calls = g.usage_own_calls + r.n
       from unnest($2::text[], $3::text[], $4::text[], $5::int[]) as r(product, target, consumer, n)
      where g.env = $1 and g.product = r.product and g.target = r.target and g.consumer = r.consumer`,
    [env, reads.map((r) => r.product), reads.map((r) => r.target), reads.map((r) => r.consumer), reads.map((r) => r.statements)],
  );
}

export interface ConsumerUsage {
  product: string;
  target: string;
  consumer: string;
  role: string;
  object: string;
  firstGrantedAt: string;
  /** the last sample that saw a read (null: none seen since the first grant) */
  lastUsedAt: string | null;
  /** when access goes for being unused (null: no sunsetAfter, or usage unknown) */
  sunsetAt: string | null;
  /** unknown: the warehouse cannot say; unused: no read seen since the first grant or since `idleSince` */
  state: 'used' | 'unused' | 'unknown';
  idleSince: string | null;
}

/**
 * Samples usage now (one short transaction, serialized with the reconciles) and lists every consumer holding access
 * with when it last read its view. A consumer is `unused` when no read was seen for `unusedFor` ms (or ever).
 */
export async function shareUsage(pool: pg.Pool, env: string, unusedFor: number, now = new Date()): Promise<{ known: boolean; reason?: string; consumers: ConsumerUsage[] }> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [RECONCILE_LOCK]);
    const sampled = await sampleUsage(client, env, await grantedViews(client, env), now);
    await client.query('commit');
    const { rows } = await client.query<{ product: string; target: string; consumer: string; role: string; object: string; first_granted_at: Date; last_used_at: Date | null; sunset_at: Date | null; usage_sampled_at: Date | null }>(
      `select product, target, consumer, role, object, first_granted_at, last_used_at, sunset_at, usage_sampled_at from lastmile.share_grants
        where env = $1 and revoked_at is null order by product, target, consumer`,
      [env],
    );
    return {
      ...sampled,
      consumers: rows.map((r) => {
        const since = r.last_used_at ?? r.first_granted_at;
        const state = !sampled.known || r.usage_sampled_at === null ? 'unknown' : r.last_used_at === null || now.getTime() - since.getTime() >= unusedFor ? 'unused' : 'used';
        return {
          product: r.product,
          target: r.target,
          consumer: r.consumer,
          role: r.role,
          object: r.object,
          firstGrantedAt: r.first_granted_at.toISOString(),
          lastUsedAt: r.last_used_at?.toISOString() ?? null,
          sunsetAt: r.sunset_at?.toISOString() ?? null,
          state,
          idleSince: state === 'unused' ? since.toISOString() : null,
        };
      }),
    };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Keeps the rest of the caller's transaction out of pg_stat_statements where lastmile's user may (a superuser, or
 * granted SET on the parameter): its reads through consumers' roles are then no one's use. Returns false where it
 * may not — those reads must be counted with `countOwnReads`.
 */
export async function untrackedHere(client: pg.ClientBase): Promise<boolean> {
  await client.query('savepoint lastmile_untracked');
  try {
    await client.query(`set local pg_stat_statements.track = 'none'`);
    await client.query('release savepoint lastmile_untracked');
    return true;
  } catch {
    await client.query('rollback to savepoint lastmile_untracked');
    return false;
  }
}

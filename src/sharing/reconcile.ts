/**
 * Makes an environment's shares what the products declare, in one transaction, one reconcile at a time per
 * database: creates the owner and consumer roles (NOLOGIN; a real warehouse's consumer roles must exist), the share
 * schemas and one security-barrier view per consumer; grants exactly what is declared and revokes whatever else it
 * finds on what lastmile owns — a grant added by hand is revoked, one revoked by hand restored; drops the views of
 * consumers removed or expired. Every grant and revoke goes to `lastmile.grants_ledger`. Nothing that already is as
 * declared is touched: a re-apply without changes issues no DDL at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { InputError } from '../errors.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../warehouse/quote.js';
import { key, readCatalog, SCHEMA_MARK, viewComment } from './catalog.js';
import { keyPads } from './masks.js';
import { PRIVATE_SCHEMA, RECONCILE_LOCK } from './names.js';
import type { ConsumerPlan, GrantHistory, SharePlan } from './plan.js';
import { loadGrantHistory, recordGrantState, refreshSunsets } from './grant-state.js';
import type { ShareChange } from './change.js';
import { ledgerChanges } from './ledger.js';
import { ensurePrivateSchema } from './private-schema.js';
import { probeReaders } from './probe.js';
import { countOwnReads, ensureUsageTracking, grantedViews, sampleUsage, untrackedHere } from './usage.js';

const BATCH = 200;

export type { ShareChange };

export interface ReconcileResult {
  changes: ShareChange[];
  /** DDL statements issued (0 when everything already was as declared) */
  ddl: number;
  /** the consumers whose view was read through their role (the ones changed) where the statistics counted it */
  probed: ConsumerPlan[];
  plan: SharePlan;
  /** whether usage could be sampled (pg_stat_statements), and why not */
  usage: { known: boolean; reason?: string };
}

export interface ReconcileOptions {
  env: string;
  /** the warehouse is lastmile's embedded one: consumer roles may be created (NOLOGIN) */
  embedded: boolean;
  /** the salt of keyed-hash masks (from a secret); without it, a random salt is made once per environment */
  salt?: string;
  runId?: string;
  /** the target a run is serving now: its consumers' access is renewed (`expiresAfter` counts from now) */
  renew?: { product: string; target: string };
  /** only compute and return the changes (`lastmile share plan`) */
  dryRun?: boolean;
  /** the time expiries and sunsets are judged at (default now) */
  now?: Date;
}

/** What the plan needs to know of the warehouse. */
export interface PlanContext {
  history: GrantHistory;
  /** `product/target` of the share targets served at least once (and the one being served now) */
  served: ReadonlySet<string>;
}

/** Serialized per database: concurrent runs of share targets apply one after the other. */
export async function reconcileShares(pool: pg.Pool, makePlan: (context: PlanContext) => SharePlan, options: ReconcileOptions): Promise<ReconcileResult> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [RECONCILE_LOCK]);
    // lastmile's statements (thousands of DDL in a first apply, the probes through consumers' roles) stay out of
    // pg_stat_statements where it may say so: they would evict the consumers' own entries, which usage is read from
    const untracked = await untrackedHere(client);
    const now = options.now ?? new Date();
    const usage = await sampleUsage(client, options.env, await grantedViews(client, options.env), now);
    const history = await loadGrantHistory(client, options.env);
    // every target with a grant record was served once (product and target names hold no '/')
    const served = new Set([...history.keys()].map((k) => k.split('/', 2).join('/')));
    if (options.renew) served.add(`${options.renew.product}/${options.renew.target}`);
    const plan = makePlan({ history, served });
    const result = await apply(client, plan, options, untracked);
    if (options.dryRun) await client.query('rollback');
    else {
      await recordGrantState(client, options.env, plan, history, new Set(options.renew ? [`${options.renew.product}/${options.renew.target}`] : []));
      // the probe read each view through its consumer's role: not the consumer's use
      await countOwnReads(client, options.env, result.probed.map((c) => ({ product: c.product, target: c.target, consumer: c.consumer, statements: 1 })));
      // a first grant's baseline (what its statistics say now), then every sunset from the usage as sampled
      await sampleUsage(client, options.env, await grantedViews(client, options.env), now);
      await refreshSunsets(client, options.env, plan);
      await client.query('commit');
    }
    return { ...result, plan, usage };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function apply(client: pg.ClientBase, plan: SharePlan, options: ReconcileOptions, untracked: boolean): Promise<Omit<ReconcileResult, 'plan' | 'usage'>> {
  const changes: ShareChange[] = [];
  let ddl = 0;
  // Statements are sent one by one, except in the views section, which reads nothing: there they go in batches of
  // up to BATCH statements per round trip (a first apply of 10,000 views is 40,000 statements).
  let batch: string[] | undefined;
  const flush = async (): Promise<void> => {
    if (!batch || batch.length === 0) return;
    const text = batch.join(';\n');
    batch = [];
    await client.query(text);
  };
  const run = async (text: string, change?: ShareChange): Promise<void> => {
    if (change) changes.push(change);
    if (options.dryRun) return;
    ddl += 1;
    if (!batch) return void (await client.query(text));
    batch.push(text);
    if (batch.length >= BATCH) await flush();
  };
  const consumerRoles = [...new Set(plan.consumers.map((c) => c.role))];
  const catalog = await readCatalog(client, [...plan.schemas.keys()], [plan.ownerRole, ...consumerRoles]);
  // grants lastmile made and has not revoked: one the catalog lacks was revoked by hand (drift)
  const granted = new Set(
    (await client.query<{ grantee: string; object: string }>(`select grantee, object from lastmile.grants_ledger where env = $1 and revoked_at is null`, [options.env])).rows.map(
      (r) => `${r.grantee}|${r.object}`,
    ),
  );

  // usage statistics (the embedded warehouse); a first reconcile samples them from its baseline on
  await ensureUsageTracking(client, options.embedded, run);
  // the owner role, and the roles consumers read through
  if (!catalog.roles.has(plan.ownerRole)) await run(`create role ${quoteIdent(plan.ownerRole)} nologin`, { action: 'create role', object: plan.ownerRole, reason: 'declared' });
  const missing = consumerRoles.filter((role) => !catalog.roles.has(role));
  if (missing.length > 0 && !options.embedded) {
    throw new InputError(
      `the warehouse of ${options.env} has no role ${missing.join(', ')}: lastmile grants to existing roles and never makes logins or passwords there. ` +
        `Create each (create role <name> nologin; then grant it to the consumer's login), or name an existing one with the consumer's role: '...'.`,
    );
  }
  for (const role of missing) await run(`create role ${quoteIdent(role)} nologin`, { action: 'create role', object: role, reason: 'declared' });
  for (const role of consumerRoles) {
    const attributes = catalog.roles.get(role);
    if (attributes?.superuser || attributes?.bypassRls) {
      throw new InputError(`the role ${role} is a superuser or bypasses row security: it would see everything, so a share does not grant to it; use a least-privilege role`);
    }
  }

  await ensurePrivate(client, plan, options, run);
  await ensureOwnerReads(client, plan, run);

  // schemas: owned by the owner role, USAGE for exactly the consumer roles that read a view in them
  for (const [schema, roles] of plan.schemas) {
    const found = catalog.schemas.get(schema);
    if (!found) {
      await run(`create schema ${quoteIdent(schema)} authorization ${quoteIdent(plan.ownerRole)}`, { action: 'create schema', object: schema, reason: 'declared' });
      await run(`comment on schema ${quoteIdent(schema)} is ${quoteLiteral(SCHEMA_MARK)}`);
    } else if (!found.marked || found.owner !== plan.ownerRole) {
      throw new InputError(`the schema ${schema} already exists and is not a lastmile share schema (owner ${found.owner}); give the share another 'to', or drop the schema`);
    }
    const endedHere = new Map(plan.expired.filter((c) => c.schema === schema).map((c) => [c.role, c.endReason ?? 'expired'] as const));
    await reconcileGrants(found?.grants ?? new Map(), new Map([...roles].map((role) => [role, ['USAGE']])), `schema ${quoteIdent(schema)}`, schema, run, granted, 'declared', undefined, endedHere);
  }
  // schemas lastmile made that nothing declares any more: nobody keeps USAGE on them
  for (const schema of catalog.schemas.values()) {
    if (schema.marked && !plan.schemas.has(schema.name)) await reconcileGrants(schema.grants, new Map(), `schema ${quoteIdent(schema.name)}`, schema.name, run, granted, 'removed');
  }

  // views, one per consumer; the ones whose view or grants change here (all, when roles, schemas or the owner's reads changed) are probed
  const desired = new Map(plan.consumers.map((c) => [key(c.schema, c.view), c] as const));
  const probeAll = ddl > 0 || options.dryRun === true;
  const touched: ConsumerPlan[] = [];
  batch = [];
  for (const consumer of plan.consumers) {
    const before = ddl;
    await reconcileView(consumer);
    if (probeAll || ddl > before) touched.push(consumer);
  }
  async function reconcileView(consumer: ConsumerPlan): Promise<void> {
    const id = key(consumer.schema, consumer.view);
    const found = catalog.views.get(id);
    const hash = viewHash(consumer, plan.ownerRole);
    const stale = found !== undefined && (found.mark?.hash !== hash || !found.securityBarrier || found.owner !== plan.ownerRole || readsElsewhere(found.reads, consumer));
    if (found && !found.mark) throw new InputError(`${id} exists and is not lastmile's; rename the consumer or drop that view`);
    if (!found || stale) await createView(consumer, hash, plan.ownerRole, Boolean(found), run);
    const declared = new Map([[consumer.role, ['SELECT']]]);
    // a recreated view starts with no grants; a kept one keeps what it has
    await reconcileGrants(!found || stale ? new Map() : found.grants, declared, `table ${quoteQualified(consumer.schema, consumer.view)}`, id, run, stale ? new Set() : granted, 'declared', consumer);
    if (found && !stale) {
      for (const role of found.columnGrants.keys()) {
        if (declared.has(role) && found.grants.has(role)) continue;
        await run(`revoke all on table ${quoteQualified(consumer.schema, consumer.view)} from ${grantee(role)}`, { action: 'revoke', object: id, grantee: role, privileges: ['column'], reason: 'drift' });
      }
    }
  }
  // the views of consumers that were removed or whose access expired
  const ended = new Map(plan.expired.map((c) => [key(c.schema, c.view), c.endReason ?? 'expired'] as const));
  for (const [id, view] of catalog.views) {
    if (!view.mark || desired.has(id)) continue;
    const reason = ended.get(id) ?? 'removed';
    for (const [role, privileges] of view.grants) changes.push({ action: 'revoke', object: id, grantee: role, privileges: [...privileges], reason, ...markOf(view.mark) });
    await run(`drop view ${quoteQualified(view.schema, view.name)}`, { action: 'drop view', object: id, reason, ...markOf(view.mark) });
  }
  await flush();
  batch = undefined;
  if (!options.dryRun) {
    await ledgerChanges(client, options.env, options.runId, changes, plan);
    // the probes are lastmile's reads, not the consumers': kept out of the statistics, or counted
    await probeReaders(client, touched);
    return { changes, ddl, probed: untracked ? [] : touched };
  }
  return { changes, ddl, probed: [] };
}

function markOf(mark: { product: string; target: string; consumer: string }): Pick<ShareChange, 'product' | 'target' | 'consumer'> {
  return { product: mark.product, target: mark.target, consumer: mark.consumer };
}

/** What a view is made of; a change of any part recreates it. */
function viewHash(consumer: ConsumerPlan, owner: string): string {
  return createHash('sha256').update(JSON.stringify({ sql: consumer.sql, owner, barrier: true })).digest('hex').slice(0, 16);
}

/** The view reads a relation the plan does not name (a dashboard object swapped out under it): make it again. */
function readsElsewhere(reads: readonly string[], consumer: ConsumerPlan): boolean {
  const expected = new Set([...consumer.reads.map((r) => `${r.schema}.${r.name}`), `${PRIVATE_SCHEMA}.salt`]);
  return reads.some((relation) => !expected.has(relation));
}

async function createView(consumer: ConsumerPlan, hash: string, owner: string, replace: boolean, run: (text: string, change?: ShareChange) => Promise<void>): Promise<void> {
  const name = quoteQualified(consumer.schema, consumer.view);
  const about = { object: key(consumer.schema, consumer.view), reason: 'declared', consumer: consumer.consumer, product: consumer.product, target: consumer.target };
  // drop and create: a view's columns cannot change in place, and a recreated view has no grants but the ones given next
  if (replace) await run(`drop view ${name}`, { action: 'replace view', ...about });
  await run(`create view ${name} with (security_barrier = true) as\n${consumer.sql}`, replace ? undefined : { action: 'create view', ...about });
  await run(`alter view ${name} owner to ${quoteIdent(owner)}`);
  await run(`comment on view ${name} is ${quoteLiteral(viewComment({ product: consumer.product, target: consumer.target, consumer: consumer.consumer, hash }))}`);
}

/** Grants what is declared on `object` and revokes what is not (from anyone but its owner). */
async function reconcileGrants(
  actual: ReadonlyMap<string, ReadonlySet<string>>,
  declared: ReadonlyMap<string, readonly string[]>,
  object: string,
  label: string,
  run: (text: string, change?: ShareChange) => Promise<void>,
  granted: ReadonlySet<string>,
  reason = 'declared',
  consumer?: ConsumerPlan,
  /** roles whose access here ended (expired, unused), with why: their revoke says so rather than drift */
  endedRoles: ReadonlyMap<string, string> = new Map(),
): Promise<void> {
  const about = consumer ? { consumer: consumer.consumer, product: consumer.product, target: consumer.target } : {};
  for (const [role, privileges] of actual) {
    const wanted = declared.get(role) ?? [];
    const extra = [...privileges].filter((p) => !wanted.includes(p));
    if (extra.length === 0) continue;
    // a privilege lastmile granted that is no longer declared was removed; one it never granted was added by hand
    const why = declared.has(role) ? 'drift' : (endedRoles.get(role) ?? (granted.has(`${role}|${label}`) ? (reason === 'declared' ? 'removed' : reason) : 'drift'));
    await run(`revoke ${extra.join(', ')} on ${object} from ${grantee(role)}`, { action: 'revoke', object: label, grantee: role, privileges: extra, reason: why, ...about });
  }
  for (const [role, privileges] of declared) {
    const have = actual.get(role) ?? new Set<string>();
    const missing = privileges.filter((p) => !have.has(p));
    if (missing.length === 0) continue;
    await run(`grant ${missing.join(', ')} on ${object} to ${grantee(role)}`, { action: 'grant', object: label, grantee: role, privileges: missing, reason: granted.has(`${role}|${label}`) ? 'drift' : 'declared', ...about });
  }
}

function grantee(role: string): string {
  return role === 'public' ? 'public' : quoteIdent(role);
}

/**
 * lastmile's private schema and the salt with its HMAC pads (made once; replaced when the environment's secret
 * changes; a random salt, made when there is no secret, is kept).
 */
async function ensurePrivate(client: pg.ClientBase, plan: SharePlan, options: ReconcileOptions, run: (text: string) => Promise<void>): Promise<void> {
  if (plan.consumers.length === 0) return;
  await ensurePrivateSchema(client, run);
  const table = quoteQualified(PRIVATE_SCHEMA, 'salt');
  const columns = new Set(
    (
      await client.query<{ name: string }>(
        `select a.attname as name from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and c.relname = 'salt' and a.attnum > 0 and not a.attisdropped`,
        [PRIVATE_SCHEMA],
      )
    ).rows.map((r) => r.name),
  );
  if (columns.size === 0) await run(`create table ${table} (salt bytea not null, ipad bytea not null, opad bytea not null)`);
  else if (!columns.has('ipad') || !columns.has('opad')) await run(`alter table ${table} add column if not exists ipad bytea, add column if not exists opad bytea`);
  if (options.dryRun && columns.size === 0) return;
  const wanted = options.salt !== undefined ? createHash('sha256').update(options.salt).digest() : undefined;
  const stored = (await client.query<{ salt: Buffer; ipad: Buffer | null }>(`select salt, ${columns.has('ipad') || columns.size === 0 ? 'ipad' : 'null::bytea as ipad'} from ${table}`)).rows;
  if (options.dryRun) return;
  const salt = wanted && (stored.length === 0 || !stored[0]!.salt.equals(wanted)) ? wanted : (stored[0]?.salt ?? randomBytes(32));
  if (stored.length === 1 && stored[0]!.salt.equals(salt) && stored[0]!.ipad !== null) return;
  const pads = keyPads(salt);
  await client.query(`delete from ${table}`);
  await client.query(`insert into ${table} (salt, ipad, opad) values ($1, $2, $3)`, [salt, pads.ipad, pads.opad]);
}

/** The owner role reads the products' source relations and the salt — and nothing is granted twice. */
async function ensureOwnerReads(client: pg.ClientBase, plan: SharePlan, run: (text: string, change?: ShareChange) => Promise<void>): Promise<void> {
  if (plan.consumers.length === 0) return;
  const relations = new Map<string, { schema: string; name: string }>();
  for (const consumer of plan.consumers) for (const ref of consumer.reads) relations.set(`${ref.schema}.${ref.name}`, ref);
  relations.set(`${PRIVATE_SCHEMA}.salt`, { schema: PRIVATE_SCHEMA, name: 'salt' });
  const schemas = new Set([...relations.values()].map((r) => r.schema));
  const owner = plan.ownerRole;
  for (const schema of schemas) {
    const ok = await client.query<{ ok: boolean }>(`select has_schema_privilege($1, $2, 'USAGE') as ok`, [owner, schema]).catch(() => ({ rows: [{ ok: false }] }));
    if (!ok.rows[0]?.ok) await run(`grant usage on schema ${quoteIdent(schema)} to ${quoteIdent(owner)}`, { action: 'grant owner', object: schema, grantee: owner, privileges: ['USAGE'], reason: 'declared' });
  }
  for (const ref of relations.values()) {
    const name = quoteQualified(ref.schema, ref.name);
    const ok = await client.query<{ ok: boolean }>(`select has_table_privilege($1, $2, 'SELECT') as ok`, [owner, name]).catch(() => ({ rows: [{ ok: false }] }));
    if (!ok.rows[0]?.ok) await run(`grant select on table ${name} to ${quoteIdent(owner)}`, { action: 'grant owner', object: `${ref.schema}.${ref.name}`, grantee: owner, privileges: ['SELECT'], reason: 'declared' });
  }
}


/**
 * Data sharing: what lastmile's share reconcile costs at scale, what a consumer pays to read through a row-filtered,
 * masked view instead of the table, and what the keyed-hash mask costs per row.
 *
 * Setup: a throwaway embedded Postgres (default settings: shared_buffers 128MB, 2 parallel workers per gather), two
 * databases on it so the parts cannot disturb each other's catalog: `reconcile` and `query`, each with lastmile's
 * metadata schema migrated (src/meta/migrate.ts). Products are built the way a product module writes them
 * (`defineProduct` + `share`, validated by `toProduct`) and reconciled the way a run does it (src/sharing/serve.ts:
 * the served SQL with its parameters inlined, `sharePlan` inside `reconcileShares`, the warehouse `embedded: true`
 * so consumer roles are made NOLOGIN, a salt given as a secret would give it).
 *
 * What is timed:
 *   1. Reconcile, in `reconcile` (environment `bench`): a small source table (`bench.orders`, 20 rows per tenant),
 *      `--products` products (default 20) over it, each with one share target to the schema `partners` of
 *      `--consumers` consumers (default 500; the same consumer ids in every product, so 500 roles each reading one
 *      view per product: 10,000 views). Row filter on `tenant_id` (each consumer sees its own tenant); the target
 *      masks `contact_email` with `redact`, and every 5th consumer has its own mask that also hashes `customer_ref`.
 *        - the first apply (`reconcile.first_apply_ms`, and its DDL count): roles, schema, the salt, every
 *          view with its owner, comment and grant, the ledger, the grant state, the per-consumer read probe, and
 *          usage tracking (pg_stat_statements, which the embedded server loads, see src/sharing/usage.ts);
 *        - a no-change re-apply (`reconcile.reapply_ms`): the same products again; it must issue no DDL and report
 *          no change (the bench throws otherwise). It still samples usage and records every consumer's grant
 *          state (only views that changed are probed); the log shows pg_stat_statements' size and evictions afterwards.
 *      Every statement the reconcile sends is timed on the client (a wrapper on the pool's connections) and grouped
 *      by kind; the log shows which kinds dominate each apply and how much is spent outside the database (planning
 *      and diffing in JavaScript).
 *   2. Query latency, in `query` (environment `bench_query`): `bench.events`, `--rows` rows (default 10,000,000;
 *      UNLOGGED only to make it faster, reading it is the same) from generate_series, `--tenants` tenants (default
 *      1000) interleaved so a tenant's rows lie all over the table, indexed on the text column `tenant` (and on the
 *      integer `tenant_no`), then VACUUM FREEZE ANALYZE. One product shares it with a row filter on `tenant` to two
 *      consumers of the same tenant: one with the e-mail redacted, one with it hashed. Each consumer reads
 *      `select * from <its view>` on its own connection after `set role <its role>`, as the consumer would; the
 *      owner (the superuser) reads `select * from bench.events where tenant = $1`. `--runs` rounds (default 50;
 *      `--quick` 20) after 5 warm-up rounds, the three statements taking turns in each round so they see the same
 *      cache and load; client wall-clock time, rows fetched into node-postgres (what a consumer's client pays).
 *      EXPLAIN of each view as its consumer goes to the log, and whether it uses the tenant index is a result. A
 *      second product shares the same table with a row filter on the integer `tenant_no`: lastmile's filter
 *      compares the column with an untyped literal, so the literal takes the column's type and the index on
 *      `tenant_no` serves it; its plan and a few timed reads show it.
 *   3. The keyed-hash mask: `bench.mask_rows`, `--mask-rows` rows (default 1,000,000) of e-mails. With the exact
 *      SQL src/sharing/masks.ts generates for a `hash` mask (`maskedColumn`, reading the salt from
 *      `lastmile_shares.salt` as the views do), `select sum(length(email)) from (select <mask> from t s)` against the
 *      same over the bare column, parallel workers off (the cost on one core, not divided among workers); the sum
 *      keeps the client out of it (fetching a million rows into node would dominate both). Median of `--mask-runs`
 *      (default 5) after a warm-up each, taking turns.
 *
 * Results (`--json`, one line each): `reconcile.first_apply_ms`, `reconcile.first_apply_ddl` (statements),
 * `reconcile.reapply_ms`, `reconcile.reapply_ddl` (baseline 0; it must be 0), `reconcile.views`;
 * `query.raw_p50_ms`, `query.raw_p95_ms`, `query.view_p50_ms`, `query.view_p95_ms` (redacted e-mail),
 * `query.view_over_raw` (x, baseline 1.2, lower is better: the issue's goal), `query.hash_view_p50_ms`,
 * `query.hash_view_p95_ms`, `query.hash_view_over_raw` (x, baseline 1.2), `query.view_uses_index` (1 yes, 0 no),
 * `query.rows_per_tenant`, `query.int_tenant_view_p50_ms`, `query.int_tenant_uses_index` (1/0), `query.rows`;
 * `mask.plain_ms`, `mask.hash_ms` (the two statements over `--mask-rows`), `mask.hash_ms_per_1m_rows` (the
 * difference, per million rows).
 *
 * Flags: --rows=N (default 10,000,000; --quick: 1,000,000), --consumers=N (default 500; --quick 50), --products=N
 * (default 20; --quick 5), --runs=N (query rounds, default 50; --quick 20), --tenants=N (default 1000),
 * --mask-rows=N (default 1,000,000), --mask-runs=N (default 5), --int-runs=N (timed reads of the integer-filtered
 * view, default 5), --only=reconcile,query,mask (a subset of the parts), --data-dir=DIR (parent folder of the
 * throwaway cluster), --verbose (server log).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { defineProduct, resolveSource, share, sql, table, toProduct, type Product } from '../src/index.js';
import { migrate } from '../src/meta/migrate.js';
import type { ShareConsumerSpec, ShareTarget } from '../src/product/targets.js';
import { maskedColumn } from '../src/sharing/masks.js';
import { sharePlan } from '../src/sharing/plan.js';
import { reconcileShares, type ReconcileResult } from '../src/sharing/reconcile.js';
import { quoteIdent, quoteQualified } from '../src/warehouse/quote.js';
import { inlineParameters } from '../src/warehouse/inline.js';
import { startEmbeddedPostgres } from '../src/warehouse/embedded.js';
import { percentile } from './lib/stats.js';
import { numberFlag, stringFlag, type BenchOptions, type BenchResult } from './lib/types.js';

export const description = 'data sharing: reconcile of 500 consumers × 20 products, masked row-filtered view vs raw table on 10M rows, hash mask per 1M rows';

const TARGET_VIEW_OVER_RAW = 1.2;
const SALT = 'bench salt: a secret in a real environment';
const WARM_UP_ROUNDS = 5;

// ---------------------------------------------------------------------------------------------------------------
// Timing every statement the reconcile sends

interface Tally {
  n: number;
  ms: number;
}

/** Client-side time per kind of statement on the traced connections, while `active`. */
class StatementProfile {
  active = false;
  private tallies = new Map<string, Tally>();

  /** Wraps `client.query` (promise form only; callback and submittable forms pass through untimed). */
  trace(client: pg.ClientBase): void {
    type QueryFn = (...args: unknown[]) => unknown;
    const target = client as unknown as { query: QueryFn };
    const original = target.query.bind(client);
    target.query = (...args: unknown[]): unknown => {
      const first = args[0];
      const text = typeof first === 'string' ? first : typeof first === 'object' && first !== null && 'text' in first && typeof first.text === 'string' ? first.text : undefined;
      const promised = typeof args[args.length - 1] !== 'function' && text !== undefined && !(typeof first === 'object' && first !== null && 'submit' in first);
      if (!this.active || !promised) return original(...args);
      const started = performance.now();
      const settle = (): void => this.add(text, performance.now() - started);
      return (original(...args) as Promise<unknown>).finally(settle);
    };
  }

  reset(): void {
    this.tallies = new Map();
  }

  private add(text: string, ms: number): void {
    const kind = statementKind(text);
    const tally = this.tallies.get(kind) ?? { n: 0, ms: 0 };
    tally.n += 1;
    tally.ms += ms;
    this.tallies.set(kind, tally);
  }

  totals(): { n: number; ms: number } {
    let n = 0;
    let ms = 0;
    for (const t of this.tallies.values()) {
      n += t.n;
      ms += t.ms;
    }
    return { n, ms };
  }

  /** The kinds by time spent, most first. */
  top(count: number): [string, Tally][] {
    return [...this.tallies.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, count);
  }
}

const KINDS: [RegExp, string][] = [
  [/^create view /, 'create view'],
  [/^alter view .* owner to /, 'alter view … owner to'],
  [/^comment on view /, 'comment on view'],
  [/^drop view /, 'drop view'],
  [/^grant \w+ on table /, 'grant select on view'],
  [/^grant usage on schema /, 'grant usage on schema'],
  [/^grant select on table /, 'grant select (owner)'],
  [/^revoke /, 'revoke'],
  [/^create role /, 'create role'],
  [/^create schema /, 'create schema'],
  [/^comment on schema /, 'comment on schema'],
  [/^create extension /, 'create extension'],
  [/^insert into lastmile\.grants_ledger/, 'ledger: insert grant'],
  [/^update lastmile\.grants_ledger/, 'ledger: update'],
  [/^select grantee, object from lastmile\.grants_ledger/, 'ledger: read active grants'],
  [/^update lastmile\.share_grants set usage_calls/, 'usage sample: update per consumer'],
  [/^update lastmile\.share_grants g set usage_own_calls/, 'usage: count own reads'],
  [/pg_stat_statements_info/, 'usage: statistics marker'],
  [/pg_stat_statements/, 'usage: pg_stat_statements'],
  [/savepoint lastmile_usage/, 'usage: savepoints'],
  [/pg_has_role/, 'usage: role membership'],
  [/^insert into lastmile\.share_grants/, 'grant state: upsert per consumer'],
  [/^update lastmile\.share_grants/, 'grant state: update'],
  [/lastmile\.share_grants/, 'grant state: read'],
  [/^savepoint lastmile_probe/, 'probe: savepoint'],
  [/^set local role /, 'probe: set local role'],
  [/^select 1 from .* limit 1$/, 'probe: select 1 … limit 1'],
  [/^rollback to savepoint lastmile_probe/, 'probe: rollback to savepoint'],
  [/aclexplode\(n\.nspacl\)/, 'catalog: schemas'],
  [/aclexplode\(c\.relacl\)/, 'catalog: views'],
  [/aclexplode\(att\.attacl\)/, 'catalog: column grants'],
  [/pg_rewrite/, 'catalog: relations views read'],
  [/from pg_roles/, 'catalog: roles'],
  [/has_table_privilege/, 'owner: has_table_privilege'],
  [/has_schema_privilege/, 'owner: has_schema_privilege'],
  [/pg_extension/, 'extension lookup'],
];

function statementKind(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim().toLowerCase();
  for (const [pattern, kind] of KINDS) if (pattern.test(flat)) return kind;
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

// ---------------------------------------------------------------------------------------------------------------
// Products, as product modules write them

type OrderColumn = 'tenant_id' | 'order_id' | 'amount' | 'contact_email' | 'customer_ref' | 'created_at';
type EventColumn = 'event_id' | 'tenant' | 'tenant_no' | 'created_at' | 'amount' | 'status' | 'email';

const consumerId = (i: number): string => `c${String(i).padStart(4, '0')}`;
const tenantValue = (i: number): string => `t${String(i).padStart(4, '0')}`;

/** Product `shared_pNN`: one share of `consumers` consumers over bench.orders, filtered by tenant, e-mail redacted. */
function reconcileProduct(index: number, consumers: number): Product {
  const entries: (string | ShareConsumerSpec<OrderColumn>)[] = Array.from({ length: consumers }, (_, i) =>
    i % 5 === 4 ? { id: consumerId(i), mask: { contact_email: 'redact', customer_ref: 'hash' } } : consumerId(i),
  );
  const definition = defineProduct({
    name: `shared_p${String(index).padStart(2, '0')}`,
    version: '1.0.0',
    owner: { team: 'bench', email: 'bench@example.com' },
    domain: 'bench',
    description: 'A product shared with many consumers, for the reconcile benchmark.',
    audience: 'external',
    users: [{ who: 'partners', action: 'read their own orders' }],
    source: sql`select tenant_id, order_id, amount, contact_email, customer_ref, created_at from ${table('bench.orders')}`,
    contract: {
      key: ['order_id'],
      columns: [
        { name: 'tenant_id', type: 'text' },
        { name: 'order_id', type: 'bigint' },
        { name: 'amount', type: 'numeric(10,2)' },
        { name: 'contact_email', type: 'text' },
        { name: 'customer_ref', type: 'text' },
        { name: 'created_at', type: 'timestamptz' },
      ],
    },
    serve: [share<OrderColumn>({ name: 'portal', to: 'partners', rowFilter: 'tenant_id', mask: { contact_email: 'redact' }, consumers: entries })],
  });
  return toProduct(definition);
}

/**
 * The query part's products over bench.events: `events_share` filtered on the text column `tenant` (two consumers of
 * one tenant, e-mail redacted or hashed), `events_by_no` filtered on the integer `tenant_no` (one consumer).
 */
function queryProducts(tenant: string, tenantNo: number): Product[] {
  const byText = share<EventColumn>({
    name: 'tenant_portal',
    to: 'tenants',
    rowFilter: 'tenant',
    mask: { email: 'redact' },
    consumers: [
      { id: 'reader-redact', tenant },
      { id: 'reader-hash', tenant, mask: { email: 'hash' } },
    ],
  });
  const byNumber = share<EventColumn>({
    name: 'tenant_portal',
    to: 'tenants_no',
    rowFilter: 'tenant_no',
    mask: { email: 'redact' },
    consumers: [{ id: 'reader-int', tenant: String(tenantNo) }],
  });
  return [eventsProduct('events_share', byText), eventsProduct('events_by_no', byNumber)];
}

function eventsProduct(name: string, target: ShareTarget<EventColumn>): Product {
  const definition = defineProduct({
    name,
    version: '1.0.0',
    owner: { team: 'bench', email: 'bench@example.com' },
    domain: 'bench',
    description: 'A large multi-tenant table shared per tenant, for the query benchmark.',
    audience: 'external',
    users: [{ who: 'tenants', action: 'read their own events' }],
    source: sql`select event_id, tenant, tenant_no, created_at, amount, status, email from ${table('bench.events')}`,
    contract: {
      key: ['event_id'],
      columns: [
        { name: 'event_id', type: 'bigint' },
        { name: 'tenant', type: 'text' },
        { name: 'tenant_no', type: 'integer' },
        { name: 'created_at', type: 'timestamptz' },
        { name: 'amount', type: 'numeric(10,2)' },
        { name: 'status', type: 'text' },
        { name: 'email', type: 'text' },
      ],
    },
    serve: [target],
  });
  return toProduct(definition);
}

/** `--only=mask`: a share hashing bench.mask_rows' e-mail, so that the salt is where a reconcile puts it. */
function maskProduct(): Product {
  const definition = defineProduct({
    name: 'mask_rows',
    version: '1.0.0',
    owner: { team: 'bench', email: 'bench@example.com' },
    domain: 'bench',
    description: 'E-mails shared hashed, for the mask benchmark.',
    audience: 'external',
    users: [{ who: 'analysts', action: 'join on hashed e-mails' }],
    source: table('bench.mask_rows'),
    contract: {
      key: ['id'],
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'email', type: 'text' },
      ],
    },
    serve: [share({ name: 'hashed', to: 'analysts', mask: { email: 'hash' }, consumers: ['analysts'] })],
  });
  return toProduct(definition);
}

/** One reconcile, wired as src/sharing/serve.ts wires a run's. */
async function reconcile(pool: pg.Pool, products: readonly Product[], env: string): Promise<ReconcileResult> {
  const schemas: Record<string, string> = {};
  const served = new Map<string, string>();
  // a view cannot take parameters: the served query's values are written in (these sources have none)
  for (const product of products) served.set(product.name, inlineParameters(resolveSource(product, schemas), []));
  return await reconcileShares(
    pool,
    ({ history }) =>
      sharePlan({
        products,
        env: { name: env, production: false, schemas },
        history,
        now: new Date(),
        servedSql: (product) => served.get(product.name)!,
      }),
    { env, embedded: true, salt: SALT },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The parts

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

const ms = (value: number): string => `${value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2)} ms`;
const count = (value: number): string => value.toLocaleString('en-US');

function logProfile(log: (line: string) => void, label: string, profile: StatementProfile, totalMs: number): void {
  const { n, ms: dbMs } = profile.totals();
  log(`${label}: ${ms(totalMs)} total; ${count(n)} statements taking ${ms(dbMs)} (round trip, client side), ${ms(totalMs - dbMs)} outside the database`);
  for (const [kind, tally] of profile.top(14)) {
    log(`    ${kind.padEnd(36)} ${count(tally.n).padStart(8)} × ${(tally.ms / tally.n).toFixed(3).padStart(8)} ms = ${ms(tally.ms).padStart(10)} (${((100 * tally.ms) / totalMs).toFixed(1)} %)`);
  }
}

async function reconcilePart(url: string, productCount: number, consumers: number, log: (line: string) => void): Promise<BenchResult[]> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const profile = new StatementProfile();
  pool.on('connect', (client) => profile.trace(client));
  try {
    await migrate(pool);
    await pool.query('create schema bench');
    await pool.query(`create table bench.orders as
      select 'c' || lpad((i % ${consumers})::text, 4, '0') as tenant_id, i::bigint as order_id, ((i * 37) % 20000 / 100.0)::numeric(10,2) as amount,
             'buyer' || i || '@example.com' as contact_email, 'CR-' || (i * 7919 % 100000) as customer_ref,
             timestamptz '2025-01-01' + i * interval '1 minute' as created_at
        from generate_series(1, ${consumers * 20}) as i`);
    await pool.query('analyze bench.orders');
    const products = Array.from({ length: productCount }, (_, i) => reconcileProduct(i + 1, consumers));
    const views = productCount * consumers;
    log(`reconcile: ${productCount} products × ${consumers} consumers = ${count(views)} views (every 5th consumer also hashes a column), first apply…`);

    profile.active = true;
    const first = await timed(() => reconcile(pool, products, 'bench'));
    profile.active = false;
    const firstCounts = changeCounts(first.value);
    log(`first apply: ${first.value.ddl} DDL statements, changes ${firstCounts}`);
    logProfile(log, 'first apply', profile, first.ms);
    if (first.ms > 10 * 60_000) log(`first apply took more than 10 minutes (${ms(first.ms)}): see the statement kinds above for where the time goes`);

    const made = await pool.query<{ n: string }>(`select count(*) as n from pg_views where schemaname = 'partners'`);
    if (Number(made.rows[0]!.n) !== views) throw new Error(`the first apply left ${made.rows[0]!.n} views in partners, expected ${views}`);

    profile.reset();
    profile.active = true;
    const again = await timed(() => reconcile(pool, products, 'bench'));
    profile.active = false;
    logProfile(log, 'no-change re-apply', profile, again.ms);
    if (again.value.ddl !== 0 || again.value.changes.length !== 0) {
      throw new Error(`the no-change re-apply issued ${again.value.ddl} DDL statements and ${again.value.changes.length} changes (${changeCounts(again.value)}); it must issue none`);
    }
    log(`no-change re-apply: 0 DDL, no changes, ${ms(again.ms)} (${(again.ms / views).toFixed(3)} ms per view)`);
    await logStatementStatistics(pool, log);
    return [
      { metric: 'reconcile.first_apply_ms', value: first.ms, unit: 'ms' },
      { metric: 'reconcile.first_apply_ddl', value: first.value.ddl, unit: 'statements' },
      { metric: 'reconcile.reapply_ms', value: again.ms, unit: 'ms' },
      { metric: 'reconcile.reapply_ddl', value: again.value.ddl, unit: 'statements', baseline: 0, ratio: again.value.ddl === 0 ? 1 : 0 },
      { metric: 'reconcile.views', value: views, unit: 'views' },
    ];
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/**
 * Usage sampling (src/sharing/usage.ts) reads pg_stat_statements when the embedded server loads it: how many entries it
 * keeps and whether it had to evict some (each reconcile's probe is one distinct statement per view).
 */
async function logStatementStatistics(pool: pg.Pool, log: (line: string) => void): Promise<void> {
  const found = await pool.query<{ schema: string }>(`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_stat_statements'`);
  const schema = found.rows[0]?.schema;
  if (schema === undefined) {
    log('pg_stat_statements: not installed in this database (usage is not sampled)');
    return;
  }
  try {
    const info = await pool.query<{ max: string; entries: string; dealloc: string }>(
      `select current_setting('pg_stat_statements.max') as max, (select count(*) from ${quoteQualified(schema, 'pg_stat_statements')})::text as entries,
              (select dealloc::text from ${quoteQualified(schema, 'pg_stat_statements_info')}) as dealloc`,
    );
    const row = info.rows[0]!;
    log(`pg_stat_statements: max ${row.max}, ${row.entries} entries now, ${row.dealloc} evictions so far${Number(row.dealloc) > 0 ? ' (an eviction changes the statistics marker usage sampling compares)' : ''}`);
  } catch (error) {
    log(`pg_stat_statements: could not be read: ${(error as Error).message}`);
  }
}

function changeCounts(result: ReconcileResult): string {
  const byAction = new Map<string, number>();
  for (const change of result.changes) byAction.set(change.action, (byAction.get(change.action) ?? 0) + 1);
  return [...byAction.entries()].map(([action, n]) => `${action} ${count(n)}`).join(', ') || 'none';
}

interface Connected {
  client: pg.Client;
  label: string;
  text: string;
  values: string[];
  times: number[];
}

function usesIndex(plan: string, index: string): boolean {
  return new RegExp(`Index (Only )?Scan (Backward )?using ${index}\\b|Bitmap Index Scan on ${index}\\b`).test(plan);
}

async function explain(client: pg.Client, text: string, values: readonly string[], analyze: boolean): Promise<string> {
  const result = await client.query<{ 'QUERY PLAN': string }>({ text: `explain (${analyze ? 'analyze, buffers, ' : ''}costs off) ${text}`, values: [...values] });
  return result.rows.map((r) => r['QUERY PLAN']).join('\n');
}

async function queryPart(url: string, rows: number, tenants: number, runs: number, intRuns: number, log: (line: string) => void): Promise<BenchResult[]> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const clients: pg.Client[] = [];
  try {
    await migrate(pool);
    const tenantNo = Math.min(42, tenants - 1);
    const tenant = tenantValue(tenantNo);
    const width = Math.max(4, String(tenants - 1).length);
    const made = await timed(async () => {
      await pool.query('create schema bench');
      await pool.query(`create unlogged table bench.events as
        select i::bigint as event_id,
               't' || lpad((i % ${tenants})::text, ${width}, '0') as tenant,
               (i % ${tenants})::integer as tenant_no,
               timestamptz '2025-01-01' + (i % 31536000) * interval '1 second' as created_at,
               ((i * 37) % 100000 / 100.0)::numeric(10,2) as amount,
               (array['placed','shipped','delivered','cancelled'])[1 + i % 4] as status,
               'user' || (i % 200000) || '@mail' || (i % 97) || '.example.com' as email
          from generate_series(1, ${rows}) as i`);
      await pool.query('create index events_tenant on bench.events (tenant)');
      await pool.query('create index events_tenant_no on bench.events (tenant_no)');
      await pool.query('vacuum (freeze, analyze) bench.events');
    });
    const size = await pool.query<{ size: string }>(`select pg_size_pretty(pg_table_size('bench.events')) as size`);
    log(`query: bench.events ${count(rows)} rows, ${tenants} tenants (interleaved), ${size.rows[0]!.size}, indexed on tenant and tenant_no, made in ${ms(made.ms)}`);

    const shared = await timed(() => reconcile(pool, queryProducts(tenant, tenantNo), 'bench_query'));
    log(`shares reconciled in ${ms(shared.ms)} (${shared.value.ddl} DDL statements)`);
    const plan = shared.value.plan;
    const consumer = (id: string) => {
      const found = plan.consumers.find((c) => c.consumer === id);
      if (!found) throw new Error(`no consumer ${id} in the plan`);
      return found;
    };
    const redact = consumer('reader-redact');
    const hash = consumer('reader-hash');
    const byNumber = consumer('reader-int');
    log(`view ${redact.schema}.${redact.view} as planned:\n${redact.sql}`);

    const connect = async (role: string | undefined): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      clients.push(client);
      // as the consumer reads: its own role on its own session
      if (role) await client.query(`set role ${quoteIdent(role)}`);
      return client;
    };
    const sides: Connected[] = [
      { client: await connect(undefined), label: 'raw table (owner)', text: 'select * from bench.events where tenant = $1', values: [tenant], times: [] },
      { client: await connect(redact.role), label: 'view, e-mail redacted', text: `select * from ${quoteQualified(redact.schema, redact.view)}`, values: [], times: [] },
      { client: await connect(hash.role), label: 'view, e-mail hashed', text: `select * from ${quoteQualified(hash.schema, hash.view)}`, values: [], times: [] },
    ];
    const [raw, redacted, hashed] = sides as [Connected, Connected, Connected];

    const planOf: Record<string, string> = {};
    for (const side of sides) {
      planOf[side.label] = await explain(side.client, side.text, side.values, false);
      log(`EXPLAIN ${side.label}: ${side.text}\n${planOf[side.label]!.replace(/^/gm, '    ')}`);
    }
    const viewIndexed = usesIndex(planOf[redacted.label]!, 'events_tenant') && usesIndex(planOf[hashed.label]!, 'events_tenant');
    if (!usesIndex(planOf[raw.label]!, 'events_tenant')) log('NOTE: the raw table query does not use events_tenant either');
    log(viewIndexed ? 'the views use the tenant index (events_tenant)' : 'WARNING: a security-barrier view does NOT use the tenant index: its reads scan the table');

    // the same rows on every side, masked on the views
    const check = await Promise.all(sides.map((s) => s.client.query<Record<string, unknown>>({ text: s.text, values: s.values })));
    const perTenant = check[0]!.rowCount ?? 0;
    for (const [i, result] of check.entries()) {
      if ((result.rowCount ?? 0) !== perTenant) throw new Error(`${sides[i]!.label} returned ${result.rowCount} rows, the raw table ${perTenant}`);
    }
    const sampleRedacted = check[1]!.rows.find((r) => r.email !== null)?.email;
    const sampleHashed = check[2]!.rows.find((r) => r.email !== null)?.email;
    if (sampleRedacted !== '[redacted]') throw new Error(`the redacting view shows e-mail ${String(sampleRedacted)}`);
    if (typeof sampleHashed !== 'string' || !/^[0-9a-f]{64}$/.test(sampleHashed)) throw new Error(`the hashing view shows e-mail ${String(sampleHashed)}`);
    log(`each side returns ${count(perTenant)} rows of tenant ${tenant}; redacted e-mail '${sampleRedacted}', hashed e-mail ${sampleHashed.slice(0, 16)}…`);

    for (const side of sides) {
      log(`EXPLAIN ANALYZE ${side.label}:\n${(await explain(side.client, side.text, side.values, true)).replace(/^/gm, '    ')}`);
    }

    log(`${WARM_UP_ROUNDS} warm-up rounds, then ${runs} timed rounds (raw, redacted view, hashed view in turn)…`);
    for (let round = -WARM_UP_ROUNDS; round < runs; round++) {
      for (const side of sides) {
        const t = await timed(() => side.client.query({ text: side.text, values: side.values }));
        if (round >= 0) side.times.push(t.ms);
      }
    }
    const stat = (side: Connected) => {
      const sorted = [...side.times].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0]! };
    };
    const r = stat(raw);
    const v = stat(redacted);
    const h = stat(hashed);
    for (const [side, s] of [[raw, r], [redacted, v], [hashed, h]] as const) log(`${side.label}: p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, min ${ms(s.min)}`);
    log(`view / raw at p50: redacted ${(v.p50 / r.p50).toFixed(3)}×, hashed ${(h.p50 / r.p50).toFixed(3)}× (goal ≤ ${TARGET_VIEW_OVER_RAW}×)`);

    // the integer tenant column: lastmile's filter compares it with an untyped literal, which takes the column's type
    const intClient = await connect(byNumber.role);
    const intText = `select * from ${quoteQualified(byNumber.schema, byNumber.view)}`;
    const intPlan = await explain(intClient, intText, [], false);
    const intIndexed = usesIndex(intPlan, 'events_tenant_no');
    log(`integer tenant column: the view of ${byNumber.product} filters with\n    ${byNumber.sql.split('\n').find((line) => line.trim().startsWith('where')) ?? '(no where)'}\nEXPLAIN ${intText}\n${intPlan.replace(/^/gm, '    ')}`);
    log(intIndexed ? 'the integer-filtered view uses events_tenant_no' : 'WARNING: the integer-filtered view does NOT use events_tenant_no (the filter casts the column to text): every read scans the table');
    const intTimes: number[] = [];
    await intClient.query(intText);
    for (let i = 0; i < intRuns; i++) intTimes.push((await timed(() => intClient.query(intText))).ms);
    const intP50 = percentile([...intTimes].sort((a, b) => a - b), 50);
    log(`integer-filtered view: p50 ${ms(intP50)} over ${intRuns} reads (${(intP50 / r.p50).toFixed(1)}× the raw table's p50)`);

    return [
      { metric: 'query.raw_p50_ms', value: r.p50, unit: 'ms' },
      { metric: 'query.raw_p95_ms', value: r.p95, unit: 'ms' },
      { metric: 'query.view_p50_ms', value: v.p50, unit: 'ms' },
      { metric: 'query.view_p95_ms', value: v.p95, unit: 'ms' },
      { metric: 'query.view_over_raw', value: v.p50 / r.p50, unit: 'x', baseline: TARGET_VIEW_OVER_RAW, better: 'lower' },
      { metric: 'query.hash_view_p50_ms', value: h.p50, unit: 'ms' },
      { metric: 'query.hash_view_p95_ms', value: h.p95, unit: 'ms' },
      { metric: 'query.hash_view_over_raw', value: h.p50 / r.p50, unit: 'x', baseline: TARGET_VIEW_OVER_RAW, better: 'lower' },
      { metric: 'query.view_uses_index', value: viewIndexed ? 1 : 0, unit: 'bool' },
      { metric: 'query.rows_per_tenant', value: perTenant, unit: 'rows' },
      { metric: 'query.int_tenant_view_p50_ms', value: intP50, unit: 'ms' },
      { metric: 'query.int_tenant_uses_index', value: intIndexed ? 1 : 0, unit: 'bool' },
      { metric: 'query.rows', value: rows, unit: 'rows' },
    ];
  } finally {
    for (const client of clients) await client.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

async function maskPart(url: string, maskRows: number, maskRuns: number, log: (line: string) => void): Promise<BenchResult[]> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('create schema if not exists bench');
    await client.query(`create unlogged table bench.mask_rows as
      select i::bigint as id, 'user' || (i % 200000) || '@mail' || (i % 97) || '.example.com' as email from generate_series(1, ${maskRows}) as i`);
    await client.query('vacuum (freeze, analyze) bench.mask_rows');
    // the salt and its pads are where a reconcile with a hash mask put them (the query part's, or one made here)
    const found = await client.query(`select to_regclass('lastmile_shares.salt') is not null as ok`);
    if (!found.rows[0].ok) {
      await migrate(pool);
      await reconcile(pool, [maskProduct()], 'bench_mask');
    }
    const hashColumn = maskedColumn('email', 'text', 'hash');
    const plainColumn = maskedColumn('email', 'text', undefined);
    const hashed = `select sum(length(x.email)) as n from (select ${hashColumn} from bench.mask_rows as s) as x`;
    const plain = `select sum(length(x.email)) as n from (select ${plainColumn} from bench.mask_rows as s) as x`;
    log(`mask: ${count(maskRows)} rows; the hash mask's SQL: ${hashColumn}`);
    await client.query('set max_parallel_workers_per_gather = 0');
    const hashedSum = Number((await client.query<{ n: string }>(hashed)).rows[0]!.n);
    await client.query(plain);
    if (hashedSum !== 64 * maskRows) throw new Error(`the hash mask gave ${hashedSum} characters over ${maskRows} rows, expected 64 each`);
    const hashTimes: number[] = [];
    const plainTimes: number[] = [];
    for (let i = 0; i < maskRuns; i++) {
      plainTimes.push((await timed(() => client.query(plain))).ms);
      hashTimes.push((await timed(() => client.query(hashed))).ms);
    }
    const p = percentile([...plainTimes].sort((a, b) => a - b), 50);
    const hsh = percentile([...hashTimes].sort((a, b) => a - b), 50);
    const perMillion = ((hsh - p) * 1_000_000) / maskRows;
    log(`mask: plain ${plainTimes.map(ms).join(', ')}; hashed ${hashTimes.map(ms).join(', ')}`);
    log(`mask: hash costs ${ms(perMillion)} per million rows on one core (${((perMillion * 1000) / 1_000_000).toFixed(3)} µs a row)`);
    return [
      { metric: 'mask.plain_ms', value: p, unit: 'ms' },
      { metric: 'mask.hash_ms', value: hsh, unit: 'ms' },
      { metric: 'mask.hash_ms_per_1m_rows', value: perMillion, unit: 'ms' },
    ];
  } finally {
    await client.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const { log } = options;
  const rows = numberFlag(options, 'rows', options.quick ? 1_000_000 : 10_000_000);
  const consumers = numberFlag(options, 'consumers', options.quick ? 50 : 500);
  const products = numberFlag(options, 'products', options.quick ? 5 : 20);
  const runs = numberFlag(options, 'runs', options.quick ? 20 : 50);
  const tenants = numberFlag(options, 'tenants', 1000);
  const maskRows = numberFlag(options, 'mask-rows', 1_000_000);
  const maskRuns = numberFlag(options, 'mask-runs', 5);
  const intRuns = numberFlag(options, 'int-runs', 5);
  const parts = new Set(stringFlag(options, 'only', 'reconcile,query,mask').split(',').map((p) => p.trim()));
  for (const [name, value, min] of [['rows', rows, 1], ['consumers', consumers, 1], ['products', products, 1], ['runs', runs, 1], ['tenants', tenants, 1], ['mask-rows', maskRows, 1], ['mask-runs', maskRuns, 1], ['int-runs', intRuns, 1]] as const) {
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} takes a positive integer`);
  }
  if (consumers > 9999) throw new Error('--consumers takes at most 9999 (the ids are c0000…c9999)');
  if (products > 99) throw new Error('--products takes at most 99');
  for (const part of parts) if (!['reconcile', 'query', 'mask'].includes(part)) throw new Error(`--only takes reconcile, query and/or mask, not ${part}`);

  const dir = await mkdtemp(path.join(stringFlag(options, 'data-dir', os.tmpdir()), 'lastmile-bench-sharing-'));
  let server: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  try {
    server = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      ephemeral: true,
      ...(options.flags.verbose === true && { onLog: (line: string) => log(`  pg: ${line.trim()}`) }),
    });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    const s = (
      await admin.query<Record<string, string>>(
        `select version() as version, current_setting('shared_buffers') as shared_buffers, current_setting('work_mem') as work_mem,
                current_setting('max_parallel_workers_per_gather') as parallel_workers, current_setting('random_page_cost') as random_page_cost`,
      )
    ).rows[0]!;
    await admin.end();
    log(
      `postgres: ${s.version!.split(' on ')[0]}; shared_buffers ${s.shared_buffers}, work_mem ${s.work_mem}, ` +
        `parallel workers per gather ${s.parallel_workers}, random_page_cost ${s.random_page_cost}`,
    );

    const results: BenchResult[] = [];
    if (parts.has('reconcile')) {
      await server.ensureDatabase('reconcile');
      results.push(...(await reconcilePart(server.urlFor('reconcile'), products, consumers, log)));
    }
    if (parts.has('query') || parts.has('mask')) await server.ensureDatabase('query');
    if (parts.has('query')) results.push(...(await queryPart(server.urlFor('query'), rows, tenants, runs, intRuns, log)));
    if (parts.has('mask')) results.push(...(await maskPart(server.urlFor('query'), maskRows, maskRuns, log)));
    return results;
  } finally {
    await server?.stop().catch((error: unknown) => log(`stopping the throwaway cluster failed: ${String(error)}`));
    await rm(dir, { recursive: true, force: true });
  }
}

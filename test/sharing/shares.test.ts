/**
 * Data sharing on real parts, with real logins: LOGIN roles that are members of the consumer roles, connecting over
 * TCP to the embedded PostgreSQL, read what lastmile granted — and nothing else. Drift is repaired and ledgered,
 * a re-apply issues no DDL, names that try to inject SQL are only names, and a dashboard rebuild keeps a shared view
 * readable.
 */
import { createHash, createHmac } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareSession } from '../../src/sharing/serve.js';
import { runResult, startRun } from '../../src/runtime/session.js';
import { productModule } from '../support/cli.js';
import { realLogins, type Logins } from '../support/logins.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const CONFIG = `import { defineConfig, secret } from 'lastmile';
export default defineConfig({
  environments: { dev: { warehouse: { urlEnv: 'SH_WAREHOUSE_URL' }, sharing: { salt: secret('SH_SALT') } } },
  promotion: ['dev'],
});
`;

// a tenant id with a quote, a semicolon and unicode: it must stay a value
const NASTY = "O'Brien; drop table scratch.lots; --ü";

const LOTS = productModule({
  name: 'lot_quality',
  source: "select supplier_id, lot_id, defects, contact_email from ${table('scratch.lots')}",
  columns: [
    { name: 'supplier_id', type: 'text' },
    { name: 'lot_id', type: 'text' },
    { name: 'defects', type: 'integer' },
    { name: 'contact_email', type: 'text' },
  ],
  key: ['lot_id'],
  serve: [
    `share({
      name: 'portal',
      to: 'partners',
      rowFilter: 'supplier_id',
      mask: { contact_email: 'redact' },
      consumers: [
        'SUP-1',
        { id: 'SUP-2', columns: ['supplier_id', 'lot_id', 'defects'] },
        { id: 'nasty', tenant: ${JSON.stringify(NASTY)} },
        { id: 'analysts', tenant: null, mask: { contact_email: 'hash' } },
      ],
    })`,
  ],
});

// a predicate filter: the consumer's attributes become literals, whatever they hold
const REGIONAL = productModule({
  name: 'regional_lots',
  source: "select supplier_id, lot_id, defects from ${table('scratch.lots')}",
  columns: [
    { name: 'supplier_id', type: 'text' },
    { name: 'lot_id', type: 'text' },
    { name: 'defects', type: 'integer' },
  ],
  key: ['lot_id'],
  serve: [
    `share({
      name: 'regional',
      to: 'regional',
      rowFilter: { where: "supplier_id = :supplier and defects::int >= :least" },
      consumers: [
        { id: 'r1', role: 'regional_r1', attributes: { supplier: ${JSON.stringify(NASTY)}, least: 0 } },
        { id: 'r2', role: 'regional_r2', attributes: { supplier: "SUP-1' or '1'='1", least: 0 } },
        { id: 'r3', role: 'regional_r3', attributes: { supplier: 'SUP-1', least: 1 } },
      ],
    })`,
  ],
});

// its source calls a function consumers may not execute: a grant the consumer could not use
const GUARDED = productModule({
  name: 'guarded_lots',
  source: "select supplier_id, lot_id from ${table('scratch.lots')} where scratch.visible(lot_id)",
  columns: [
    { name: 'supplier_id', type: 'text' },
    { name: 'lot_id', type: 'text' },
  ],
  key: ['lot_id'],
  serve: [`share({ name: 'guarded', to: 'guarded', consumers: [{ id: 'g1', role: 'guarded_g1' }] })`],
});

describe('data sharing', () => {
  let rt: RuntimeHarness;
  let admin: pg.Pool;
  let logins: Logins;
  const loginAs = (role: string) => logins.as(role);

  beforeAll(async () => {
    process.env.SH_SALT = 'a test salt';
    rt = await startRuntime({
      config: CONFIG,
      warehouseUrlEnv: 'SH_WAREHOUSE_URL',
      products: { lot_quality: LOTS, guarded_lots: GUARDED, regional_lots: REGIONAL },
      sql: `create schema scratch;
            create table scratch.lots (supplier_id text, lot_id text primary key, defects integer, contact_email text);
            insert into scratch.lots values
              ('SUP-1', 'L1', 3, 'a@sup1.example'), ('SUP-1', 'L2', 0, null),
              ('SUP-2', 'L3', 7, 'b@sup2.example'),
              (${pgLiteral(NASTY)}, 'L4', 1, 'c@nasty.example');
            create schema secrets; create table secrets.keys (k text); insert into secrets.keys values ('top secret');
            -- a real warehouse: its administrator made the consumers' roles (lastmile never makes logins there)
            create role partners_sup_1 nologin; create role partners_sup_2 nologin;
            create role partners_nasty nologin; create role partners_analysts nologin; create role guarded_g1 nologin; create role regional_r1 nologin; create role regional_r2 nologin; create role regional_r3 nologin;
            create function scratch.visible(text) returns boolean language sql as 'select true';
            revoke execute on function scratch.visible(text) from public;`,
    });
    admin = new pg.Pool({ connectionString: rt.server.urlFor('warehouse_dev'), max: 2 });
    admin.on('error', () => undefined); // idle clients die when the server stops at the end
    logins = realLogins(admin, (database) => rt.server.urlFor(database));
  }, 120_000);

  afterAll(async () => {
    await logins?.end();
    await admin?.end();
    await rt?.close();
    delete process.env.SH_SALT;
  });

  it('a run serves the share: succeeded, every consumer granted and ledgered', async () => {
    const summary = await runResult(await startRun(rt.session, rt.product('lot_quality')));
    expect(summary.status, summary.error).toBe('succeeded');
    expect(summary.targets[0]).toMatchObject({ name: 'portal', kind: 'share', status: 'succeeded', rows: 4 });
    const ledger = await admin.query(`select grantee, object, privileges from lastmile.grants_ledger where env = 'dev' and revoked_at is null order by object, grantee`);
    expect(ledger.rows.filter((r) => r.object.startsWith('partners.lot_quality__')).map((r) => [r.object, r.grantee])).toEqual([
      ['partners.lot_quality__analysts', 'partners_analysts'],
      ['partners.lot_quality__nasty', 'partners_nasty'],
      ['partners.lot_quality__sup_1', 'partners_sup_1'],
      ['partners.lot_quality__sup_2', 'partners_sup_2'],
    ]);
  }, 60_000);

  it('each consumer reads its own rows and allowed columns, masked — and nothing else', async () => {
    const sup1 = await loginAs('partners_sup_1');
    const own = await sup1.query('select * from partners.lot_quality__sup_1 order by lot_id');
    expect(own.rows).toEqual([
      { supplier_id: 'SUP-1', lot_id: 'L1', defects: 3, contact_email: '[redacted]' },
      { supplier_id: 'SUP-1', lot_id: 'L2', defects: 0, contact_email: null },
    ]);
    // not another consumer's view, not the source, not other schemas, not lastmile's own
    for (const sql of [
      'select * from partners.lot_quality__sup_2',
      'select * from scratch.lots',
      'select * from secrets.keys',
      'select * from lastmile.runs',
      'select * from lastmile_shares.salt',
      'select rolpassword from pg_authid',
      'select * from lastmile.grants_ledger',
    ]) {
      await expect(sup1.query(sql), sql).rejects.toThrow(/permission denied/);
    }
    // read-only: it can write nothing, create nothing
    for (const sql of [
      "insert into partners.lot_quality__sup_1 values ('SUP-1', 'X', 1, 'x')",
      "update partners.lot_quality__sup_1 set defects = 0",
      'create table partners.mine (x int)',
      'create view public.v as select 1',
    ]) {
      await expect(sup1.query(sql), sql).rejects.toThrow(/permission denied|cannot|must be owner/);
    }
    // a consumer with its own column allowlist sees only those columns
    const sup2 = await loginAs('partners_sup_2');
    const narrowed = await sup2.query('select * from partners.lot_quality__sup_2');
    expect(narrowed.fields.map((f) => f.name)).toEqual(['supplier_id', 'lot_id', 'defects']);
    expect(narrowed.rows).toEqual([{ supplier_id: 'SUP-2', lot_id: 'L3', defects: 7 }]);
    // the tenant with quotes, a semicolon and unicode is a value: its one row, and the table is still there
    const nasty = await loginAs('partners_nasty');
    expect((await nasty.query('select lot_id from partners.lot_quality__nasty')).rows).toEqual([{ lot_id: 'L4' }]);
    expect((await admin.query('select count(*)::int as n from scratch.lots')).rows[0].n).toBe(4);
    // every row, the e-mail as a keyed hash: equal values hash equally, and the hash is not the e-mail's plain sha256
    const analysts = await loginAs('partners_analysts');
    const all = await analysts.query('select lot_id, contact_email from partners.lot_quality__analysts order by lot_id');
    expect(all.rows.map((r) => r.lot_id)).toEqual(['L1', 'L2', 'L3', 'L4']);
    expect(all.rows[0].contact_email).toMatch(/^[0-9a-f]{64}$/);
    expect(all.rows[1].contact_email).toBeNull();
    const plain = (await admin.query(`select encode(sha256(convert_to('a@sup1.example', 'UTF8')), 'hex') as h`)).rows[0].h;
    expect(all.rows[0].contact_email).not.toBe(plain);
    // it is the standard HMAC-SHA-256 under the environment's salt (the key: sha256 of the secret), as any client computes it
    const key = createHash('sha256').update('a test salt').digest();
    expect(all.rows[0].contact_email).toBe(createHmac('sha256', key).update('a@sup1.example').digest('hex'));
  }, 60_000);

  it("a predicate filter takes the consumer's attributes as values: quotes, semicolons and unicode cannot inject SQL", async () => {
    const summary = await runResult(await startRun(rt.session, rt.product('regional_lots')));
    expect(summary.status, summary.error).toBe('succeeded');
    expect((await (await loginAs('regional_r1')).query('select lot_id from regional.regional_lots__r1')).rows).toEqual([{ lot_id: 'L4' }]);
    // "SUP-1' or '1'='1" is a supplier id that does not exist, not a condition that holds for every row
    expect((await (await loginAs('regional_r2')).query('select lot_id from regional.regional_lots__r2')).rows).toEqual([]);
    expect((await (await loginAs('regional_r3')).query('select lot_id from regional.regional_lots__r3')).rows).toEqual([{ lot_id: 'L1' }]);
    expect((await admin.query('select count(*)::int as n from scratch.lots')).rows[0].n).toBe(4);
  }, 60_000);

  it('a leaky function cannot widen the filter (security barrier)', async () => {
    const sup1 = await loginAs('partners_sup_1');
    await sup1.query(`create function pg_temp.leak(text) returns boolean language plpgsql cost 0.0000001 as $$ begin raise notice 'saw %', $1; return true; end $$`);
    const seen: string[] = [];
    sup1.on('notice', (notice) => seen.push(notice.message ?? ''));
    await sup1.query('select * from partners.lot_quality__sup_1 where pg_temp.leak(supplier_id)');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((message) => message === 'saw SUP-1')).toBe(true);
  }, 30_000);

  it('drift: a grant added by hand is revoked, one revoked by hand restored, both ledgered; a re-apply then issues no DDL', async () => {
    await admin.query('create role intruder nologin').catch(() => undefined);
    await admin.query('grant select on partners.lot_quality__sup_2 to intruder');
    await admin.query('revoke select on partners.lot_quality__sup_1 from partners_sup_1');
    const share = await shareSession(rt.session.context, 'dev');
    const first = await share.reconcile({ runId: 'drift-test' });
    const drift = first.result.changes.filter((c) => c.reason === 'drift').map((c) => [c.action, c.object, c.grantee]);
    expect(drift).toEqual(expect.arrayContaining([
      ['revoke', 'partners.lot_quality__sup_2', 'intruder'],
      ['grant', 'partners.lot_quality__sup_1', 'partners_sup_1'],
    ]));
    const acl = await admin.query(`select has_table_privilege('intruder', 'partners.lot_quality__sup_2', 'SELECT') as intruder, has_table_privilege('partners_sup_1', 'partners.lot_quality__sup_1', 'SELECT') as sup1`);
    expect(acl.rows[0]).toEqual({ intruder: false, sup1: true });
    const ledgered = await admin.query(`select grantee, detail->>'reason' as reason from lastmile.grants_ledger where run_id = 'drift-test' order by grantee`);
    expect(ledgered.rows).toEqual([
      { grantee: 'intruder', reason: 'drift' },
      { grantee: 'partners_sup_1', reason: 'drift' },
    ]);
    const again = await share.reconcile({});
    expect(again.ddl).toBe(0);
    expect(again.result.changes).toEqual([]);
  }, 60_000);

  it('a consumer removed from the product loses its view and grant, ledgered as removed', async () => {
    const share = await shareSession(rt.session.context, 'dev');
    const product = rt.product('lot_quality');
    const target = product.serve[0]!;
    const fewer = { ...product, serve: [{ ...target, consumers: (target.kind === 'share' ? target.consumers : undefined)?.filter((c) => c !== 'SUP-1') }] } as typeof product;
    const products = new Map(rt.session.context.products);
    products.set('lot_quality', fewer);
    const context = Object.assign(Object.create(Object.getPrototypeOf(rt.session.context) as object), rt.session.context, { products }) as typeof rt.session.context;
    const result = await (await shareSession(context, 'dev')).reconcile({ runId: 'remove-test' });
    expect(result.result.changes.map((c) => [c.action, c.object, c.reason])).toEqual(expect.arrayContaining([['drop view', 'partners.lot_quality__sup_1', 'removed']]));
    expect((await admin.query(`select to_regclass('partners.lot_quality__sup_1') as v`)).rows[0].v).toBeNull();
    const row = await admin.query(`select revoked_at is not null as revoked, detail->>'revokedBecause' as why from lastmile.grants_ledger where object = 'partners.lot_quality__sup_1' order by grant_id desc limit 1`);
    expect(row.rows[0]).toEqual({ revoked: true, why: 'removed' });
    // and back again
    await share.reconcile({});
    expect((await admin.query(`select to_regclass('partners.lot_quality__sup_1') is not null as v`)).rows[0].v).toBe(true);
  }, 60_000);

  it('a grant the consumer cannot use fails the run with the reason, and nothing of it is applied', async () => {
    const summary = await runResult(await startRun(rt.session, rt.product('guarded_lots')));
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/g1 \(role guarded_g1\) cannot read guarded\.guarded_lots__g1: permission denied for function visible/);
    expect(summary.error).toMatch(/security definer/);
    // one transaction: no schema, no view, no grant of the failed reconcile is left
    expect((await admin.query(`select to_regnamespace('guarded') as s`)).rows[0].s).toBeNull();
    expect((await admin.query(`select count(*)::int as n from lastmile.grants_ledger where grantee = 'guarded_g1'`)).rows[0].n).toBe(0);
    // and the other product's consumers still read theirs
    expect((await admin.query(`select has_table_privilege('partners_sup_1', 'partners.lot_quality__sup_1', 'SELECT') as ok`)).rows[0].ok).toBe(true);
  }, 60_000);
});

function pgLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

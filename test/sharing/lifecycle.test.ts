/**
 * A share's life after its first grant, on real parts: the real worker and the devserver's durable timers revoke an
 * expiring grant at its expiry with no run in between — also when the worker was down at that moment — telling the
 * owner through the alert channel; usage comes from the warehouse's pg_stat_statements (a real login's reads), and
 * `sunsetAfter` revokes the consumer that never read while the one that reads keeps its access; a dashboard rebuild
 * (a swap that drops the old relation) keeps the share view on it readable, with the new data.
 */
import { Worker } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../devserver/index.js';
import { createActivities } from '../../activities/index.js';
import { signalShareTimer } from '../../src/deploy/share-timer.js';
import { loadProject, openSession, runResult, startRun, type Session } from '../../src/runtime/session.js';
import { connectWorker } from '../../src/temporal/connect.js';
import { workflowBundle } from '../../src/temporal/worker.js';
import { productModule } from '../support/cli.js';
import { realLogins, type Logins } from '../support/logins.js';
import { startRuntime, type RuntimeHarness } from '../support/runtime-harness.js';

const CONFIG = `import { defineConfig } from 'lastmile';
export default defineConfig({
  environments: { dev: { warehouse: { urlEnv: 'LC_WAREHOUSE_URL' }, alerts: { log: true } } },
  promotion: ['dev'],
});
`;

const COLUMNS = [
  { name: 'tenant', type: 'text' },
  { name: 'n', type: 'integer' },
];

// an expiry an hour out, changed in code to 20 seconds (from the first grant)
const moving = (expires: string) =>
  productModule({
    name: 'moving',
    source: "select tenant, n from ${table('scratch.facts')}",
    columns: COLUMNS,
    key: ['n'],
    serve: [`share({ name: 'moved', to: 'moved', rowFilter: 'tenant', consumers: [{ id: 'mover', tenant: 'a', expires: '${expires}' }] })`],
  });

const products = {
  // one consumer whose access ends 12 s after its first grant, told 6 s ahead; one whose access never ends
  expiring: productModule({
    name: 'expiring',
    source: "select tenant, n from ${table('scratch.facts')}",
    columns: COLUMNS,
    key: ['n'],
    serve: [`share({ name: 'timed', to: 'timed', rowFilter: 'tenant', noticeBefore: '6s', consumers: [{ id: 'short', tenant: 'a', expires: '12s' }, { id: 'lasting', tenant: 'b' }] })`],
  }),
  // unused for 16 s (told 6 s ahead): the one that never reads loses its access, the one that reads keeps it
  idle: productModule({
    name: 'idle',
    source: "select tenant, n from ${table('scratch.facts')}",
    columns: COLUMNS,
    key: ['n'],
    serve: [`share({ name: 'quiet', to: 'quiet', sunsetAfter: '16s', noticeBefore: '6s', consumers: ['reader', 'idler'] })`],
  }),
  moving: moving('1h'),
  board: productModule({
    name: 'board',
    source: "select tenant, n from ${table('scratch.facts')}",
    columns: COLUMNS,
    key: ['n'],
    serve: [`dashboard({ name: 'board', schema: 'dash', objects: [{ name: 'totals', sql: sql\`select tenant, sum(n)::int as total from \${table('scratch.facts')} group by tenant\`, refresh: 'swap' }] })`],
  }),
};

// written once board has run: a product's source must exist when a session opens
const BOARD_SHARE = productModule({
    name: 'board_share',
    source: "select tenant, total from ${table('dash.totals')}",
    columns: [
      { name: 'tenant', type: 'text' },
      { name: 'total', type: 'integer' },
    ],
    key: ['tenant'],
    serve: [`share({ name: 'totals', to: 'boards', consumers: ['viewer'] })`],
  });

describe('a share over time', () => {
  let rt: RuntimeHarness;
  let admin: pg.Pool;
  let logins: Logins;
  // the devserver started again by the expiry test, stopped at the end
  let restarted: DevServer | undefined;
  const loginAs = (role: string) => logins.as(role);

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async function grantState(product: string, consumer: string) {
    return (await admin.query(`select revoked_at, revoke_reason, noticed_at, sunset_at, last_used_at, expires_at from lastmile.share_grants where product = $1 and consumer = $2`, [product, consumer])).rows[0];
  }

  /** A worker of our own on the session's task queue: it can be stopped and started again, as a restarted process would. */
  async function runWorker<T>(during: () => Promise<T>, session: Session = rt.session): Promise<T> {
    const connection = await connectWorker(session.temporal);
    try {
      const worker = await Worker.create({
        connection,
        namespace: session.temporal.namespace,
        taskQueue: session.temporal.taskQueue,
        workflowBundle: await workflowBundle(),
        activities: createActivities(session.context),
      });
      return await worker.runUntil(during);
    } finally {
      await connection.close();
    }
  }

  beforeAll(async () => {
    rt = await startRuntime({
      config: CONFIG,
      warehouseUrlEnv: 'LC_WAREHOUSE_URL',
      worker: false,
      products,
      // a real warehouse: the roles exist, and so does pg_stat_statements (the embedded PostgreSQL preloads it)
      sql: `create extension pg_stat_statements;
            create schema scratch;
            create table scratch.facts (tenant text, n integer primary key);
            insert into scratch.facts values ('a', 1), ('a', 2), ('b', 3);
            create role timed_short nologin; create role timed_lasting nologin;
            create role quiet_reader nologin; create role moved_mover nologin; create role quiet_idler nologin; create role boards_viewer nologin;`,
    });
    admin = new pg.Pool({ connectionString: rt.server.urlFor('warehouse_dev'), max: 2 });
    admin.on('error', () => undefined); // idle clients die when the server stops at the end
    logins = realLogins(admin, (database) => rt.server.urlFor(database));
  }, 120_000);

  afterAll(async () => {
    await logins?.end();
    await restarted?.stop();
    await admin?.end();
    await rt?.close();
  });

  it('an expiring grant is revoked at its expiry by the durable timer, with no run in between, the worker down and the devserver restarted; the owner is told', async () => {
    const ran = await runWorker(async () => runResult(await startRun(rt.session, rt.product('expiring'))));
    expect(ran.status, ran.error).toBe('succeeded');
    const short = await loginAs('timed_short');
    expect((await short.query('select n from timed.expiring__short order by n')).rows).toEqual([{ n: 1 }, { n: 2 }]);
    const { expires_at: expiresAt } = await grantState('expiring', 'short');
    expect(expiresAt).toBeInstanceOf(Date);
    // the worker is down at the notice and at the expiry, and the devserver restarts in between: the timer is in
    // the server's durable state, fires after the restart, and its task waits for a worker
    const port = Number(new URL(`http://${rt.devserver.address}`).port);
    await rt.devserver.stop();
    restarted = await startDevServer({ port, databaseUrl: rt.server.urlFor('temporal') });
    {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, (expiresAt as Date).getTime() - Date.now() + 1500)));
      expect((await grantState('expiring', 'short')).revoked_at).toBeNull();
      await runWorker(async () => {
        await until('the expiry', async () => ((await grantState('expiring', 'short')).revoked_at ? true : undefined), 30_000);
      });
    }
    expect((await grantState('expiring', 'short')).revoke_reason).toBe('expired');
    await expect(short.query('select n from timed.expiring__short')).rejects.toThrow(/does not exist|permission denied/);
    expect((await admin.query(`select has_table_privilege('timed_short', 'timed.expiring__short', 'SELECT') as ok`).catch(() => ({ rows: [{ ok: false }] }))).rows[0].ok).toBe(false);
    // the other consumer is untouched, and no run happened after the first
    const lasting = await loginAs('timed_lasting');
    expect((await lasting.query('select n from timed.expiring__lasting')).rows).toEqual([{ n: 3 }]);
    expect((await admin.query(`select count(*)::int as n from lastmile.runs where product = 'expiring'`)).rows[0].n).toBe(1);
    // a run grants its own product's shares only: idle's are first granted by idle's run, after its checks
    expect((await admin.query(`select count(*)::int as n from lastmile.share_grants where product = 'idle'`)).rows[0].n).toBe(0);
    const ledger = await admin.query(`select detail->>'revokedBecause' as why from lastmile.grants_ledger where object = 'timed.expiring__short' and grantee = 'timed_short'`);
    expect(ledger.rows).toEqual([{ why: 'expired' }]);
    const alert = await admin.query(`select message from lastmile.alerts where kind = 'share' and product = 'expiring'`);
    expect(alert.rows.map((r) => r.message)).toEqual([expect.stringMatching(/consumer short's access \(role timed_short, timed\.expiring__short\) expired at/)]);
  }, 120_000);

  it('usage from pg_stat_statements: sunsetAfter revokes the consumer that never read, with notice; the one that reads keeps access', async () => {
    await runWorker(async () => {
      const ran = await runResult(await startRun(rt.session, rt.product('idle')));
      expect(ran.status, ran.error).toBe('succeeded');
      // the baseline is sampled at the grant: usage is known, each sunset set
      const first = await grantState('idle', 'idler');
      expect(first.sunset_at).toBeInstanceOf(Date);
      const reader = await loginAs('quiet_reader');
      const reading = setInterval(() => void reader.query('select count(*) from quiet.idle__reader').catch(() => undefined), 1000);
      try {
        await until('the idle consumer sunset', async () => ((await grantState('idle', 'idler')).revoked_at ? true : undefined), 45_000);
      } finally {
        clearInterval(reading);
      }
      expect((await reader.query('select count(*)::int as n from quiet.idle__reader')).rows[0].n).toBe(3);
    });
    const idler = await grantState('idle', 'idler');
    expect(idler.revoke_reason).toBe('unused');
    expect(idler.last_used_at).toBeNull();
    const reader = await grantState('idle', 'reader');
    expect(reader.revoked_at).toBeNull();
    expect(reader.last_used_at).toBeInstanceOf(Date);
    expect(reader.sunset_at.getTime()).toBeGreaterThan(idler.sunset_at.getTime());
    expect((await admin.query(`select to_regclass('quiet.idle__idler') as v`)).rows[0].v).toBeNull();
    const ledger = await admin.query(`select detail->>'revokedBecause' as why from lastmile.grants_ledger where object = 'quiet.idle__idler'`);
    expect(ledger.rows).toEqual([{ why: 'unused' }]);
    // told ahead of the revoke, and only about the idle one
    const alerts = await admin.query(`select message, raised_at from lastmile.alerts where kind = 'share' and product = 'idle'`);
    expect(alerts.rows.map((r) => r.message)).toEqual([expect.stringMatching(/consumer idler's access .* will be revoked at .* for being unused/)]);
    expect(alerts.rows[0].raised_at.getTime()).toBeLessThan(idler.revoked_at.getTime());
  }, 120_000);

  it('a dashboard rebuild keeps the shared view on its object readable, with the new data', async () => {
    expect((await runWorker(async () => runResult(await startRun(rt.session, rt.product('board'))))).status).toBe('succeeded');
    await rt.project.write('products/board_share.ts', BOARD_SHARE);
    const loaded = await loadProject(rt.project.root);
    const session = await openSession(loaded, { env: 'dev', worker: false });
    try {
      await runWorker(async () => {
        const shared = await runResult(await startRun(session, loaded.products.get('board_share')!));
        expect(shared.status, shared.error).toBe('succeeded');
        const viewer = await loginAs('boards_viewer');
        expect((await viewer.query('select tenant, total from boards.board_share__viewer order by tenant')).rows).toEqual([
          { tenant: 'a', total: 3 },
          { tenant: 'b', total: 3 },
        ]);
        await admin.query(`insert into scratch.facts values ('b', 10)`);
        const rebuilt = await runResult(await startRun(session, loaded.products.get('board')!));
        expect(rebuilt.status, rebuilt.error).toBe('succeeded');
        expect(rebuilt.targets[0]?.detail).toMatch(/shares: /);
        expect((await viewer.query('select tenant, total from boards.board_share__viewer order by tenant')).rows).toEqual([
          { tenant: 'a', total: 3 },
          { tenant: 'b', total: 13 },
        ]);
        // the replaced relation is gone: nothing reads it any more
        expect((await admin.query(`select count(*)::int as n from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname = 'dash' and c.relname like 'totals__lm_old%'`)).rows[0].n).toBe(0);
      }, session);
    } finally {
      await session.close();
    }
  }, 120_000);

  it('an expiry changed in code moves the timer when the products are deployed, with no run', async () => {
    expect((await runWorker(async () => runResult(await startRun(rt.session, rt.product('moving'))))).status).toBe('succeeded');
    const granted = await grantState('moving', 'mover');
    expect(granted.expires_at.getTime() - Date.now()).toBeGreaterThan(50 * 60_000);
    await rt.project.write('products/moving.ts', moving('20s'));
    const loaded = await loadProject(rt.project.root);
    const session = await openSession(loaded, { env: 'dev', worker: false });
    try {
      await runWorker(async () => {
        // what a deploy does (lastmile dev): the timer is told, and reads the expiry from the code now deployed
        expect(await signalShareTimer({ client: session.client, env: 'dev', taskQueue: session.temporal.taskQueue, products: [...loaded.products.values()] })).toBe('lastmile/dev/shares/expiry');
        await until('the moved expiry', async () => ((await grantState('moving', 'mover')).revoked_at ? true : undefined), 60_000);
      }, session);
    } finally {
      await session.close();
    }
    const revoked = await grantState('moving', 'mover');
    expect(revoked.revoke_reason).toBe('expired');
    // at the new expiry (20 s after the first grant), not the old one an hour out
    const firstGrant = (await admin.query(`select first_granted_at from lastmile.share_grants where product = 'moving'`)).rows[0].first_granted_at as Date;
    expect(revoked.revoked_at.getTime()).toBeGreaterThanOrEqual(firstGrant.getTime() + 20_000 - 1000);
    expect(revoked.revoked_at.getTime()).toBeLessThan(firstGrant.getTime() + 20_000 + 30_000);
    expect((await admin.query(`select count(*)::int as n from lastmile.runs where product = 'moving'`)).rows[0].n).toBe(1);
  }, 120_000);
});

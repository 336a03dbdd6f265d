import { execFile, execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedPostgres, stopEmbeddedPostgres } from '../../src/runtime/warehouse.js';
import { startEmbeddedPostgres } from '../../src/warehouse/embedded.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const isRoot = process.getuid?.() === 0;
const cleanup: string[] = [];

afterAll(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    await query(url, 'select 1');
    return true;
  } catch {
    return false;
  }
}

/** uid/gid of an unprivileged account: `nobody`, or a `lastmile-test` user created for the purpose. */
function unprivilegedUser(): { uid: number; gid: number } {
  const lookup = (name: string): { uid: number; gid: number } | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return uid > 0 ? { uid, gid } : undefined;
    } catch {
      return undefined;
    }
  };
  const found = lookup('nobody') ?? lookup('lastmile-test');
  if (found) return found;
  execFileSync('useradd', ['--system', '--no-create-home', 'lastmile-test']);
  const created = lookup('lastmile-test');
  if (!created) throw new Error('Could not find or create an unprivileged user for the test.');
  return created;
}

describe('embedded Postgres', () => {
  it('one process, two projects: each root gets its own cluster, and stopping one leaves the other running', async () => {
    const a = await mkdtemp(path.join(tmpdir(), 'lastmile-root-a-'));
    const b = await mkdtemp(path.join(tmpdir(), 'lastmile-root-b-'));
    cleanup.push(a, b);
    const [first, second] = [await embeddedPostgres(a), await embeddedPostgres(b)];
    try {
      expect(first.dataDir).toBe(path.join(a, '.lastmile', 'pg'));
      expect(second.dataDir).toBe(path.join(b, '.lastmile', 'pg'));
      expect(second.port).not.toBe(first.port);
      expect(await embeddedPostgres(a)).toBe(first);
      await stopEmbeddedPostgres(a);
      expect(await answers(first.url)).toBe(false);
      expect(await answers(second.url)).toBe(true);
    } finally {
      await stopEmbeddedPostgres(a);
      await stopEmbeddedPostgres(b);
    }
  });

  it('starts, answers, reuses a running server, stops, and keeps data across restarts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lastmile-embedded-'));
    cleanup.push(dir);
    const dataDir = path.join(dir, 'pg');

    const first = await startEmbeddedPostgres({ dataDir });
    expect(first.owned).toBe(true);
    expect(await query<{ one: number }>(first.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    await first.ensureDatabase('shop');
    await first.ensureDatabase('shop'); // idempotent
    await query(first.urlFor('shop'), `create table kept (id int primary key, note text); insert into kept values (1, 'survives restarts')`);

    // A second start on the same folder finds the running server and does not own it.
    const second = await startEmbeddedPostgres({ dataDir });
    expect(second.owned).toBe(false);
    expect(second.port).toBe(first.port);
    await second.stop(); // not the owner: leaves the server running
    expect(await answers(first.url)).toBe(true);

    await first.stop();
    await first.stop(); // twice is harmless
    expect(await answers(first.url)).toBe(false);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);

    const third = await startEmbeddedPostgres({ dataDir });
    expect(third.owned).toBe(true);
    expect(await query(third.urlFor('shop'), 'select id, note from kept')).toEqual([{ id: 1, note: 'survives restarts' }]);
    await third.stop();
  });

  it('removes an ephemeral cluster on stop', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lastmile-embedded-'));
    cleanup.push(dir);
    const dataDir = path.join(dir, 'pg');
    const server = await startEmbeddedPostgres({ dataDir, ephemeral: true });
    expect(await answers(server.url)).toBe(true);
    await server.stop();
    expect(existsSync(dataDir)).toBe(false);
  });

  it.runIf(isRoot)('runs as root by handing the cluster to the postgres user', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lastmile-embedded-'));
    cleanup.push(dir);
    const dataDir = path.join(dir, 'pg');
    const server = await startEmbeddedPostgres({ dataDir });
    try {
      const owner = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      expect(statSync(dataDir).uid).toBe(owner);
      const [row] = await query<{ user: string }>(server.url, 'select current_user as user');
      expect(row?.user).toBe('postgres');
    } finally {
      await server.stop();
    }
  });

  it.runIf(isRoot)('starts and stops as an unprivileged user in a folder that user owns', async () => {
    const { uid, gid } = unprivilegedUser();
    const base = await mkdtemp(path.join(tmpdir(), 'lastmile-user-'));
    cleanup.push(base);
    await chmod(base, 0o755);
    const home = path.join(base, 'home');
    await mkdir(home);
    await chown(home, uid, gid);
    const dataDir = path.join(home, 'pg');

    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.NODE_OPTIONS;
    const script = path.join(repoRoot, 'test/warehouse/fixtures/start-as-user.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, dataDir], {
      cwd: repoRoot,
      uid,
      gid,
      env,
      timeout: 90_000,
    });
    const lastLine = stdout.trim().split('\n').at(-1) ?? '';
    const result = JSON.parse(lastLine) as { uid: number; owned: boolean; port: number; one: number };
    expect(result).toMatchObject({ uid, owned: true, one: 1 });
    expect(statSync(path.join(dataDir, 'PG_VERSION')).uid).toBe(uid);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(await answers(`postgres://postgres:x@127.0.0.1:${result.port}/postgres`)).toBe(false);
  });
});

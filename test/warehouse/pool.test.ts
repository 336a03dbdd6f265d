import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/warehouse/embedded.js';
import {
  connectPool,
  createPool,
  explainConnectionError,
  redactUrl,
  scrubSecrets,
  WarehouseConnectionError,
} from '../../src/warehouse/pool.js';
import { startTestPostgres, type TestPostgres } from './support.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://alice:s3cret@db.example.com:5432/shop', 'postgres://alice:***@db.example.com:5432/shop'],
    ['postgresql://alice:p%40ss%2Fword@db/shop?sslmode=require', 'postgresql://alice:***@db/shop?sslmode=require'],
    ['postgres://db/shop?user=alice&password=s3cret', 'postgres://db/shop?user=alice&password=***'],
    ['postgres://alice@db/shop', 'postgres://alice@db/shop'],
    ['postgres://db:5432/shop', 'postgres://db:5432/shop'],
  ])('hides the password of %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('hides passwords in strings that are not valid URLs', () => {
    expect(redactUrl('postgres://alice:pa#ss@db/shop')).toBe('postgres://alice:***@db/shop');
    expect(redactUrl('postgres://alice:pa/ss@w@rd@db/shop')).not.toMatch(/pa\/ss|w@rd/);
    expect(redactUrl('host=db user=alice password=s3cret dbname=shop')).toBe('host=db user=alice password=*** dbname=shop');
    expect(redactUrl("host=db password='with space' dbname=shop")).toBe('host=db password=*** dbname=shop');
  });

  it('scrubs a password out of free text, encoded or not', () => {
    const url = 'postgres://alice:p%40ssw0rd@db/shop';
    expect(scrubSecrets('failed with p@ssw0rd and p%40ssw0rd', url)).toBe('failed with *** and ***');
  });
});

describe('connection errors', () => {
  const password = 'hunter2-do-not-print';

  it('names the env var, host and port when nothing listens, without the password', async () => {
    const port = await freePort();
    const url = `postgres://alice:${password}@127.0.0.1:${port}/shop`;
    const error = await connectPool(url, { envVar: 'LASTMILE_WAREHOUSE_URL', connectionTimeoutMillis: 3000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseConnectionError);
    const e = error as WarehouseConnectionError;
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.envVar).toBe('LASTMILE_WAREHOUSE_URL');
    expect(e.message).toContain('LASTMILE_WAREHOUSE_URL');
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toContain('refused');
    expect(e.message).toContain('postgres://alice:***@');
    expect(`${e.message}\n${e.stack ?? ''}\n${e.url}`).not.toContain(password);
  });

  it('explains a host that does not resolve', () => {
    const dnsError = Object.assign(new Error('getaddrinfo ENOTFOUND warehouse.invalid'), { code: 'ENOTFOUND' });
    const e = explainConnectionError(dnsError, `postgres://bob:${password}@warehouse.invalid/db`, { envVar: 'WAREHOUSE_URL' });
    expect(e.message).toMatch(/host name "warehouse\.invalid" does not resolve/);
    expect(e.message).toContain('WAREHOUSE_URL');
    expect(e.message).not.toContain(password);
  });

  it('says when no URL is configured', () => {
    expect(() => createPool('', { envVar: 'LASTMILE_WAREHOUSE_URL' })).toThrow(/Set LASTMILE_WAREHOUSE_URL/);
  });

  describe('against a real server', () => {
    let pg: TestPostgres;
    beforeAll(async () => {
      pg = await startTestPostgres();
    });
    afterAll(async () => {
      await pg?.stop();
    });

    it('connects and queries', async () => {
      const pool = await connectPool(pg.server.url, { max: 2 });
      try {
        const { rows } = await pool.query<{ one: number }>('select 1 as one');
        expect(rows).toEqual([{ one: 1 }]);
        expect(pool.redactedUrl).not.toContain('lastmile-embedded');
      } finally {
        await pool.end();
      }
    });

    it('reports a wrong password without printing it, also through pool.query', async () => {
      const url = `postgres://postgres:${password}@127.0.0.1:${pg.server.port}/postgres`;
      const pool = createPool(url, { envVar: 'LASTMILE_WAREHOUSE_URL', label: 'warehouse of env "test"' });
      try {
        const error = await pool.query('select 1').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WarehouseConnectionError);
        const e = error as WarehouseConnectionError;
        expect(e.code).toBe('28P01');
        expect(e.message).toContain('warehouse of env "test"');
        expect(e.message).toContain('password authentication failed for user "postgres"');
        expect(e.message).not.toContain(password);
      } finally {
        await pool.end();
      }
    });

    it('reports a missing database by name', async () => {
      const url = pg.server.urlFor('no_such_db');
      const error = await connectPool(url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WarehouseConnectionError);
      expect((error as Error).message).toContain('database "no_such_db" does not exist');
      expect((error as Error).message).not.toContain('lastmile-embedded');
    });

    it('leaves query errors alone', async () => {
      const pool = createPool(pg.server.url);
      try {
        const error = await pool.query('select * from no_such_table').catch((e: unknown) => e);
        expect(error).not.toBeInstanceOf(WarehouseConnectionError);
        expect((error as { code?: string }).code).toBe('42P01');
      } finally {
        await pool.end();
      }
    });
  });
});

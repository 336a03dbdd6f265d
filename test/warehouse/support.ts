/** Shared by the warehouse and meta suites: a throwaway embedded Postgres in a mkdtemp folder. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/warehouse/embedded.js';

export interface TestPostgres {
  server: EmbeddedPostgresHandle;
  /** Creates a new empty database and returns its URL. */
  freshDatabase(name: string): Promise<string>;
  /** A pool on `url`, closed by `stop()`. */
  pool(url: string, max?: number): pg.Pool;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lastmile-test-'));
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), ephemeral: true });
  const pools: pg.Pool[] = [];
  return {
    server,
    async freshDatabase(name) {
      await server.ensureDatabase(name);
      return server.urlFor(name);
    },
    pool(url, max = 5) {
      const pool = new pg.Pool({ connectionString: url, max });
      pool.on('error', () => undefined); // idle clients die when the server stops at the end
      pools.push(pool);
      return pool;
    },
    async stop() {
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

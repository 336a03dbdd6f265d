import path from 'node:path';
import type pg from 'pg';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { createMetaStore, type MetaStore } from '../meta/index.js';
import { connectPool } from '../warehouse/pool.js';
import { applySeed, type SeedResult } from '../warehouse/seeding/index.js';
import { embeddedDataDir, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../warehouse/embedded.js';
import type { SchemaMap } from '../product/source.js';
import { UnavailableError } from '../errors.js';

/** An environment's warehouse: a pool, its schema map, and lastmile's metadata store inside it. */
export interface Warehouse {
  env: string;
  pool: pg.Pool;
  meta: MetaStore;
  schemas: SchemaMap;
  /** where it lives, without credentials */
  description: string;
  embedded: boolean;
  close(): Promise<void>;
}

export interface WarehouseOptions {
  /** project folder holding `.lastmile/` (default: the working directory) */
  root?: string;
  /** apply the configured seed (`seed` in lastmile.config.ts) when the warehouse is embedded (default true) */
  seed?: boolean;
  /** scale of the seed (default 1) */
  scale?: number;
  onSeed?: (result: SeedResult) => void;
  log?: (line: string) => void;
}

/** The embedded PostgreSQL of each project this process opened, by data folder. */
const embeddedServers = new Map<string, Promise<EmbeddedPostgresHandle>>();

/** The embedded PostgreSQL server of a project (started once per process and project, reused when already running). */
export function embeddedPostgres(root: string): Promise<EmbeddedPostgresHandle> {
  const dataDir = embeddedDataDir(path.resolve(root));
  let server = embeddedServers.get(dataDir);
  if (!server) {
    server = startEmbeddedPostgres({ dataDir });
    embeddedServers.set(dataDir, server);
    // a start that failed is not kept: the next call tries again
    server.catch(() => embeddedServers.get(dataDir) === server && embeddedServers.delete(dataDir));
  }
  return server;
}

/** Stops the project's embedded server if this process started it. */
export async function stopEmbeddedPostgres(root: string): Promise<void> {
  const dataDir = embeddedDataDir(path.resolve(root));
  const server = embeddedServers.get(dataDir);
  embeddedServers.delete(dataDir);
  if (server) await (await server).stop();
}

/** The URL of a real warehouse, from the variable the environment names; `UnavailableError` when it is not set. */
export function warehouseUrlFromVariable(envName: string, urlEnv: string): string {
  const value = process.env[urlEnv];
  if (!value) {
    throw new UnavailableError(
      `Environment ${envName} reads its warehouse URL from the environment variable ${urlEnv}, which is not set. ` +
        `Set it (export ${urlEnv}=postgres://user:password@host:5432/db) or remove warehouse.urlEnv from lastmile.config.ts to use the embedded warehouse.`,
    );
  }
  return value;
}

/** Database name of an environment's embedded warehouse. */
export function embeddedDatabase(env: string): string {
  return `warehouse_${env.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
}

/**
 * Opens the warehouse of `env`: the URL in its env var, or embedded Postgres (seeded with the configured seed, if any).
 * Applies the metadata store's migrations either way.
 */
export async function openWarehouse(env: ResolvedEnvironment, options: WarehouseOptions = {}): Promise<Warehouse> {
  const root = options.root ?? process.cwd();
  let url: string;
  let description: string;
  const embedded = env.warehouse.kind === 'embedded';
  if (env.warehouse.kind === 'url') {
    url = warehouseUrlFromVariable(env.name, env.warehouse.urlEnv);
    description = `the warehouse in $${env.warehouse.urlEnv}`;
  } else {
    const server = await embeddedPostgres(root);
    const database = embeddedDatabase(env.name);
    await server.ensureDatabase(database);
    url = server.urlFor(database);
    description = `embedded PostgreSQL (${embeddedDataDir(root)}, database ${database})`;
  }
  const pool = await connectPool(url, {
    label: `the ${env.name} warehouse`,
    ...(env.warehouse.kind === 'url' && { envVar: env.warehouse.urlEnv }),
    max: 8,
  });
  try {
    if (env.warehouse.kind === 'embedded' && env.warehouse.seed && options.seed !== false) {
      const result = await applySeed(pool, env.warehouse.seed, { scale: options.scale ?? 1 });
      options.onSeed?.(result);
    }
    const meta = createMetaStore(pool);
    await meta.migrate();
    return { env: env.name, pool, meta, schemas: env.warehouse.schemas, description, embedded, close: () => pool.end() };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}

/**
 * The lastmile runtime in the test process, on real parts: a temporary project, its embedded PostgreSQL (warehouse
 * database `warehouse_dev` plus a `temporal` database), the devserver on a free port, and `openSession` with its
 * worker for the dev environment.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pg from 'pg';
import { startDevServer, type DevServer } from '../../devserver/index.js';
import type { Product } from '../../src/product/model.js';
import { loadProject, openSession, type Project, type Session } from '../../src/runtime/session.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/warehouse/embedded.js';
import { createCliProject, type CliProject } from './cli.js';

export interface RuntimeHarness {
  project: CliProject;
  server: EmbeddedPostgresHandle;
  devserver: DevServer;
  /** a pool on the dev warehouse database (the metadata store lives there too) */
  warehouse: pg.Pool;
  loaded: Project;
  session: Session;
  /** the git SHA of the commit made with `commit`, when asked */
  sha?: string;
  product(name: string): Product;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** product modules by name: `products/<name>.ts` */
  products: Record<string, string>;
  /** text of lastmile.config.ts (default: the repository's); `seed: './seed/retailer/index.ts'` in it seeds the example data */
  config?: string;
  /** SQL run in the warehouse before the project is loaded (the products' sources) */
  sql?: string;
  /** make the project a git repository and commit the products with this message */
  commit?: string;
  /** set this variable to the warehouse URL (for a config whose dev environment reads `urlEnv`) */
  warehouseUrlEnv?: string;
  /** run the in-process worker (default true); false when the test runs workers of its own */
  worker?: boolean;
}

export async function startRuntime(options: RuntimeOptions): Promise<RuntimeHarness> {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed by an earlier suite in this process
  }
  const saved = process.env.TEMPORAL_ADDRESS;
  const savedUrl = options.warehouseUrlEnv !== undefined ? process.env[options.warehouseUrlEnv] : undefined;
  const project = await createCliProject({ products: 'none', ...(options.config !== undefined && { config: options.config }), git: options.commit !== undefined });
  const started: Partial<RuntimeHarness> = { project };
  const close = async (): Promise<void> => {
    if (saved === undefined) delete process.env.TEMPORAL_ADDRESS;
    else process.env.TEMPORAL_ADDRESS = saved;
    if (options.warehouseUrlEnv !== undefined) {
      if (savedUrl === undefined) delete process.env[options.warehouseUrlEnv];
      else process.env[options.warehouseUrlEnv] = savedUrl;
    }
    await started.session?.close();
    await started.devserver?.stop();
    await started.warehouse?.end();
    await started.server?.stop();
    await project.remove();
  };
  try {
    for (const [name, text] of Object.entries(options.products)) await project.write(`products/${name}.ts`, text);
    const sha = options.commit !== undefined ? project.commit(options.commit) : undefined;
    const server = (started.server = await startEmbeddedPostgres({ dataDir: project.dataDir }));
    await server.ensureDatabase('warehouse_dev');
    const warehouse = (started.warehouse = new pg.Pool({ connectionString: server.urlFor('warehouse_dev'), max: 2 }));
    warehouse.on('error', () => undefined); // idle clients die when the server stops at the end
    if (options.sql) await warehouse.query(options.sql);
    if (options.warehouseUrlEnv !== undefined) process.env[options.warehouseUrlEnv] = server.urlFor('warehouse_dev');
    await server.ensureDatabase('temporal');
    const devserver = (started.devserver = await startDevServer({ port: 0, databaseUrl: server.urlFor('temporal') }));
    process.env.TEMPORAL_ADDRESS = devserver.address;
    const loaded = await loadProject(project.root);
    const session = (started.session = await openSession(loaded, { env: 'dev', worker: options.worker !== false }));
    return {
      project,
      server,
      devserver,
      warehouse,
      loaded,
      session,
      ...(sha !== undefined && { sha }),
      product: (name) => {
        const product = loaded.products.get(name);
        if (!product) throw new Error(`no product ${name} in the test project`);
        return product;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

import { resolveEnvironment, type ResolvedEnvironment } from '../../config/resolve.js';
import type { Project } from '../../runtime/project.js';
import { openWarehouse, stopEmbeddedPostgres, type Warehouse } from '../../runtime/warehouse.js';

/**
 * Runs `read` against the metadata store of `envName` (no Temporal; no seeding unless asked), then closes the warehouse and
 * stops an embedded PostgreSQL this process started.
 */
export async function readStore<T>(
  project: Pick<Project, 'config' | 'root'>,
  envName: string,
  read: (warehouse: Warehouse, env: ResolvedEnvironment) => Promise<T>,
  options: { seed?: boolean } = {},
): Promise<T> {
  const env = resolveEnvironment(project.config, envName);
  const warehouse = await openWarehouse(env, { root: project.root, seed: options.seed ?? false });
  try {
    return await read(warehouse, env);
  } finally {
    await warehouse.close();
    await stopEmbeddedPostgres(project.root);
  }
}

/** `2026-11-21 06:00:03` (UTC), for tables. */
export function utc(date: Date | null | undefined): string {
  return date ? date.toISOString().replace('T', ' ').slice(0, 19) : '';
}

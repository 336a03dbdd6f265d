/** The embedded devserver of a project: its state in the project's embedded PostgreSQL (`.lastmile/pg`, database `lastmile`). */
import { startDevServer, type DevServer, type DevServerOptions } from '../../devserver/index.js';
import { embeddedDataDir, startEmbeddedPostgres } from '../warehouse/embedded.js';

export { embeddedDataDir };

/** The database of the devserver's state inside the project's embedded PostgreSQL. */
export const DEVSERVER_DATABASE = 'lastmile';

/**
 * Starts the devserver with its state in the given database, or else in the project's embedded PostgreSQL (started
 * for it, or found running; stopped with the server when this call started it).
 */
export async function startProjectDevServer(root: string, options: Omit<DevServerOptions, 'database'>): Promise<DevServer> {
  return await startDevServer({
    ...options,
    database: async () => {
      const embedded = await startEmbeddedPostgres({ dataDir: embeddedDataDir(root) });
      await embedded.ensureDatabase(DEVSERVER_DATABASE);
      return { url: embedded.urlFor(DEVSERVER_DATABASE), stop: () => embedded.stop() };
    },
  });
}

/**
 * Where an environment's warehouse is, for people to connect to it (`lastmile sql`, `lastmile warehouse url`),
 * found without starting anything. The embedded warehouse's URL carries its password — a local-only credential of
 * the embedded server — so it is shown whole; a real warehouse's URL is shown with the password hidden, naming the
 * variable that holds it.
 */
import path from 'node:path';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { embeddedDataDir, embeddedStatus } from '../warehouse/embedded.js';
import { redactUrl } from '../warehouse/pool.js';
import { embeddedDatabase, warehouseUrlFromVariable } from './warehouse.js';

export type WarehouseAddress =
  | {
      kind: 'embedded';
      env: string;
      /** the URL to connect with; printable (local-only credentials) */
      url: string;
      database: string;
      dataDir: string;
      /** whether the embedded PostgreSQL runs now */
      running: boolean;
      /** the port it listens on, or (not running) the one it will most likely use */
      port: number;
    }
  | {
      kind: 'url';
      env: string;
      /** the URL to connect with — holds the password: never print it */
      url: string;
      /** the URL with the password hidden */
      shown: string;
      /** the variable holding the URL */
      variable: string;
    };

/** The warehouse of `env` in project `root`, looked up without starting or connecting to anything. */
export function warehouseAddress(env: ResolvedEnvironment, root: string): WarehouseAddress {
  if (env.warehouse.kind === 'url') {
    const url = warehouseUrlFromVariable(env.name, env.warehouse.urlEnv);
    return { kind: 'url', env: env.name, url, shown: redactUrl(url), variable: env.warehouse.urlEnv };
  }
  const dataDir = embeddedDataDir(path.resolve(root));
  const status = embeddedStatus(dataDir);
  const database = embeddedDatabase(env.name);
  return { kind: 'embedded', env: env.name, url: status.urlFor(database), database, dataDir, running: status.running, port: status.port };
}

/** The address as it may be printed: the embedded URL whole, a real warehouse's without its password. */
export function printableUrl(address: WarehouseAddress): string {
  return address.kind === 'embedded' ? address.url : address.shown;
}

import { resolveEnvironment } from '../../config/resolve.js';
import type { Config } from '../../config/spec.js';
import { printableUrl, warehouseAddress } from '../../runtime/warehouse-address.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

/**
 * `lastmile warehouse url [--env E]`: the connection URL of the environment's warehouse, on stdout. The embedded
 * warehouse's URL is whole (its password is a local-only one) and is not started: when it is not running, a note
 * says so. A real warehouse's URL is shown with its password hidden, naming the variable that holds it.
 */
export function warehouseUrlCommand(root: string, config: Config, envName: string, out: Output): number {
  const env = resolveEnvironment(config, envName);
  const address = warehouseAddress(env, root);
  if (out.json) {
    out.printJson(
      address.kind === 'embedded'
        ? { env: address.env, embedded: true, url: address.url, database: address.database, port: address.port, running: address.running }
        : { env: address.env, embedded: false, url: address.shown, variable: address.variable },
    );
  } else {
    out.print(printableUrl(address));
  }
  if (address.kind === 'embedded' && !address.running) {
    out.note(`(the embedded PostgreSQL is not running; \`lastmile sql\` or \`lastmile dev\` starts it, on port ${address.port} when that is free)`);
  }
  if (address.kind === 'url') out.note(`(the password is not shown: the whole URL is in $${address.variable})`);
  return EXIT.ok;
}

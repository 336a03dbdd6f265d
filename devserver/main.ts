/**
 * `tsx devserver/main.ts --database URL [--port N]`: runs the devserver in the foreground until Ctrl-C, its state in
 * the given PostgreSQL. (`lastmile devserver` runs it on the project's embedded PostgreSQL instead.)
 */
import { startDevServer } from './index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = arg('port');
const databaseUrl = arg('database');
if (!databaseUrl) {
  process.stderr.write('devserver: --database postgres://… is required (or run `lastmile devserver`, which uses the embedded PostgreSQL)\n');
  process.exit(2);
}
const server = await startDevServer({
  port: port !== undefined ? Number(port) : undefined,
  databaseUrl,
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`lastmile devserver listening on ${server.address} (namespace ${server.namespace})\n`);
const shutdown = (): void => {
  void server.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

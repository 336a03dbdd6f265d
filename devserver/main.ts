/** `tsx devserver/main.ts [--port N] [--database URL]`: runs the devserver in the foreground until Ctrl-C. */
import { startDevServer } from './index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = arg('port');
const server = await startDevServer({
  port: port !== undefined ? Number(port) : undefined,
  databaseUrl: arg('database'),
  dataDir: arg('data-dir'),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`lastmile devserver listening on ${server.address} (namespace ${server.namespace})\n`);
const shutdown = (): void => {
  void server.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

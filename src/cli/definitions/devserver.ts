import { defineCommand } from '../command.js';
import { UsageError } from '../exit-codes.js';

export const devserver = defineCommand({
  name: 'devserver',
  summary: 'the embedded Temporal server alone, in the foreground',
  description: "Keeps its state in the project's embedded PostgreSQL under .lastmile/pg unless a database is given; Ctrl-C stops it.",
  arguments: [],
  options: {
    port: { type: 'string', value: 'N', description: 'the port to listen on (default 7233; 0 picks a free one)' },
    database: { type: 'string', value: 'URL', description: 'keep the state in this PostgreSQL database instead' },
    'max-payload-bytes': { type: 'string', value: 'N', description: 'refuse payloads over N bytes (default 2 MiB)' },
    'max-history-bytes': { type: 'string', value: 'N', description: 'refuse histories over N bytes (default 50 MiB)' },
  },
  env: false,
  json: false,
  examples: ['lastmile devserver', 'lastmile devserver --port 7234 --database postgres://user:pass@localhost:5432/temporal'],
  async handler({ options, root, out }) {
    const port = Number(options.port ?? '7233');
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got ${options.port}`);
    const limit = (name: 'max-payload-bytes' | 'max-history-bytes'): number | undefined => {
      const text = options[name];
      if (text === undefined) return undefined;
      const n = Number(text);
      if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of bytes, got ${text}`);
      return n;
    };
    const { devserverCommand } = await import('../commands/devserver.js');
    return await devserverCommand(root, { port, database: options.database, payloadBytes: limit('max-payload-bytes'), historyBytes: limit('max-history-bytes') }, out);
  },
});

import { loadConfig } from '../../config/load.js';
import { defineCommand } from '../command.js';
import { UsageError } from '../exit-codes.js';

export const sql = defineCommand({
  name: 'sql',
  summary: "open the environment's warehouse in psql (or a built-in prompt without psql), or run one statement",
  description:
    'Uses psql when it is on PATH, else a built-in prompt that prints each result as a table. An embedded PostgreSQL that is not ' +
    'running is started for the session and stopped after it. With --json (and -c), the result as JSON.',
  arguments: [],
  options: {
    command: { type: 'string', short: 'c', value: 'SQL', description: 'run this statement, print its result and exit' },
  },
  env: true,
  json: true,
  examples: ['lastmile sql', 'lastmile sql -c "select * from dashboards.return_rate_weekly limit 5"'],
  async handler({ options, root, env, out }) {
    if (out.json && options.command === undefined) {
      throw new UsageError('sql: --json needs -c "<statement>" (the prompt prints tables). Run lastmile sql --help.');
    }
    const { sqlCommand } = await import('../commands/sql.js');
    return await sqlCommand(root, await loadConfig(root), { env, ...(options.command !== undefined && { command: options.command }) }, out);
  },
});

import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { resolveEnvironment } from '../../config/resolve.js';
import type { Config } from '../../config/spec.js';
import { onPath } from '../../temporal/resolve.js';
import { embeddedDatabase, embeddedPostgres, stopEmbeddedPostgres, warehouseUrlFromVariable } from '../../runtime/warehouse.js';
import { explainConnectionError, redactUrl } from '../../warehouse/pool.js';
import { embeddedDataDir } from '../../warehouse/embedded.js';
import { CommandFailure, EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { sqlPrompt } from './sql-prompt.js';
import { formatResult, resultJson, runStatements } from './sql-statements.js';

export interface SqlOptions {
  env: string;
  /** run this and exit (psql's -c) */
  command?: string;
}

interface Target {
  url: string;
  database: string;
  /** where, for the note on stderr (no password) */
  description: string;
  envVar?: string;
}

/**
 * `lastmile sql [--env E] [-c "..."]`: the environment's warehouse in psql when psql is on PATH (the terminal handed
 * over; with -c, the statement's result), else a built-in prompt; with -c and --json, the result as JSON. An
 * embedded PostgreSQL that is not running is started for the session and stopped after it.
 */
export async function sqlCommand(root: string, config: Config, options: SqlOptions, out: Output): Promise<number> {
  const env = resolveEnvironment(config, options.env);
  let target: Target;
  let embedded = false;
  if (env.warehouse.kind === 'url') {
    const url = warehouseUrlFromVariable(env.name, env.warehouse.urlEnv);
    target = { url, database: databaseOf(url), description: `the ${env.name} warehouse in $${env.warehouse.urlEnv} (${redactUrl(url)})`, envVar: env.warehouse.urlEnv };
  } else {
    embedded = true;
    const server = await embeddedPostgres(root);
    const database = embeddedDatabase(env.name);
    await server.ensureDatabase(database);
    const where = path.relative(process.cwd(), embeddedDataDir(path.resolve(root))) || embeddedDataDir(root);
    target = {
      url: server.urlFor(database),
      database,
      description: `embedded PostgreSQL (${where}, database ${database}, port ${server.port}${server.owned ? '; started for this session, stopped after it' : ''})`,
    };
  }
  try {
    const psql = out.json ? undefined : onPath('psql');
    out.note(`warehouse: ${target.description}${psql ? ` — ${psql}` : options.command === undefined ? ' — the built-in prompt (psql is not on PATH)' : ''}`);
    if (psql) return await runPsql(psql, target, options.command);
    return await runBuiltIn(target, options.command, out);
  } finally {
    if (embedded) await stopEmbeddedPostgres(root);
  }
}

/**
 * psql in the foreground: the password goes in PGPASSWORD, never on its command line. Ctrl-C belongs to psql
 * (it cancels the query) while it runs. psql's exit 2 (connection lost or refused) becomes 3.
 */
async function runPsql(psql: string, target: Target, command: string | undefined): Promise<number> {
  const { connection, password } = withoutPassword(target.url);
  const args = [connection, ...(command !== undefined ? ['--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-c', command] : [])];
  const ignore = (): void => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(psql, args, { stdio: 'inherit', env: { ...process.env, ...(password && { PGPASSWORD: password }) } });
      child.once('error', reject);
      child.once('exit', (exit, signal) => resolve(exit ?? (signal ? 128 : 1)));
    });
    if (code === 0) return EXIT.ok;
    return code === 2 ? EXIT.environment : EXIT.failed;
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
  }
}

/** Without psql: -c runs the statement and prints its result (JSON with --json); otherwise the prompt. */
async function runBuiltIn(target: Target, command: string | undefined, out: Output): Promise<number> {
  const client = new pg.Client({ connectionString: target.url, application_name: 'lastmile sql' });
  try {
    await client.connect();
  } catch (error) {
    throw explainConnectionError(error, target.url, { label: 'warehouse', ...(target.envVar && { envVar: target.envVar }) });
  }
  client.on('error', () => undefined);
  try {
    if (command === undefined) {
      await sqlPrompt(client, target.database, { input: process.stdin, output: process.stdout, error: (line) => process.stderr.write(`${line}\n`) });
      return EXIT.ok;
    }
    let results;
    try {
      results = await runStatements(client, command);
    } catch (error) {
      const detail = error instanceof pg.DatabaseError && error.position ? ` (at character ${error.position})` : '';
      throw new CommandFailure(`the statement failed in ${target.database}: ${error instanceof Error ? error.message : String(error)}${detail}`);
    }
    if (out.json) out.printJson(results.length === 1 ? resultJson(results[0]!) : results.map(resultJson));
    else out.print(results.map(formatResult).join('\n\n'));
    return EXIT.ok;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The URL without its password, and the password (for PGPASSWORD); a string that is not a URL stays as it is. */
function withoutPassword(text: string): { connection: string; password?: string } {
  try {
    const url = new URL(text);
    const password = decodeURIComponent(url.password);
    url.password = '';
    return { connection: url.toString(), ...(password && { password }) };
  } catch {
    return { connection: text };
  }
}

function databaseOf(text: string): string {
  try {
    return decodeURIComponent(new URL(text).pathname.slice(1)) || 'postgres';
  } catch {
    return /\bdbname\s*=\s*(\S+)/.exec(text)?.[1] ?? 'postgres';
  }
}

import pg from 'pg';
import { UnavailableError } from '../errors.js';

/** Where a connection URL came from and what it is for; both appear in error messages. */
export interface PoolOptions {
  /** Environment variable the URL was read from, e.g. `LASTMILE_WAREHOUSE_URL`. Named in errors so people know what to fix. */
  envVar?: string;
  /** What the database is, for messages: "warehouse" (default), "metadata store", "destination crm_mirror"… */
  label?: string;
  /** Most connections the pool opens (default 10). */
  max?: number;
  /** How long to wait for a connection, in ms (default 10 000). */
  connectionTimeoutMillis?: number;
  /** Shown in `pg_stat_activity.application_name` (default `lastmile`). */
  applicationName?: string;
  /** Called when an idle connection breaks (server restart, network drop). The pool replaces it on next use. */
  onIdleError?: (error: Error) => void;
}

/** A connection problem explained in one paragraph; `url` is redacted and safe to print. */
export class WarehouseConnectionError extends UnavailableError {
  override readonly name = 'WarehouseConnectionError';
  constructor(
    message: string,
    readonly url: string,
    readonly code: string | undefined,
    readonly envVar: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const REDACTED = '***';

/**
 * Hides the password of a connection string so it can be printed: the `user:password@` part of a URL, `password=`
 * / `sslpassword=` query parameters, and `password=...` in keyword/value strings (`host=db password=secret`).
 * Strings that do not parse as URLs are redacted by pattern, erring on the side of hiding too much.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.host && !parsed.username) throw new Error('not a server URL');
    if (parsed.password) parsed.password = REDACTED;
    for (const key of ['password', 'sslpassword', 'sslkey']) {
      if (parsed.searchParams.has(key)) parsed.searchParams.set(key, REDACTED);
    }
    return parsed.toString().replaceAll('%2A%2A%2A', REDACTED);
  } catch {
    return url
      .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)(.*)@/i, `$1${REDACTED}@`)
      .replace(/\b((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi, `$1${REDACTED}`);
  }
}

/** The password of a URL in the forms it may appear in text (raw and percent-decoded), for scrubbing messages. */
function passwordsOf(url: string): string[] {
  const found = new Set<string>();
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      found.add(parsed.password);
      try {
        found.add(decodeURIComponent(parsed.password));
      } catch {
        // Malformed escapes: the raw form is scrubbed still.
      }
    }
    for (const key of ['password', 'sslpassword']) {
      const value = parsed.searchParams.get(key);
      if (value) found.add(value);
    }
  } catch {
    const match = /^[a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:(.*)@/i.exec(url);
    if (match?.[1]) found.add(match[1]);
  }
  for (const match of url.matchAll(/\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)/gi)) {
    if (match[1]) found.add(match[1].replace(/^'|'$/g, ''));
  }
  return [...found].filter((secret) => secret.length >= 3);
}

/** Removes every appearance of the URL's password from `text`. */
export function scrubSecrets(text: string, url: string): string {
  let result = text;
  for (const secret of passwordsOf(url)) result = result.split(secret).join(REDACTED);
  return result;
}

interface Endpoint {
  host: string;
  port: string;
  database: string;
  user: string;
}

function endpointOf(url: string): Endpoint {
  try {
    const parsed = new URL(url);
    const hostParam = parsed.searchParams.get('host');
    return {
      host: parsed.hostname || hostParam || 'localhost',
      port: parsed.port || '5432',
      database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || '(default)',
      user: decodeURIComponent(parsed.username) || '(default)',
    };
  } catch {
    return { host: '(unparsable URL)', port: '?', database: '?', user: '?' };
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  if (error instanceof Error && error.cause) return errorCode(error.cause);
  return undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(messageOf).join('; ');
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/**
 * Turns a failure to connect into one readable paragraph: what (which database), where (host, port, database, user,
 * redacted URL, env var) and how to fix it. The password never appears.
 */
export function explainConnectionError(error: unknown, url: string, options: Pick<PoolOptions, 'envVar' | 'label'> = {}): WarehouseConnectionError {
  if (error instanceof WarehouseConnectionError) return error;
  const { host, port, database, user } = endpointOf(url);
  const label = options.label ?? 'warehouse';
  const source = options.envVar ? ` (URL from env var ${options.envVar})` : '';
  const fixIn = options.envVar ? `in ${options.envVar}` : 'in the connection URL';
  const code = errorCode(error);
  const raw = scrubSecrets(messageOf(error), url);
  let why: string;
  let fix: string;
  switch (code) {
    case 'ECONNREFUSED':
      why = 'the connection was refused: nothing listens on that host and port';
      fix = `Start the database server, or fix the host and port ${fixIn}.`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      why = `the host name "${host}" does not resolve`;
      fix = `Check the host name ${fixIn} and your network/DNS.`;
      break;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      why = 'the server did not answer (network unreachable or firewalled)';
      fix = `Check the host and port ${fixIn}, VPN and firewall rules.`;
      break;
    case '28P01':
      why = `password authentication failed for user "${user}"`;
      fix = `Check the user and password ${fixIn} (the password is not shown here).`;
      break;
    case '28000':
      why = `the server does not accept user "${user}" from this machine (role missing or pg_hba.conf rule)`;
      fix = `Use a role that exists and may connect, or ask the database owner to allow it.`;
      break;
    case '3D000':
      why = `database "${database}" does not exist`;
      fix = `Create it, or fix the database name ${fixIn}.`;
      break;
    case '57P03':
      why = 'the server is starting up or shutting down';
      fix = 'Wait a moment and retry.';
      break;
    case '53300':
      why = 'the server has no free connection slots';
      fix = 'Lower the pool size (max) of lastmile and other clients, or raise max_connections.';
      break;
    default:
      if (/timeout/i.test(raw)) {
        why = 'no connection could be made in time';
        fix = `Check that the server is up and reachable, and the host and port ${fixIn}.`;
      } else if (/ssl|certificate|tls/i.test(raw)) {
        why = `the TLS handshake failed (${raw})`;
        fix = `Match sslmode ${fixIn} to what the server supports (e.g. ?sslmode=require, or ?sslmode=disable for a local server).`;
      } else {
        why = raw;
        fix = `Check the connection URL${source ? ` ${fixIn}` : ''}.`;
      }
  }
  const where = `${host}:${port} (database "${database}", user "${user}"; ${redactUrl(url)})${source}`;
  return new WarehouseConnectionError(`Cannot connect to the ${label} at ${where}: ${why}. ${fix}`, redactUrl(url), code, options.envVar, {
    cause: error,
  });
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/** A `pg.Pool` whose connection failures are explained by {@link explainConnectionError}; query errors pass unchanged. */
export class WarehousePool extends pg.Pool {
  /** The pool's URL with the password hidden; safe to print. */
  readonly redactedUrl: string;
  readonly #url: string;
  readonly #explain: Pick<PoolOptions, 'envVar' | 'label'>;

  constructor(url: string, options: PoolOptions = {}) {
    super({
      connectionString: url,
      max: options.max ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
      application_name: options.applicationName ?? 'lastmile',
    });
    this.#url = url;
    this.redactedUrl = redactUrl(url);
    this.#explain = { envVar: options.envVar, label: options.label };
    // Without a listener, a broken idle connection would crash the process with an unhandled 'error' event.
    this.on('error', (error) => options.onIdleError?.(new Error(scrubSecrets(error.message, url))));
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const explain = (error: unknown): WarehouseConnectionError => explainConnectionError(error, this.#url, this.#explain);
    if (callback) {
      super.connect((err, client, done) => callback(err ? explain(err) : undefined, client ? guard(client) : client, done));
      return;
    }
    return super.connect().then(guard, (error: unknown) => {
      throw explain(error);
    });
  }
}

const guarded = new WeakSet<pg.PoolClient>();

/**
 * A checked-out connection whose server goes away (Ctrl-C also stops the embedded PostgreSQL) reports it to the
 * query in flight; without a listener its 'error' event would crash the process as well.
 */
function guard(client: pg.PoolClient): pg.PoolClient {
  if (!guarded.has(client)) {
    guarded.add(client);
    client.on('error', () => undefined);
  }
  return client;
}

/** Creates a pool for `url` without connecting; the first query connects. */
export function createPool(url: string, options: PoolOptions = {}): WarehousePool {
  if (!url || typeof url !== 'string') {
    const where = options.envVar ? `Set ${options.envVar} to` : 'Pass';
    throw new WarehouseConnectionError(
      `No connection URL for the ${options.label ?? 'warehouse'}. ${where} a URL like postgres://user:password@host:5432/database.`,
      '',
      undefined,
      options.envVar,
    );
  }
  return new WarehousePool(url, options);
}

/** Creates a pool and checks it answers `select 1`; a failure is a {@link WarehouseConnectionError} and the pool is closed. */
export async function connectPool(url: string, options: PoolOptions = {}): Promise<WarehousePool> {
  const pool = createPool(url, options);
  try {
    await pool.query('select 1');
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw explainConnectionError(error, url, options);
  }
}

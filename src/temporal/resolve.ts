import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { resolveSecret } from '../product/secret.js';
import { freePort } from '../warehouse/embedded.js';
import { embeddedDataDir, startProjectDevServer } from './devserver.js';
import { UnavailableError } from '../errors.js';

/** Where lastmile's Temporal is, and how it was chosen. */
export interface TemporalTarget {
  /** how it was found: an address from the environment, `temporal server start-dev`, or the embedded devserver */
  source: 'address' | 'temporal-cli' | 'devserver' | 'running-devserver';
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: { clientCertPair?: { crt: Buffer; key: Buffer } } | boolean;
  apiKey?: string;
  /** one line for people: which Temporal and why */
  describe: string;
  /** stops what this process started (nothing for an external server) */
  stop(): Promise<void>;
  /** resolves, with the cause, if the server this process started stops on its own; never otherwise */
  lost?: Promise<Error>;
}

export interface ResolveTemporalOptions {
  /** project folder holding `.lastmile/` */
  root?: string;
  /** preferred port for an embedded devserver (default 7233) */
  port?: number;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** Finds an executable on PATH. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True when a Temporal frontend answers at `address`. */
export async function temporalAnswers(address: string, timeoutMs = 1500): Promise<boolean> {
  // a port nobody listens on refuses at once; only then is a gRPC connection worth its timeout
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  if (!(await portListens(host, port, timeoutMs))) return false;
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** Whether a TCP connection to host:port succeeds within `timeoutMs`. */
async function portListens(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const net = await import('node:net');
  return await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

function tlsFromFiles(env: NodeJS.ProcessEnv): TemporalTarget['tls'] {
  const cert = env.TEMPORAL_TLS_CERT;
  const key = env.TEMPORAL_TLS_KEY;
  if (cert && key) {
    try {
      return { clientCertPair: { crt: readFileSync(cert), key: readFileSync(key) } };
    } catch (error) {
      throw new Error(
        `Could not read the Temporal TLS client certificate (TEMPORAL_TLS_CERT=${cert}) or key (TEMPORAL_TLS_KEY=${key}): ` +
          `${error instanceof Error ? error.message : String(error)}. Point both variables at readable PEM files.`,
      );
    }
  }
  if (cert || key) throw new Error('Set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (file paths), or neither.');
  return env.TEMPORAL_TLS === 'true' ? true : undefined;
}

/**
 * Resolves the Temporal server of an environment, in this order: the environment's address variable (or
 * TEMPORAL_ADDRESS, with TEMPORAL_NAMESPACE and TEMPORAL_API_KEY or TLS cert/key files) → an executable `temporal`
 * on PATH (`temporal server start-dev`) → a devserver already answering on the port → the embedded devserver.
 */
export async function resolveTemporal(env: ResolvedEnvironment, options: ResolveTemporalOptions = {}): Promise<TemporalTarget> {
  const vars = options.env ?? process.env;
  const root = options.root ?? process.cwd();
  const taskQueue = env.temporal.taskQueue;
  const addressVar = env.temporal.kind === 'remote' ? env.temporal.addressEnv : 'TEMPORAL_ADDRESS';
  const address = vars[addressVar];
  if (env.temporal.kind === 'remote' && !address) {
    throw new UnavailableError(
      `Environment ${env.name} reads its Temporal address from ${addressVar}, which is not set. ` +
        `Set it (for Temporal Cloud: export ${addressVar}=<namespace>.<account>.tmprl.cloud:7233) or remove temporal.addressEnv from lastmile.config.ts to use the embedded devserver.`,
    );
  }
  if (address) {
    const namespace = vars.TEMPORAL_NAMESPACE || env.temporal.namespace;
    const apiKey =
      env.temporal.kind === 'remote' && env.temporal.apiKey
        ? resolveSecret(env.temporal.apiKey, `the Temporal connection of ${env.name}`, vars)
        : vars.TEMPORAL_API_KEY || undefined;
    const tls = tlsFromFiles(vars) ?? (apiKey ? true : undefined);
    return {
      source: 'address',
      address,
      namespace,
      taskQueue,
      tls,
      apiKey,
      describe: `Temporal at ${address} (from $${addressVar}), namespace ${namespace}${apiKey ? ', API key' : ''}${tls && !apiKey ? ', mTLS' : ''}`,
      stop: async () => undefined,
    };
  }
  const namespace = env.temporal.namespace;
  const cli = onPath('temporal', vars);
  if (cli) return startTemporalCli(cli, namespace, taskQueue, options);
  const port = options.port ?? 7233;
  const local = `127.0.0.1:${port}`;
  if (await temporalAnswers(local)) {
    const watch = watchPort(port);
    return {
      source: 'running-devserver',
      address: local,
      namespace,
      taskQueue,
      describe: `the Temporal server already running at ${local}, namespace ${namespace}`,
      stop: async () => watch.stop(),
      // another process's server (a lastmile dev or devserver elsewhere): when it goes, this command has nothing to serve on
      lost: watch.lost.then(() => new Error(`the Temporal server at ${local}, which another process runs, stopped answering`)),
    };
  }
  const server = await startProjectDevServer(root, { port: (await portIsFree(port)) ? port : 0, log: options.log });
  return {
    source: 'devserver',
    address: server.address,
    namespace,
    taskQueue,
    describe: `the embedded lastmile devserver at ${server.address} (state in ${embeddedDataDir(root)}), namespace ${namespace}`,
    stop: () => server.stop(),
    lost: server.done.then((error) => error ?? new Promise<Error>(() => undefined)),
  };
}

/** Resolves `lost` once the port refused three connections in a row (checked every 2 s); `stop` ends the watch. */
function watchPort(port: number): { lost: Promise<void>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const lost = new Promise<void>((resolve) => {
    let failures = 0;
    const check = async (): Promise<void> => {
      const answers = await portListens('127.0.0.1', port, 1000);
      if (stopped) return;
      failures = answers ? 0 : failures + 1;
      if (failures >= 3) resolve();
      else timer = setTimeout(() => void check(), 2000).unref();
    };
    timer = setTimeout(() => void check(), 2000).unref();
  });
  return {
    lost,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

async function portIsFree(port: number): Promise<boolean> {
  const net = await import('node:net');
  return await new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function startTemporalCli(
  cli: string,
  namespace: string,
  taskQueue: string,
  options: ResolveTemporalOptions,
): Promise<TemporalTarget> {
  const port = await freePort();
  const args = ['server', 'start-dev', '--headless', '--port', String(port), '--log-level', 'error'];
  if (namespace !== 'default') args.push('--namespace', namespace);
  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await temporalAnswers(address, 1000))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`\`${cli} ${args.join(' ')}\` did not start a Temporal server on ${address}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  options.log?.(`started ${cli} server start-dev on ${address}`);
  let stopping = false;
  const lost = new Promise<Error>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping) resolve(new Error(`\`${cli} server start-dev\` exited (${signal ?? `code ${code}`}): ${stderr.trim() || 'no output'}`));
    }),
  );
  return {
    source: 'temporal-cli',
    address,
    namespace,
    taskQueue,
    describe: `\`temporal server start-dev\` (found on PATH at ${cli}) at ${address}, namespace ${namespace}`,
    lost,
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

import { DefaultLogger, Runtime, type RuntimeOptions } from '@temporalio/worker';
import { SERVING_WORKFLOWS } from '../../workflows/kinds.js';

/**
 * How the CLI installs the Temporal SDK's runtime: lastmile owns SIGINT/SIGTERM (src/cli/signals.ts), and every SDK
 * log line — the TypeScript side's and the native core's, which core would otherwise print to stdout by itself — goes
 * to stderr through one logger, so stdout holds only what a command prints (`--json` stays JSON).
 */
export function sdkRuntimeOptions(debug: boolean): RuntimeOptions {
  return {
    logger: sdkLogger(debug),
    shutdownSignals: [],
    telemetryOptions: { logging: { filter: { core: debug ? 'INFO' : 'WARN', other: 'ERROR' }, forward: {} } },
  };
}

/** Installs the SDK's runtime that way; call it once, before a command connects a worker. */
export function installSdkRuntime(debug: boolean): void {
  Runtime.install(sdkRuntimeOptions(debug));
}

/**
 * The SDK's log: everything with its details under --debug; otherwise warnings and errors as one line each (a failed
 * run's activity errors come back in its summary, without the SDK's stack traces). Both on stderr.
 */
const RUN_WORKFLOWS = new Set(['serveProduct', ...Object.values(SERVING_WORKFLOWS)]);

function sdkLogger(debug: boolean): DefaultLogger {
  if (debug) return new DefaultLogger('INFO'); // DefaultLogger's own output goes to stderr
  return new DefaultLogger('WARN', ({ level, message, meta }) => {
    const error = (meta as { error?: unknown } | undefined)?.error;
    // a run that failed, was blocked or left a target unserved (and a target workflow that failed in it) is lastmile's
    // own outcome, which the run's summary reports; the SDK's copy of it would only repeat it
    const workflowType = (meta as { workflowType?: unknown } | undefined)?.workflowType;
    if (message === 'Workflow failed' && typeof workflowType === 'string' && RUN_WORKFLOWS.has(workflowType)) return;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const reason = cause instanceof Error ? `: ${cause.message.split('\n')[0]}` : '';
    process.stderr.write(`temporal ${level.toLowerCase()}: ${message}${reason}\n`);
  });
}

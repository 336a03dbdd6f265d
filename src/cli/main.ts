import { parseArgs } from 'node:util';
import { Runtime } from '@temporalio/worker';
import { ValidationError, formatProblems } from '../product/problems.js';
import { loadProject } from '../runtime/session.js';
import { openSession } from '../runtime/session.js';
import { UnavailableError } from '../errors.js';
import { devCommand } from './commands/dev.js';
import { devserverCommand } from './commands/devserver.js';
import { listCommand } from './commands/list.js';
import { runCommand } from './commands/run.js';
import { revokeCommand } from './commands/revoke.js';
import { sloCommand } from './commands/slo.js';
import { statusCommand } from './commands/status.js';
import { validateCommand } from './commands/validate.js';
import { workerCommand } from './commands/worker.js';
import { EXIT, UsageError } from './exit-codes.js';
import { createOutput, type Output } from './output.js';
import { sdkRuntimeOptions } from './sdk-runtime.js';

// The AWS SDK warns on every Node below 22 that its releases after January 2027 will need Node 22. lastmile locks
// the SDK version it was tested with (package-lock.json), so in the CLI's own process the warning is only noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = `lastmile — data products as code, served by durable Temporal workflows

Usage: lastmile <command> [options]

Commands:
  dev [--once]                      warehouse + Temporal + worker on the embedded defaults; deploy and run every
                                    product in dev, then keep serving on schedule until Ctrl-C (--once: one round)
  validate [--env E] [--offline]    check lastmile.config.ts and products/ (and contracts against E's warehouse)
  list                              the products, their owners and serving targets
  run <product> [--target T] [--env E]
                                    run one product (or one of its targets) now and print the summary
  status [--env E]                  the latest run of every product in E
  slo [--env E] [--product P]       every SLO in E: SLI over the window, error budget left, fast burn, status
  revoke <product> --target T --version v=<runId> [--env E]
                                    take a published file version back: delete it, repoint _latest.json
  worker [--env E]                  poll E's task queue until SIGINT / SIGTERM
  devserver [--port 7233] [--database URL] [--max-payload-bytes N] [--max-history-bytes N]
                                    the embedded Temporal server alone

Options:
  --env E        environment from lastmile.config.ts (default dev)
  --json         machine-readable output on stdout (validate, list, run, status, slo, dev)
  --root DIR     project folder (default: the current directory)
  --debug        stack traces with errors

Exit codes: 0 success · 1 a run failed or was blocked, or products/config are invalid · 2 bad command line ·
3 something needed is unavailable (warehouse, Temporal, an environment variable)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      env: { type: 'string', default: 'dev' },
      json: { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      root: { type: 'string' },
      once: { type: 'boolean', default: false },
      offline: { type: 'boolean', default: false },
      target: { type: 'string', multiple: true },
      product: { type: 'string' },
      version: { type: 'string' },
      port: { type: 'string', default: '7233' },
      database: { type: 'string' },
      'max-payload-bytes': { type: 'string' },
      'max-history-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const out = createOutput({ json: values.json, debug: values.debug });
  const [command, ...rest] = positionals;
  if (values.help || !command || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command || values.help ? EXIT.ok : EXIT.usage;
  }
  // lastmile stops its workers itself on SIGINT / SIGTERM (see signals.ts), after draining them.
  Runtime.install(sdkRuntimeOptions(values.debug));
  const root = values.root ?? process.cwd();
  const expectArgs = (n: number, usage: string): void => {
    if (rest.length !== n) throw new UsageError(`usage: lastmile ${usage}`);
  };
  switch (command) {
    case 'validate':
      expectArgs(0, 'validate [--env E] [--offline] [--json]');
      return validateCommand(root, { env: values.env, offline: values.offline }, out);
    case 'list':
      expectArgs(0, 'list [--json]');
      return listCommand(await loadProject(root), out);
    case 'status':
      expectArgs(0, 'status [--env E] [--json]');
      return statusCommand(await loadProject(root), values.env, out);
    case 'slo':
      expectArgs(0, 'slo [--env E] [--product P] [--json]');
      return sloCommand(await loadProject(root), { env: values.env, product: values.product }, out);
    case 'dev':
      expectArgs(0, 'dev [--once] [--json]');
      return devCommand(await loadProject(root), { once: values.once }, out);
    case 'revoke': {
      const usage = 'revoke <product> --target T --version v=<runId> [--env E] [--json]';
      expectArgs(1, usage);
      if (values.target?.length !== 1 || values.version === undefined) throw new UsageError(`usage: lastmile ${usage}`);
      return revokeCommand(await loadProject(root), { env: values.env, product: rest[0]!, target: values.target[0]!, version: values.version }, out);
    }
    case 'worker':
      expectArgs(0, 'worker [--env E]');
      return workerCommand(await loadProject(root), values.env, out);
    case 'devserver': {
      expectArgs(0, 'devserver [--port 7233] [--database URL]');
      const port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got ${values.port}`);
      const limit = (name: 'max-payload-bytes' | 'max-history-bytes'): number | undefined => {
        const text = values[name];
        if (text === undefined) return undefined;
        const n = Number(text);
        if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of bytes, got ${text}`);
        return n;
      };
      return devserverCommand(
        root,
        { port, database: values.database, payloadBytes: limit('max-payload-bytes'), historyBytes: limit('max-history-bytes') },
        out,
      );
    }
    case 'run': {
      expectArgs(1, 'run <product> [--target T] [--env E] [--json]');
      const project = await loadProject(root);
      const product = project.products.get(rest[0]);
      if (!product) {
        throw new UsageError(`no product named ${rest[0]} in ${root}/products; the products are ${[...project.products.keys()].sort().join(', ')}`);
      }
      const unknownTargets = (values.target ?? []).filter((t) => !product.serve.some((s) => s.name === t));
      if (unknownTargets.length > 0) {
        throw new UsageError(
          `product ${product.name} has no target ${unknownTargets.join(', ')}; its targets are ${product.serve.map((t) => t.name).join(', ') || 'none'}`,
        );
      }
      const session = await openSession(project, { env: values.env, log: (line) => out.note(line) });
      try {
        return await runCommand(session, product, values.target, out);
      } finally {
        await session.close();
      }
    }
    default:
      throw new UsageError(`unknown command ${command}; run lastmile --help for the list`);
  }
}

function report(error: unknown, out: Pick<Output, 'debug'>): number {
  if (error instanceof ValidationError) {
    process.stderr.write(`${formatProblems(error.problems)}\n`);
    return EXIT.failed;
  }
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
    process.stderr.write(`lastmile: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`lastmile: ${message}\n`);
  if (out.debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write('(run again with --debug for the stack trace)\n');
  return error instanceof UnavailableError ? EXIT.environment : EXIT.failed;
}

const debug = process.argv.includes('--debug');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(report(error, { debug })),
);

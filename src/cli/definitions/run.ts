import { defineCommand } from '../command.js';
import { UsageError } from '../exit-codes.js';
import { projectWithProduct } from '../project-access.js';

export const run = defineCommand({
  name: 'run',
  summary: 'run one product (or one of its targets) now and print the summary',
  description:
    'Starts serveProduct for the product, reports each target as it finishes, and prints the summary with the checks. ' +
    'Exit 1 when the run failed, was blocked or left a target unserved. On the embedded Temporal it runs a worker in this ' +
    "process; on a real Temporal (the environment's address variable or TEMPORAL_ADDRESS) it only starts the run, which " +
    "the environment's deployed workers execute — --local-worker runs one here instead. Only this product must be valid; " +
    'other invalid modules are named in a warning. With --dry-run and one reverse ETL target, it starts no run: it computes ' +
    "the sync's plan in the environment's warehouse (where it would go, the operations by kind, the guardrails' verdicts, the " +
    'first rows) and rolls it back — no worker, no Temporal, nothing sent or recorded.',
  arguments: [{ name: 'product', description: 'the product to run (a module in products/)' }],
  options: {
    target: { type: 'string', multiple: true, value: 'T', description: 'run only this target of the product' },
    'local-worker': {
      type: 'boolean',
      description: "on a real Temporal, run a worker in this process too (with this machine's credentials) instead of relying on the environment's workers",
    },
    'dry-run': {
      type: 'boolean',
      description: 'reverse ETL targets only: print the plan a sync would send (counts, guardrail verdicts, sample rows), sending and recording nothing',
    },
  },
  env: true,
  json: true,
  examples: ['lastmile run partner_invoices', 'lastmile run partner_invoices --target monthly_csv --env test', 'lastmile run lead_scores --target crm --dry-run'],
  async handler({ options, args, root, env, out }) {
    // what the run needs loads while the project does: the Temporal SDK and the session's modules
    // (a dry run of a sync needs none of them: no worker, no Temporal)
    const dryRun = options['dry-run'] ? import('../commands/sync-dry-run.js') : undefined;
    const modules = dryRun ? undefined : Promise.all([import('../sdk-runtime.js'), import('../../runtime/session.js'), import('../commands/run.js'), import('../signals.js')]);
    modules?.catch(() => undefined);
    dryRun?.catch(() => undefined);
    const { project, product } = await projectWithProduct(root, args[0]!, out);
    const unknownTargets = (options.target ?? []).filter((t) => !product.serve.some((s) => s.name === t));
    if (unknownTargets.length > 0) {
      throw new UsageError(
        `product ${product.name} has no target ${unknownTargets.join(', ')}; its targets are ${product.serve.map((t) => t.name).join(', ') || 'none'}`,
      );
    }
    if (dryRun) {
      const [chosen, ...more] = options.target ?? [];
      const syncTargets = product.serve.filter((t) => t.kind === 'reverseEtl').map((t) => t.name);
      const which = syncTargets.length > 0 ? `its reverse ETL target${syncTargets.length === 1 ? ' is' : 's are'} ${syncTargets.join(', ')}` : `${product.name} has no reverse ETL targets`;
      if (chosen === undefined || more.length > 0) throw new UsageError(`run --dry-run takes exactly one --target, a reverse ETL target of ${product.name}; ${which}`);
      const kind = product.serve.find((t) => t.name === chosen)!.kind;
      if (kind !== 'reverseEtl') throw new UsageError(`run --dry-run is only for reverse ETL targets, and ${product.name}/${chosen} is a ${kind} target; ${which}`);
      if (options['local-worker']) throw new UsageError('run --dry-run runs no worker: drop --local-worker');
      const { syncDryRunCommand } = await dryRun;
      return await syncDryRunCommand(project, product, { env, target: chosen }, out);
    }
    const [{ installSdkRuntime }, { openSession }, { runCommand }, { signalExit, watchSignals }] = await modules!;
    // the Temporal SDK loads only for the commands that run a worker (it takes a few hundred ms)
    installSdkRuntime(out.debug);
    // Ctrl-C from here on stops the command in order (worker, devserver, PostgreSQL), whenever it comes
    const signals = watchSignals();
    const opening = openSession(project, {
      env,
      worker: options['local-worker'] ? true : 'unless-remote',
      checkContracts: [product],
      log: (line) => out.note(line),
    });
    const opened = await Promise.race([opening.then((session) => ({ session })), signals.signal.then((signal) => ({ signal }))]).catch((error: unknown) => {
      signals.release();
      throw error;
    });
    if ('signal' in opened) {
      signals.release();
      await (await opening.catch(() => undefined))?.close();
      out.note(`${opened.signal}: stopped before the run started`);
      return signalExit(opened.signal);
    }
    try {
      return await runCommand(opened.session, product, options.target, out, signals);
    } finally {
      signals.release();
      await opened.session.close();
    }
  },
});

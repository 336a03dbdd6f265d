import { defineCommand } from '../command.js';
import { UsageError } from '../exit-codes.js';
import { positiveInteger } from '../parse.js';
import { wholeProject } from '../project-access.js';

export const promote = defineCommand({
  name: 'promote',
  summary: 'deploy to the next environment exactly the versions (and git SHAs) an environment runs, if every product passes the gates',
  description:
    'For each product the source environment runs (its deployments ledger), the gates: its checks passed in its last N runs of that ' +
    'version there, its SLOs held there (none breached or without measurements), CI recorded its test suite passing at that commit ' +
    '(lastmile ci-record), and no breaking contract change against the target environment unless its major version was bumped. A ' +
    'failed gate prints why, per product, and exits 1 with nothing deployed; --override promotes anyway and records the reason.',
  arguments: [],
  options: {
    from: { type: 'string', value: 'E', required: true, description: 'the environment whose versions move on, e.g. test' },
    to: { type: 'string', value: 'E', required: true, description: 'the next environment in the promotion order, e.g. prod' },
    runs: { type: 'string', value: 'N', description: 'how many of the latest runs of each version must have succeeded (default 3)' },
    suite: { type: 'string', value: 'S', description: 'the CI suite whose result at the commit counts (default test)' },
    override: { type: 'string', value: 'REASON', description: 'promote although gates failed; the reason is recorded in the ledger' },
  },
  env: false,
  json: true,
  examples: ['lastmile promote --from test --to prod', 'lastmile promote --from test --to prod --runs 5'],
  async handler({ options, root, out }) {
    const runs = positiveInteger(options.runs, 'runs', 'promote', 3, 100);
    const project = await wholeProject(root);
    const { promoteCommand } = await import('../commands/promote.js');
    return await promoteCommand(project, { from: options.from, to: options.to, runs, suite: options.suite ?? 'test', ...(options.override !== undefined && { override: options.override }) }, out);
  },
});

export const rollback = defineCommand({
  name: 'rollback',
  summary: "restore an environment to what it ran at a deployment: its products' versions, schedules and SLO monitors",
  description:
    'Takes the deployments ledger as it stood at the row given (lastmile deployments lists them), deploys each product as it was then, ' +
    'removes products deployed since, and records each as a rollback naming the row it restores.',
  arguments: [],
  options: {
    to: { type: 'string', value: 'ID', required: true, description: 'the ledger row to go back to' },
  },
  env: true,
  json: true,
  examples: ['lastmile rollback --env prod --to 42'],
  async handler({ options, root, env, out }) {
    const to = positiveInteger(options.to, 'to', 'rollback', 1, Number.MAX_SAFE_INTEGER);
    const project = await wholeProject(root);
    const { rollbackCommand } = await import('../commands/promote.js');
    return await rollbackCommand(project, { env, to }, out);
  },
});

export const ciRecord = defineCommand({
  name: 'ci-record',
  summary: "record a CI suite's result at a git commit, for the promotion gate",
  description: "Writes the result into the environment's metadata store (lastmile.ci_results); lastmile promote requires the suite to have passed at the commit the source environment runs.",
  arguments: [],
  options: {
    sha: { type: 'string', value: 'SHA', required: true, description: 'the commit tested (git rev-parse HEAD)' },
    status: { type: 'string', value: 'passed|failed', required: true, description: 'what the suite did' },
    suite: { type: 'string', value: 'S', description: 'the suite (default test)' },
    detail: { type: 'string', value: 'TEXT', description: 'a line for people, e.g. the CI run URL' },
  },
  env: true,
  json: true,
  examples: ['lastmile ci-record --env test --sha "$(git rev-parse HEAD)" --status passed'],
  async handler({ options, root, env, out }) {
    if (options.status !== 'passed' && options.status !== 'failed') throw new UsageError(`ci-record --status takes passed or failed, not '${options.status}'`);
    if (!/^[0-9a-f]{7,40}$/.test(options.sha)) throw new UsageError(`ci-record --sha takes a git commit id (7 to 40 hex digits), not '${options.sha}'`);
    const { loadConfig } = await import('../../config/load.js');
    const { ciRecordCommand } = await import('../commands/promote.js');
    return await ciRecordCommand({ config: await loadConfig(root), root }, { env, sha: options.sha, status: options.status, suite: options.suite ?? 'test', ...(options.detail !== undefined && { detail: options.detail }) }, out);
  },
});

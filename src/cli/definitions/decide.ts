import { defineCommand, type CommandArgs } from '../command.js';
import { readableProject } from '../project-access.js';

const DECISION_OPTIONS = {
  target: { type: 'string', value: 'T', description: 'the reverse ETL target whose held sync to decide, when the run holds several' },
  by: { type: 'string', value: 'NAME', description: 'who decides, as the sync log records it (default: your user name)' },
  reason: { type: 'string', value: 'TEXT', description: 'why, for the sync log and the alert' },
} as const;

async function decide(decision: 'approve' | 'reject', { options, args, root, env, out }: CommandArgs<typeof DECISION_OPTIONS>): Promise<number> {
  const [{ decideCommand }, scan] = await Promise.all([import('../commands/decide.js'), readableProject(root, out)]);
  return await decideCommand(
    scan.project,
    {
      env,
      decision,
      run: args[0]!,
      ...(options.target !== undefined && { target: options.target }),
      ...(options.by !== undefined && { by: options.by }),
      ...(options.reason !== undefined && { reason: options.reason }),
    },
    out,
  );
}

export const approve = defineCommand({
  name: 'approve',
  summary: 'approve a sync its guardrails held: the workflow applies exactly the plan it froze',
  description:
    "Finds the run's held sync in lastmile.sync_runs, prints its frozen plan and the guardrails that tripped, signals its " +
    "workflow on the environment's Temporal (its address variable or TEMPORAL_ADDRESS, else the lastmile dev or devserver " +
    'answering on 127.0.0.1:7233) and waits up to 30 s until the decision is recorded. A sync that is not held (applied, ' +
    'rejected, abandoned or superseded) is refused with its state, exit 1.',
  arguments: [{ name: 'run', description: 'the run id (as lastmile syncs shows it), or its first 8 or more characters' }],
  options: DECISION_OPTIONS,
  env: true,
  json: true,
  examples: ['lastmile approve 0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b', 'lastmile approve 0193a1b2 --reason "score scale changed on purpose" --env prod'],
  handler: (args) => decide('approve', args),
});

export const reject = defineCommand({
  name: 'reject',
  summary: 'reject a sync its guardrails held: nothing is sent, the run stays blocked',
  description:
    "Finds the run's held sync in lastmile.sync_runs, prints its frozen plan and the guardrails that tripped, signals its " +
    "workflow on the environment's Temporal and waits up to 30 s until the rejection is recorded. The destination keeps " +
    'what it had; the next run plans again from what it acknowledged. A sync that is not held is refused with its state, exit 1.',
  arguments: [{ name: 'run', description: 'the run id (as lastmile syncs shows it), or its first 8 or more characters' }],
  options: DECISION_OPTIONS,
  env: true,
  json: true,
  examples: ['lastmile reject 0193a1b2 --reason "scores out of range: upstream bug"'],
  handler: (args) => decide('reject', args),
});

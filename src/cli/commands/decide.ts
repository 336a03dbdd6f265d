import os from 'node:os';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type pg from 'pg';
import { resolveEnvironment, type ResolvedEnvironment } from '../../config/resolve.js';
import { UnavailableError } from '../../errors.js';
import type { SyncRunState } from '../../reverse-etl/freeze.js';
import type { Project } from '../../runtime/project.js';
import { openWarehouse, stopEmbeddedPostgres } from '../../runtime/warehouse.js';
import { connectClient } from '../../temporal/connect.js';
import { resolveTemporal, temporalAnswers, type TemporalTarget } from '../../temporal/resolve.js';
import { approveSyncSignal, rejectSyncSignal } from '../../../workflows/reverse-etl.js';
import type { SyncDecisionInput } from '../../../workflows/types.js';
import { CommandFailure, EXIT, UsageError } from '../exit-codes.js';
import type { Output } from '../output.js';
import { utc } from './read-store.js';
import { findSyncRuns, plannedText, RUN_PREFIX_MIN, stateStory, trippedVerdicts, type SyncRunRecord } from './sync-log.js';

export interface DecideOptions {
  env: string;
  decision: 'approve' | 'reject';
  /** the run id, or a unique prefix of RUN_PREFIX_MIN characters or more */
  run: string;
  target?: string;
  by?: string;
  reason?: string;
  /** how long to wait for the workflow to record the decision (default 30 s) */
  waitMs?: number;
}

/** Where `lastmile dev` (or `lastmile devserver`) in another terminal serves Temporal. */
const LOCAL_TEMPORAL = '127.0.0.1:7233';

/**
 * `lastmile approve <run>` / `lastmile reject <run>`: finds the held sync of the run in `lastmile.sync_runs`, says what
 * is decided on (the frozen plan's counts, the guardrails that tripped), signals its workflow and waits until the
 * workflow has recorded the decision. Exit 0 once recorded; 1 when the sync is not held, its workflow is gone, or
 * the decision did not land in time.
 */
export async function decideCommand(project: Project, options: DecideOptions, out: Output): Promise<number> {
  const env = resolveEnvironment(project.config, options.env);
  const warehouse = await openWarehouse(env, { root: project.root, seed: false });
  try {
    const run = await heldSync(warehouse.pool, env.name, options);
    const by = options.by ?? userName();
    const verb = options.decision === 'approve' ? 'approving' : 'rejecting';
    const tripped = trippedVerdicts(run);
    const plan = { counts: run.counts, batches: run.batches, planned: plannedText(run.counts), tripped: tripped.map((v) => ({ guardrail: v.guardrail, message: v.message })) };
    if (!out.json) {
      out.print(`${verb} the held sync of run ${run.runId}: ${run.product}/${run.target} in ${env.name} → ${run.destination} (${run.mode})`);
      out.print(`  plan: ${plan.planned} in ${run.batches} batch${run.batches === 1 ? '' : 'es'}, frozen ${utc(run.createdAt)} UTC`);
      for (const v of tripped) out.print(`  held by ${v.guardrail}: ${v.message}`);
    }
    if (!run.workflowId) throw new CommandFailure(`the held sync of run ${run.runId} records no workflow id, so there is no workflow to signal`);
    const temporal = await runningTemporal(env);
    out.note(`temporal: ${temporal.describe}`);
    const { connection, client } = await connectClient(temporal);
    try {
      await signalWorkflow(client, run.workflowId, options.decision, { by, ...(options.reason !== undefined && { reason: options.reason }) }, temporal);
      out.note(`signalled ${options.decision === 'approve' ? 'approveSync' : 'rejectSync'} to ${run.workflowId}; waiting for the workflow to record the decision`);
      const after = await waitOffHeld(warehouse.pool, run.runId, run.target, options.waitMs ?? 30_000);
      if (!after) {
        const pollers = await pollerCount(client, temporal);
        throw new CommandFailure(
          `the ${options.decision === 'approve' ? 'approval' : 'rejection'} reached workflow ${run.workflowId}, but after ${Math.round((options.waitMs ?? 30_000) / 1000)} s the sync of run ${run.runId} is still held` +
            (pollers === 0 ? `: no worker polls ${temporal.taskQueue} on ${temporal.address} — start lastmile dev or lastmile worker --env ${env.name}, and the workflow records it` : `; the workflow records it when its worker gets to it (lastmile syncs ${run.product} shows the state)`),
        );
      }
      const recorded = recordedAs(options.decision, after.state);
      if (out.json) {
        out.printJson({
          env: env.name,
          runId: run.runId,
          product: run.product,
          target: run.target,
          workflowId: run.workflowId,
          decision: options.decision === 'approve' ? 'approved' : 'rejected',
          by,
          reason: options.reason ?? null,
          plan,
          destination: run.destination,
          recorded,
          state: after.state,
          decidedBy: after.decidedBy,
          decisionReason: after.decisionReason,
        });
      } else {
        out.print(recorded ? `${words(after)}` : `the decision was not the one asked for: the sync of run ${run.runId} is ${stateStory(after)}`);
      }
      return recorded ? EXIT.ok : EXIT.failed;
    } finally {
      await connection.close().catch(() => undefined);
      await temporal.stop();
    }
  } finally {
    await warehouse.close();
    await stopEmbeddedPostgres(project.root);
  }
}

/** The one held sync `options.run` names in `env`, or a failure saying what state it is in (or that it does not exist). */
async function heldSync(pool: pg.Pool, env: string, options: DecideOptions): Promise<SyncRunRecord> {
  const found = await findSyncRuns(pool, options.run);
  const here = found.filter((r) => r.env === env);
  if (here.length === 0) {
    const elsewhere = found[0];
    if (elsewhere) throw new CommandFailure(`run ${options.run} is a sync of ${elsewhere.product}/${elsewhere.target} in ${elsewhere.env}, not in ${env}: add --env ${elsewhere.env}`);
    const held = await pool.query<{ run_id: string; product: string; target: string }>(
      `select run_id, product, target from lastmile.sync_runs where env = $1 and state = 'held' order by created_at desc limit 5`,
      [env],
    );
    const short = options.run.length < RUN_PREFIX_MIN ? ` (a run id may be shortened to no fewer than ${RUN_PREFIX_MIN} characters)` : '';
    const listed = held.rows.length > 0 ? `the held syncs in ${env} are ${held.rows.map((r) => `${r.run_id} (${r.product}/${r.target})`).join(', ')}` : `no sync is held in ${env}`;
    throw new CommandFailure(`no sync run ${options.run} in ${env}${short}; ${listed}`);
  }
  const ids = [...new Set(here.map((r) => r.runId))];
  if (ids.length > 1) throw new UsageError(`${options.run} is the start of several sync runs in ${env}: ${ids.join(', ')}; give more of the run id`);
  let candidates = here;
  if (options.target !== undefined) {
    candidates = here.filter((r) => r.target === options.target);
    if (candidates.length === 0) throw new UsageError(`run ${ids[0]} has no sync of a target ${options.target}; it synced ${here.map((r) => r.target).join(', ')}`);
  }
  const held = candidates.filter((r) => r.state === 'held');
  if (held.length > 1) throw new UsageError(`run ${ids[0]} holds the syncs of several targets: ${held.map((r) => r.target).join(', ')}; say which with --target`);
  if (held[0]) return held[0];
  const states = candidates.map((r) => `${candidates.length > 1 || here.length > 1 ? `${r.target}: ` : ''}${stateStory(r)}`);
  throw new CommandFailure(`the sync of run ${ids[0]} (${candidates[0]!.product}/${candidates.map((r) => r.target).join(', ')} in ${env}) is not held, so there is nothing to ${options.decision}: it is ${states.join('; ')}`);
}

/**
 * The Temporal the environment's workflows run on, without starting one: its address variable (or TEMPORAL_ADDRESS),
 * else the server `lastmile dev` or `lastmile devserver` serves on 127.0.0.1:7233. A server started here would hold
 * no workflow to signal.
 */
async function runningTemporal(env: ResolvedEnvironment): Promise<TemporalTarget> {
  const addressVar = env.temporal.kind === 'remote' ? env.temporal.addressEnv : 'TEMPORAL_ADDRESS';
  if (env.temporal.kind === 'remote' || process.env[addressVar]) return await resolveTemporal(env);
  if (await temporalAnswers(LOCAL_TEMPORAL)) {
    return {
      source: 'running-devserver',
      address: LOCAL_TEMPORAL,
      namespace: env.temporal.namespace,
      taskQueue: env.temporal.taskQueue,
      describe: `the Temporal server already running at ${LOCAL_TEMPORAL}, namespace ${env.temporal.namespace}`,
      stop: async () => undefined,
    };
  }
  throw new UnavailableError(
    `no Temporal server runs for ${env.name}: nothing answers on ${LOCAL_TEMPORAL} and ${addressVar} is not set. The held sync waits in its workflow; ` +
      `start lastmile dev (or lastmile devserver) in another terminal, or set ${addressVar} to the environment's Temporal, and decide again.`,
  );
}

async function signalWorkflow(client: Client, workflowId: string, decision: DecideOptions['decision'], input: SyncDecisionInput, temporal: TemporalTarget): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new CommandFailure(`the workflow of this sync, ${workflowId}, does not exist on ${temporal.describe}: nothing can apply or record the decision there (is this the environment's Temporal?)`);
    }
    throw error;
  }
  if (status !== 'RUNNING') {
    throw new CommandFailure(`the workflow of this sync, ${workflowId}, is closed (${status.toLowerCase()}): it no longer waits for a decision, so nothing was ${decision === 'approve' ? 'approved' : 'rejected'}`);
  }
  await handle.signal(decision === 'approve' ? approveSyncSignal : rejectSyncSignal, input);
}

/** Polls the run's state until it leaves `held` (the workflow recorded a decision), or `undefined` after `timeoutMs`. */
async function waitOffHeld(pool: pg.Pool, runId: string, target: string, timeoutMs: number): Promise<SyncRunRecord | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = (await findSyncRuns(pool, runId)).find((r) => r.runId === runId && r.target === target);
    if (run && run.state !== 'held') return run;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** True when the state the run moved to is the decision asked for (an approved sync goes on to apply). */
function recordedAs(decision: DecideOptions['decision'], state: SyncRunState): boolean {
  return decision === 'approve' ? ['approved', 'applying', 'applied', 'failed'].includes(state) : state === 'rejected';
}

function words(run: SyncRunRecord): string {
  const by = run.decidedBy ? ` by ${run.decidedBy}` : '';
  const reason = run.decisionReason ? ` (${run.decisionReason})` : '';
  if (run.state === 'rejected') return `rejected${by}${reason}: nothing is sent to ${run.destination}; the run stays blocked (state rejected)`;
  if (run.state === 'applied') return `approved${by}${reason}: the frozen plan was applied to ${run.destination} (state applied)`;
  if (run.state === 'failed') return `approved${by}${reason}, but applying the plan failed${run.outcome?.error ? `: ${run.outcome.error}` : ''} (state failed)`;
  return `approved${by}${reason}: the workflow applies the frozen plan to ${run.destination} (state ${run.state}; lastmile syncs ${run.product} shows how it went)`;
}

async function pollerCount(client: Client, temporal: TemporalTarget): Promise<number | undefined> {
  try {
    const described = await client.workflowService.describeTaskQueue({ namespace: temporal.namespace, taskQueue: { name: temporal.taskQueue }, taskQueueType: 1 });
    return (described.pollers ?? []).length;
  } catch {
    return undefined;
  }
}

/** The OS user deciding, for `decided_by` when --by is not given. */
function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

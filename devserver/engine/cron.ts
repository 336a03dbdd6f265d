/**
 * Cron workflows (cron_schedule on a start): the first run's first workflow task waits for the next cron time, and
 * when a run closes — completed, or failed / timed out once its retry policy gives up — the next run starts, its first
 * task waiting for the next cron time. The closing event names the next run (new_execution_run_id), and the next run
 * gets the last successful result (and the failure, when the run failed). Cancel and terminate end the chain.
 * Cron times are UTC unless the expression starts with CRON_TZ=<zone>.
 */
import { ScheduleSpecError, type CompiledSpec } from '../../calendar/index.js';
import { invalid } from '../errors.js';
import { api, type Failure, type Payloads } from '../proto.js';
import { canonicalizeSpec, compileCanonical } from '../schedules/canonical.js';
import type { Execution } from './execution.js';

/** What the cron chain needs of the engine (kept structural so this file does not import engine.ts). */
export interface CronHost {
  now(): number;
  prepareNextRun(ex: Execution): {
    runId: string;
    start(o: { attempt: number; delayMs: number; failure?: Failure | null; lastCompletionResult?: Payloads | null; initiator: number }): unknown;
  };
}

const compiled = new Map<string, CompiledSpec>();

function compileCron(expr: string): CompiledSpec {
  let spec = compiled.get(expr);
  if (!spec) {
    spec = compileCanonical(canonicalizeSpec({ cronString: [expr] }));
    if (compiled.size > 1000) compiled.clear();
    compiled.set(expr, spec);
  }
  return spec;
}

/** Refuses a cron_schedule that does not parse, naming the field. */
export function checkCronSchedule(expr: string): void {
  try {
    const spec = compileCron(expr);
    if (!spec.next(new Date())) throw new ScheduleSpecError('it never matches a future time');
  } catch (error) {
    if (error instanceof ScheduleSpecError) throw invalid(`cron_schedule ${JSON.stringify(expr)} is not valid: ${error.message}`);
    throw error;
  }
}

/** Milliseconds from `fromMs` to the next cron time strictly after it (0 when the schedule has no more times). */
export function cronBackoffMs(expr: string, fromMs: number): number {
  const next = compileCron(expr).next(new Date(fromMs));
  return next ? Math.max(0, next.getTime() - fromMs) : 0;
}

/**
 * Reserves the next run of a cron chain when `ex` closes without a retry; undefined when `ex` is not a cron
 * workflow (or its execution timeout has passed). `start` creates the run once the close event is written.
 */
export function cronContinuation(
  engine: CronHost,
  ex: Execution,
): { runId: string; start: (o: { result?: Payloads | null; failure?: Failure | null }) => void } | undefined {
  const expr = ex.s.cronSchedule;
  // A cancel request ends the chain even when the run completes anyway.
  if (!expr || ex.s.cancelRequested) return undefined;
  const now = engine.now();
  if (ex.s.executionExpiresAt > 0 && now >= ex.s.executionExpiresAt) return undefined;
  const started = ex.events?.[0]?.workflowExecutionStartedEventAttributes;
  const previousResult = (started?.lastCompletionResult ?? null) as Payloads | null;
  const next = engine.prepareNextRun(ex);
  return {
    runId: next.runId,
    start: (o) => {
      next.start({
        attempt: 1,
        delayMs: cronBackoffMs(expr, engine.now()),
        failure: o.failure ?? null,
        lastCompletionResult: o.result ?? previousResult,
        initiator: api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE,
      });
    },
  };
}

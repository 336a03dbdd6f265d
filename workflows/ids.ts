/** Workflow and schedule ids (pure functions: used by workflows and by clients alike). */

/** The target name used in ids and search attributes when a run serves every target of a product. */
export const ALL_TARGETS = 'all';

/** `lastmile/<env>/<product>/<target>/<runKey>`: one run of a product (target `all`) or of one of its targets. */
export function workflowId(env: string, product: string, target: string, runKey: string): string {
  return `lastmile/${env}/${product}/${target}/${runKey}`;
}

/**
 * `lastmile/<env>/<product>/<target>/<runKey>/<kind>`: the child workflow serving one target of a run (distinct from
 * the run itself, which has the same prefix when it serves that one target).
 */
export function targetWorkflowId(env: string, product: string, target: string, runKey: string, kind: string): string {
  return `${workflowId(env, product, target, runKey)}/${kind}`;
}

/** `lastmile/<env>/<product>/<target>`: the schedule that serves one target on its cron. */
export function scheduleId(env: string, product: string, target: string): string {
  return `lastmile/${env}/${product}/${target}`;
}

/** A sortable, readable run key: UTC time to the second plus a short suffix (from a random or a run id). */
export function runKeyOf(time: Date, suffix: string): string {
  const stamp = time.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${suffix.replace(/[^a-z0-9]/gi, '').slice(0, 6).toLowerCase()}`;
}

/** The target name an SLO monitor carries in its id and search attributes. */
export const MONITOR_TARGET = 'slo-monitor';

/** `lastmile/<env>/<product>/slo-monitor`: the long-running workflow watching a product's SLOs between runs. */
export function monitorId(env: string, product: string): string {
  return `lastmile/${env}/${product}/${MONITOR_TARGET}`;
}

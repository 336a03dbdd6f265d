/**
 * Serving kinds and the child workflow each one registers. A kind appears in SERVING_WORKFLOWS when its workflow
 * ships; until then `serveProduct` records its targets as skipped, saying so.
 */
export type ServingKind = 'files' | 'share' | 'dashboard' | 'reverseEtl';

export const SERVING_WORKFLOWS: Readonly<Partial<Record<ServingKind, string>>> = { files: 'fileExchange', dashboard: 'dashboardRefresh', share: 'dataSharing', reverseEtl: 'reverseEtlSync' };

export function servingWorkflow(kind: ServingKind): string | undefined {
  return SERVING_WORKFLOWS[kind];
}

/** Why a target of this kind cannot be served, or undefined when it can. */
export function unservable(kind: ServingKind): string | undefined {
  return servingWorkflow(kind) ? undefined : `this version of lastmile cannot serve '${kind}' targets yet`;
}

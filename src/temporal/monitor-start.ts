/** How an SLO monitor workflow is started: by `lastmile dev` (src/deploy/monitors.ts) and by a run that finds none. */
import type { Product } from '../product/model.js';
import type { SloMonitorInput } from '../../workflows/types.js';
import { MONITOR_TARGET, monitorId, runSearchAttributes } from './names.js';

export function monitorStartOptions(env: string, product: Product, taskQueue: string, since: Date) {
  const input: SloMonitorInput = { env, product: product.name, since: since.toISOString() };
  return {
    workflowId: monitorId(env, product.name),
    taskQueue,
    args: [input] as [SloMonitorInput],
    typedSearchAttributes: runSearchAttributes({ product: product.name, env, target: MONITOR_TARGET, owner: product.owner.team }),
    memo: { description: `SLO monitor of ${product.name} in ${env}` },
  };
}

/** Every activity the lastmile worker registers, bound to the worker's serving context. */
import type { ServingContext } from '../src/runtime/serving-context.js';
import { createCheckActivities } from './checks/check-activities.js';
import { withFailureTypes } from './core/failures.js';
import { createCoreActivities } from './core/run-activities.js';
import { createDashboardActivities } from './dashboards/dashboard-activities.js';
import { createFileActivities } from './files/file-activities.js';
import { createLineageActivities } from './lineage/lineage-activities.js';
import { createReverseEtlActivities } from './reverse-etl/reverse-etl-activities.js';
import { createSharingActivities } from './sharing/sharing-activities.js';
import { createMonitorActivities } from './slo/monitor-activities.js';
import { createRunSloActivities } from './slo/run-slis.js';

export function createActivities(ctx: ServingContext) {
  return withFailureTypes({
    ...createCoreActivities(ctx),
    ...createCheckActivities(ctx),
    ...createRunSloActivities(ctx),
    ...createMonitorActivities(ctx),
    ...createFileActivities(ctx),
    ...createDashboardActivities(ctx),
    ...createSharingActivities(ctx),
    ...createReverseEtlActivities(ctx),
    ...createLineageActivities(ctx),
  });
}

export type Activities = ReturnType<typeof createActivities>;

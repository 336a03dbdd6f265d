/** Every activity the lastmile worker registers, bound to the worker's serving context. */
import type { ServingContext } from '../src/runtime/serving-context.js';
import { createCoreActivities } from './core/run-activities.js';

export function createActivities(ctx: ServingContext) {
  return {
    ...createCoreActivities(ctx),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * The BI tools a dashboard target calls in an environment (src/config/places.ts): a tool whose URL is written in the
 * product is called where the environment's `destinations` send it, or as written in production; any other
 * environment does not call another environment's tool. A URL held in `secret(...)` is read where each environment's
 * worker runs, so every environment names its own.
 */
import { placeOf } from '../../config/places.js';
import type { ResolvedEnvironment } from '../../config/resolve.js';
import type { BiTool } from '../../product/targets.js';
import { toolName } from './call.js';

export type ToolIn = { tool: BiTool } | { notCalled: string };

export function toolIn(env: Pick<ResolvedEnvironment, 'name' | 'production' | 'destinations'>, tool: BiTool): ToolIn {
  if (typeof tool.url !== 'string') return { tool };
  const place = placeOf(env, tool.url);
  if (place.how === 'own') {
    return {
      notCalled: `${toolName(tool)} at ${tool.url} is the production environment's; ${env.name} calls it only when environments.${env.name}.destinations maps that URL (to a tool of ${env.name}'s own)`,
    };
  }
  return { tool: { ...tool, url: place.to } as BiTool };
}

/** The lineage settings of one environment: its own `lineage` merged over the top-level one, defaults filled in. */
import type { Config, LineageSpec } from '../config/spec.js';
import { LINEAGE_TIMEOUT } from '../config/schema.js';
import type { SecretRef } from '../product/secret.js';
import { durationMs } from '../time/duration.js';

export const LINEAGE_ENDPOINT = 'api/v1/lineage';

export interface ResolvedLineage {
  /** where events are POSTed: `<url>/<endpoint>` */
  readonly endpoint: string;
  /** the OpenLineage job namespace of the environment's runs */
  readonly namespace: string;
  readonly apiKey?: SecretRef;
  readonly timeoutMs: number;
}

/** The environment's lineage, or undefined when it emits none (no `lineage` block, or `enabled: false`). */
export function lineageOf(config: Pick<Config, 'lineage' | 'environments'>, env: string): ResolvedLineage | undefined {
  const own: LineageSpec | undefined = (config.environments as Record<string, { lineage?: LineageSpec } | undefined>)[env]?.lineage;
  const merged: LineageSpec = { ...config.lineage, ...own };
  if (merged.enabled === false || merged.url === undefined) return undefined;
  const base = merged.url.replace(/\/+$/, '');
  const path = (merged.endpoint ?? LINEAGE_ENDPOINT).replace(/^\/+/, '');
  return {
    endpoint: `${base}/${path}`,
    namespace: merged.namespace ?? `lastmile/${env}`,
    ...(merged.apiKey && { apiKey: merged.apiKey }),
    timeoutMs: durationMs(merged.timeout ?? LINEAGE_TIMEOUT),
  };
}

/** How messages name the receiver: its origin and path (the URL holds no credentials: validation refuses them). */
export function receiverLabel(lineage: ResolvedLineage): string {
  const url = new URL(lineage.endpoint);
  return `the lineage receiver ${url.origin}${url.pathname}`;
}

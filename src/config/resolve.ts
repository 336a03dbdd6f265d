import { ValidationError } from '../product/problems.js';
import type { SecretRef } from '../product/secret.js';
import type { SchemaMap } from '../product/source.js';
import { didYouMean, listOf } from '../text/suggest.js';
import type { SeedDefinition } from '../warehouse/seeding/spec.js';
import type { Config } from './spec.js';

export type ResolvedWarehouse =
  /** `seed`: what the embedded warehouse is seeded with (the config's seed; none when the config names none). */
  | { readonly kind: 'embedded'; readonly schemas: SchemaMap; readonly seed?: SeedDefinition }
  | { readonly kind: 'url'; readonly urlEnv: string; readonly schemas: SchemaMap };

export type ResolvedTemporal =
  | { readonly kind: 'embedded'; readonly namespace: string; readonly taskQueue: string }
  | { readonly kind: 'remote'; readonly addressEnv: string; readonly namespace: string; readonly taskQueue: string; readonly apiKey?: SecretRef };

/** One environment with every default filled in. */
export interface ResolvedEnvironment<E extends string = string> {
  readonly name: E;
  readonly warehouse: ResolvedWarehouse;
  readonly temporal: ResolvedTemporal;
  /** Position in the promotion order (-1 when the environment is not promoted to), and its neighbours. */
  readonly promotion: { readonly index: number; readonly previous?: E; readonly next?: E };
  /** The last environment of `promotion`: it writes to the places products declare (see `destinations`). */
  readonly production: boolean;
  /** Declared place (prefix) → this environment's place. */
  readonly destinations: Readonly<Record<string, string>>;
}

/**
 * The environment `name` of a configuration, with defaults: embedded warehouse (seeded with the config's seed) and
 * Temporal, namespace `default`, task queue `lastmile-<env>`.
 */
export function resolveEnvironment<E extends string>(config: Config<E>, name: NoInfer<E> | (string & {})): ResolvedEnvironment<E> {
  const names = Object.keys(config.environments) as E[];
  if (!names.includes(name as E)) {
    throw new ValidationError([
      {
        file: config.file,
        path: 'environments',
        message: `unknown environment '${name}'`,
        fix: `${didYouMean(name, names)}Use one of ${listOf(names, 'or')}, or declare it in lastmile.config.ts.`,
      },
    ]);
  }
  const envName = name as E;
  const env = config.environments[envName];
  const schemas = env.warehouse.schemas;
  const namespace = env.temporal.namespace ?? 'default';
  const taskQueue = env.temporal.taskQueue ?? `lastmile-${envName}`;
  const index = config.promotion.indexOf(envName);
  return {
    name: envName,
    warehouse: env.warehouse.urlEnv
      ? { kind: 'url', urlEnv: env.warehouse.urlEnv, schemas }
      : { kind: 'embedded', schemas, ...(config.seed && { seed: config.seed }) },
    temporal: env.temporal.addressEnv
      ? { kind: 'remote', addressEnv: env.temporal.addressEnv, namespace, taskQueue, ...(env.temporal.apiKey && { apiKey: env.temporal.apiKey }) }
      : { kind: 'embedded', namespace, taskQueue },
    promotion: {
      index,
      ...(index > 0 && { previous: config.promotion[index - 1] }),
      ...(index >= 0 && index < config.promotion.length - 1 && { next: config.promotion[index + 1] }),
    },
    production: index >= 0 && index === config.promotion.length - 1,
    destinations: env.destinations ?? {},
  };
}

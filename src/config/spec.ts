import { brand, CONFIG_BRAND, hasBrand } from '../product/brand.js';
import type { DurationText } from '../time/duration.js';
import type { SecretRef } from '../product/secret.js';
import type { SeedDefinition } from '../warehouse/seeding/spec.js';

export interface WarehouseSpec {
  /** Name of the environment variable holding the warehouse URL; absent means the embedded Postgres. */
  readonly urlEnv?: string;
  /** Logical schema → physical schema in this environment, e.g. `{ marts: 'marts_test' }`. */
  readonly schemas?: Readonly<Record<string, string>>;
}

export interface TemporalSpec {
  /** Name of the environment variable holding the Temporal address (`host:port`); absent means the embedded server. */
  readonly addressEnv?: string;
  /** Default `default`. */
  readonly namespace?: string;
  /** Default `lastmile-<env>`. */
  readonly taskQueue?: string;
  /** API key (Temporal Cloud), from the environment. */
  readonly apiKey?: SecretRef;
}

/** How an alert webhook's body is shaped: lastmile's JSON event, or a Slack incoming-webhook message. */
export type AlertWebhookFormat = 'json' | 'slack';

export interface AlertWebhookSpec {
  /** Where alerts are POSTed; usually `secret('ALERT_WEBHOOK_URL')`, since webhook URLs embed a token. */
  readonly url: string | SecretRef;
  /** Default `json`. */
  readonly format?: AlertWebhookFormat;
  /** How long one POST may take. Default `10s`. */
  readonly timeout?: DurationText;
}

/** Where the alerts of an environment go: the worker's log (on unless `log: false`) and an optional webhook. */
export interface AlertsSpec {
  /** Default `true`. */
  readonly log?: boolean;
  readonly webhook?: AlertWebhookSpec;
}

export interface MonitorSpec {
  /** How often the SLO monitor re-evaluates the products of the environment between runs. Default `5m`. */
  readonly interval?: DurationText;
}

/** How the environment's data shares work: the salt of keyed-hash masks (`secret(...)`, one per environment). */
export interface SharingSpec {
  readonly salt?: SecretRef;
}

/**
 * Where OpenLineage run events go (docs/lineage.md): every run emits START and COMPLETE / FAIL / ABORT, POSTed to
 * `<url>/<endpoint>` (Marquez: `http://localhost:5000` + `api/v1/lineage`). Written at the top of the config for every
 * environment, and per environment to override fields of it (`enabled: false` turns it off there).
 */
export interface LineageSpec {
  /** Base URL of the OpenLineage HTTP endpoint, e.g. `'http://marquez.internal:5000'`; no credentials in it. */
  readonly url?: string;
  /** Path under `url` the events are POSTed to. Default `api/v1/lineage` (Marquez, the OpenLineage HTTP transport). */
  readonly endpoint?: string;
  /** The OpenLineage job namespace of the environment's runs. Default `lastmile/<env>`. */
  readonly namespace?: string;
  /** Sent as a bearer token: `secret('LINEAGE_API_KEY')`. */
  readonly apiKey?: SecretRef;
  /** How long one POST may take. Default `10s`. */
  readonly timeout?: DurationText;
  /** Default `true`; `false` turns lineage off (e.g. in one environment). */
  readonly enabled?: boolean;
}

export interface EnvironmentSpec {
  readonly warehouse?: WarehouseSpec;
  readonly sharing?: SharingSpec;
  /**
   * Where this environment writes what products declare: a declared place, or the start of one (a folder such as
   * `'./exchange/'`, a bucket URL such as `'s3://exchange/'`, a BI tool's URL) → this environment's own place; the
   * longest matching prefix wins. What no entry maps: the production environment (the last in `promotion`) writes
   * where the product says, every other one into its own folder, `.lastmile/<env>/…` (a bucket becomes a local
   * stand-in there, and BI tools are not called) — so dev and test never touch prod's places.
   */
  readonly destinations?: Readonly<Record<string, string>>;
  readonly temporal?: TemporalSpec;
  readonly alerts?: AlertsSpec;
  readonly monitor?: MonitorSpec;
  /** Overrides fields of the top-level `lineage` for this environment. */
  readonly lineage?: LineageSpec;
}

/** The project configuration: environments and the order products are promoted through them. */
export interface ConfigSpec<E extends string = string> {
  readonly environments: { readonly [K in E]: EnvironmentSpec };
  /** Environments in promotion order, e.g. `['dev', 'test', 'prod']`. */
  readonly promotion: readonly NoInfer<E>[];
  /**
   * The module whose default export (`defineSeed(...)`) every embedded warehouse is seeded with, relative to the
   * project root, e.g. `'./seed/retailer/index.ts'`. Without it, embedded warehouses start empty.
   */
  readonly seed?: string;
  /** OpenLineage events of every environment's runs (each environment may override fields under its own `lineage`). */
  readonly lineage?: LineageSpec;
}

export type ConfigDefinition<E extends string = string> = ConfigSpec<E> & { readonly [CONFIG_BRAND]: true };

/** Declares the project configuration (`lastmile.config.ts`). Validated by `loadConfig`, which reports every problem. */
export function defineConfig<const E extends string>(spec: ConfigSpec<E>): ConfigDefinition<E> {
  return brand(spec, CONFIG_BRAND) as ConfigDefinition<E>;
}

export function isConfigDefinition(value: unknown): value is ConfigDefinition {
  return hasBrand(value, CONFIG_BRAND);
}

/** A validated configuration. */
export interface Config<E extends string = string> {
  readonly environments: { readonly [K in E]: Environment };
  readonly promotion: readonly E[];
  /** Absolute path of the module it was loaded from. */
  readonly file?: string;
  /** `seed` as written: the seed module, relative to the project root. */
  readonly seedModule?: string;
  /** The seed that module declares (loaded by `loadConfig`); applied to embedded warehouses. */
  readonly seed?: SeedDefinition;
  /** `lineage` as written at the top (environments merge their own over it: src/lineage/config.ts). */
  readonly lineage?: LineageSpec;
}

export interface Environment {
  readonly warehouse: { readonly urlEnv?: string; readonly schemas: Readonly<Record<string, string>> };
  readonly destinations: Readonly<Record<string, string>>;
  readonly sharing?: SharingSpec;
  readonly temporal: TemporalSpec;
  readonly alerts: EnvironmentAlerts;
  readonly monitor: { readonly interval: DurationText };
  readonly lineage?: LineageSpec;
}

/** The alert channels of a validated environment, defaults filled in. */
export interface EnvironmentAlerts {
  readonly log: boolean;
  readonly webhook?: { readonly url: string | SecretRef; readonly format: AlertWebhookFormat; readonly timeout: DurationText };
}
